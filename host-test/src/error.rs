//! The host-side error, the one error type of every module of this crate: the WIT `error`
//! variant's cases, plus `Host` for failures of the host itself (loading the component, a
//! trap). The WIT error is converted in one place, `From<wit_types::Error>` in
//! `store/wit_error.rs`; host failures become strings, so no foreign error type leaks. This
//! module uses no other of the crate.

use std::fmt;

/// What went wrong, mirroring the cases of the WIT `error` variant, plus [`ErrorKind::Host`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    NotFound,
    AlreadyExists,
    Unsupported,
    Unauthorized,
    Denied,
    InvalidConfig,
    InvalidArgument,
    OutOfRange,
    RateLimited,
    Transient,
    Protocol,
    /// The TLS connection to the registry failed: its certificate is not trusted (see
    /// `--ca-file`) or the handshake failed. Not worth retrying.
    Tls,
    Other,
    /// A failure of the host: the component file is missing or invalid, the component
    /// trapped, or local I/O failed.
    Host,
}

impl ErrorKind {
    /// The kind in words, as used by `Display`: "not found", "out of range", ...
    pub fn words(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "not found",
            ErrorKind::AlreadyExists => "already exists",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::Denied => "denied",
            ErrorKind::InvalidConfig => "invalid config",
            ErrorKind::InvalidArgument => "invalid argument",
            ErrorKind::OutOfRange => "out of range",
            ErrorKind::RateLimited => "rate limited",
            ErrorKind::Transient => "transient",
            ErrorKind::Protocol => "protocol",
            ErrorKind::Tls => "tls",
            ErrorKind::Other => "other",
            ErrorKind::Host => "host",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.words())
    }
}

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

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

impl std::error::Error for StoreError {}
