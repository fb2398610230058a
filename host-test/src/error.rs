//! The host-side error, the one error type of every module of this crate: the WIT `error`
//! variant's cases, plus `Host` for failures of the host itself (loading the component, a
//! trap). The WIT error is converted in one place, `From<wit_types::Error>` in
//! `store/wit_error.rs`; the protocol core's errors (a location, a digest parsed in the host)
//! by `From<kloset_oci::error::Error>`; host failures become strings, so no foreign error type
//! leaks. This module uses no other of the crate.

use std::fmt;

/// What went wrong: the component crate's kinds (the WIT `error` variant's cases, plus
/// [`ErrorKind::Host`] for the host's own failures).
pub use kloset_oci::error::ErrorKind;

/// An error from the store or from the host running it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError {
    pub kind: ErrorKind,
    pub message: String,
}

impl StoreError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        StoreError {
            kind,
            message: message.into(),
        }
    }

    /// A failure of the host (wasmtime, I/O), described by `message`.
    pub fn host(message: impl Into<String>) -> Self {
        StoreError::new(ErrorKind::Host, message)
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Wraps a wasmtime error (a trap, a link or compile failure) with what was being done.
    pub(crate) fn from_wasmtime(context: &str, err: wasmtime::Error) -> Self {
        StoreError::host(format!("{context}: {err:#}"))
    }

    /// Wraps a local I/O error with what was being done.
    pub(crate) fn from_io(context: &str, err: std::io::Error) -> Self {
        StoreError::host(format!("{context}: {err}"))
    }
}

impl From<kloset_oci::error::Error> for StoreError {
    fn from(err: kloset_oci::error::Error) -> Self {
        StoreError::new(err.kind, err.message)
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

impl std::error::Error for StoreError {}
