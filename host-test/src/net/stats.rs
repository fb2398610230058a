//! Counts of the HTTP requests a store's component made, shared between the HTTP hook and
//! the store handle.

use std::sync::atomic::{AtomicU64, Ordering};

use http::Method;

/// Live counters, updated by the HTTP hook.
#[derive(Debug, Default)]
pub struct RequestCounters {
    get: AtomicU64,
    head: AtomicU64,
    post: AtomicU64,
    put: AtomicU64,
    patch: AtomicU64,
    delete: AtomicU64,
    other: AtomicU64,
    refused: AtomicU64,
    bytes_sent: AtomicU64,
    bytes_received: AtomicU64,
}

/// A snapshot of [`RequestCounters`]. Refused requests (another authority) are counted
/// only in `refused`; the per-method counts are requests sent to the registry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestStats {
    pub get: u64,
    pub head: u64,
    pub post: u64,
    pub put: u64,
    pub patch: u64,
    pub delete: u64,
    pub other: u64,
    pub refused: u64,
    /// Request body bytes handed to the connection.
    pub bytes_sent: u64,
    /// Response body bytes read from the connection.
    pub bytes_received: u64,
}

impl RequestStats {
    /// Requests sent to the registry, of every method.
    pub fn requests(&self) -> u64 {
        self.get + self.head + self.post + self.put + self.patch + self.delete + self.other
    }

    /// The counts since `earlier`, a snapshot taken before.
    pub fn since(&self, earlier: &RequestStats) -> RequestStats {
        RequestStats {
            get: self.get - earlier.get,
            head: self.head - earlier.head,
            post: self.post - earlier.post,
            put: self.put - earlier.put,
            patch: self.patch - earlier.patch,
            delete: self.delete - earlier.delete,
            other: self.other - earlier.other,
            refused: self.refused - earlier.refused,
            bytes_sent: self.bytes_sent - earlier.bytes_sent,
            bytes_received: self.bytes_received - earlier.bytes_received,
        }
    }
}

impl RequestCounters {
    pub(crate) fn count_request(&self, method: &Method) {
        let counter = match *method {
            Method::GET => &self.get,
            Method::HEAD => &self.head,
            Method::POST => &self.post,
            Method::PUT => &self.put,
            Method::PATCH => &self.patch,
            Method::DELETE => &self.delete,
            _ => &self.other,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count_refused(&self) {
        self.refused.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn add_sent(&self, n: usize) {
        self.bytes_sent.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub(crate) fn add_received(&self, n: usize) {
        self.bytes_received.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> RequestStats {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        RequestStats {
            get: load(&self.get),
            head: load(&self.head),
            post: load(&self.post),
            put: load(&self.put),
            patch: load(&self.patch),
            delete: load(&self.delete),
            other: load(&self.other),
            refused: load(&self.refused),
            bytes_sent: load(&self.bytes_sent),
            bytes_received: load(&self.bytes_received),
        }
    }
}
