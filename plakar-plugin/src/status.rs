//! Store errors as gRPC statuses. Plakar shows the user the status message only (its client
//! keeps the code just for Canceled and Unavailable, which it prints as "I/O error
//! communicating with the integration (...)"), so every message says what failed and what
//! to do. Transient failures are Unavailable. A message never holds a credential: the
//! component and the host library name none.

use kloset_oci_host::{ErrorKind, StoreError};
use tonic::{Code, Status};

/// `error` of the call `doing` ("put packfile 0a1b...", "open") on the store `location`.
pub fn to_status(doing: &str, location: &str, error: StoreError) -> Status {
    let code = code(error.kind);
    let hint = hint(error.kind, doing, location);
    let message = one_line(&error.message);
    Status::new(
        code,
        format!("kloset-oci: {doing}: {}: {message}{hint}", error.kind),
    )
}

fn code(kind: ErrorKind) -> Code {
    match kind {
        ErrorKind::NotFound => Code::NotFound,
        ErrorKind::AlreadyExists => Code::AlreadyExists,
        ErrorKind::Unsupported => Code::Unimplemented,
        ErrorKind::Unauthorized => Code::Unauthenticated,
        ErrorKind::Denied => Code::PermissionDenied,
        ErrorKind::InvalidConfig | ErrorKind::InvalidArgument => Code::InvalidArgument,
        ErrorKind::OutOfRange => Code::OutOfRange,
        ErrorKind::RateLimited | ErrorKind::Transient => Code::Unavailable,
        ErrorKind::Tls => Code::FailedPrecondition,
        ErrorKind::Protocol => Code::Internal,
        ErrorKind::Other => Code::Unknown,
        ErrorKind::Host => Code::Internal,
    }
}

/// What the user can do, where the error alone does not say.
fn hint(kind: ErrorKind, doing: &str, location: &str) -> String {
    match kind {
        ErrorKind::NotFound if doing == "open" => format!(
            " (no kloset store at {location}: create one with `plakar at {location} create`)"
        ),
        ErrorKind::AlreadyExists if doing == "create" => {
            format!(" (a kloset store already exists at {location}: open it, or choose another repository)")
        }
        ErrorKind::Unauthorized => " (check username= and password= in the store config, \
             or the registry's entry in Docker's config.json)"
            .to_string(),
        ErrorKind::Denied => {
            " (the registry refused: check the account's rights on this repository)".to_string()
        }
        ErrorKind::Transient | ErrorKind::RateLimited => {
            " (the registry is unreachable or busy: check it is running, then try again)"
                .to_string()
        }
        ErrorKind::Tls => {
            " (to trust a private CA, give ca_file=/path/to/ca.pem in the store config)".to_string()
        }
        _ => String::new(),
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_failures_are_unavailable_and_say_what_to_do() {
        let status = to_status(
            "ping",
            "oci://127.0.0.1:1/r",
            StoreError::new(ErrorKind::Transient, "connection refused"),
        );
        assert_eq!(status.code(), Code::Unavailable);
        assert!(
            status.message().contains("connection refused"),
            "{status:?}"
        );
        assert!(status.message().contains("try again"), "{status:?}");
    }

    #[test]
    fn a_missing_store_says_how_to_create_one() {
        let status = to_status(
            "open",
            "oci://127.0.0.1:5000/r",
            StoreError::new(ErrorKind::NotFound, "no store"),
        );
        assert_eq!(status.code(), Code::NotFound);
        assert!(
            status
                .message()
                .contains("plakar at oci://127.0.0.1:5000/r create"),
            "{status:?}"
        );
    }

    #[test]
    fn a_message_is_one_line() {
        let status = to_status(
            "get",
            "oci://h/r",
            StoreError::new(ErrorKind::Protocol, "a\nb\tc"),
        );
        assert_eq!(status.code(), Code::Internal);
        assert!(status.message().ends_with("protocol: a b c"), "{status:?}");
    }
}
