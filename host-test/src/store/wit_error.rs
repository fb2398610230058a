//! The results of calls into the component, as host results: the one conversion from the
//! WIT error to [`StoreError`], and [`flatten`] for a call that may also trap.

use crate::error::{ErrorKind, StoreError};
use crate::runtime::bindings::wit_types;

/// The one conversion from the WIT error to the host error.
impl From<wit_types::Error> for StoreError {
    fn from(err: wit_types::Error) -> Self {
        use wit_types::Error as E;
        let (kind, message) = match err {
            E::NotFound(m) => (ErrorKind::NotFound, m),
            E::AlreadyExists(m) => (ErrorKind::AlreadyExists, m),
            E::Unsupported(m) => (ErrorKind::Unsupported, m),
            E::Unauthorized(m) => (ErrorKind::Unauthorized, m),
            E::Denied(m) => (ErrorKind::Denied, m),
            E::InvalidConfig(m) => (ErrorKind::InvalidConfig, m),
            E::InvalidArgument(m) => (ErrorKind::InvalidArgument, m),
            E::OutOfRange(m) => (ErrorKind::OutOfRange, m),
            E::RateLimited(m) => (ErrorKind::RateLimited, m),
            E::Transient(m) => (ErrorKind::Transient, m),
            E::Protocol(m) => (ErrorKind::Protocol, m),
            E::Tls(m) => (ErrorKind::Tls, m),
            E::Other(m) => (ErrorKind::Other, m),
        };
        StoreError { kind, message }
    }
}

/// Flattens the result of a call into the component: a trap is a `Host` error, a WIT error
/// converts through `From<wit_types::Error>`.
pub(crate) fn flatten<T>(
    context: &str,
    res: wasmtime::Result<Result<T, wit_types::Error>>,
) -> Result<T, StoreError> {
    match res {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(e.into()),
        Err(trap) => Err(StoreError::from_wasmtime(context, trap)),
    }
}
