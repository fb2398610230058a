//! The results of calls into the component, as host results: the one conversion from the
//! WIT error to [`StoreError`], and [`flatten`] for a call that may also trap.

use crate::error::{ErrorKind, StoreError};
use crate::runtime::bindings::wit_types;

/// The one conversion from the WIT error to the host error, case by case from the
/// component crate's table (`kloset_oci::with_wit_error_cases`).
impl From<wit_types::Error> for StoreError {
    fn from(err: wit_types::Error) -> Self {
        macro_rules! from_case {
            ($($case:ident),*) => {
                match err {
                    $(wit_types::Error::$case(m) => (ErrorKind::$case, m),)*
                }
            };
        }
        let (kind, message) = kloset_oci::with_wit_error_cases!(from_case);
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
