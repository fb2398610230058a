//! Errors of the store, classified first, so a host can act on the kind.
//!
//! Every failure becomes an [`Error`] with one [`ErrorKind`] and a message naming the cause.
//! The kinds map one-to-one onto the WIT `error` variant (but `Host`, the host's own), by
//! the one table [`with_wit_error_cases`].

use std::fmt;

/// What a caller can do about a failure: the one list of error kinds, for the component and
/// for its hosts (the host crate re-exports it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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
    /// The TLS connection failed: an untrusted certificate or a failed handshake. Never
    /// worth retrying.
    Tls,
    Other,
    /// A failure of the host running the component: the component file missing or invalid,
    /// a trap, local I/O. The protocol core never makes it, and it has no case in the WIT
    /// `error` variant ([`with_wit_error_cases`]).
    Host,
}

/// Calls `$callback!` with the kinds that are cases of the WIT `error` variant
/// (`wit/store.wit`), each named as its case: the one table from which both sides' conversions
/// are made, the component's to the WIT type (`component.rs`) and the host's from it
/// (`host-test/src/store/wit_error.rs`). A case added to the WIT and not here, or named
/// otherwise, fails to compile on both sides.
#[macro_export]
macro_rules! with_wit_error_cases {
    ($callback:ident) => {
        $callback! {
            NotFound, AlreadyExists, Unsupported, Unauthorized, Denied, InvalidConfig,
            InvalidArgument, OutOfRange, RateLimited, Transient, Protocol, Tls, Other
        }
    };
}

impl ErrorKind {
    /// Lowercase words for messages, e.g. "not found".
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

/// A classified failure with a message naming its cause.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
        }
    }

    pub fn protocol(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Protocol, message)
    }

    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidArgument, message)
    }

    pub fn invalid_config(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidConfig, message)
    }

    /// The registry's TLS certificate was refused by the host's trust. Never retried: the
    /// same certificate fails the same way again.
    pub fn tls_certificate() -> Self {
        Error::new(
            ErrorKind::Tls,
            "TLS certificate error: the registry's certificate is not trusted (unknown issuer, \
             expired, or not issued for this host name); to trust a private CA, give the host \
             its certificate",
        )
    }

    /// Any other TLS failure (a handshake the two sides could not agree on, an alert from
    /// the server). Never retried.
    pub fn tls(detail: impl fmt::Display) -> Self {
        Error::new(ErrorKind::Tls, format!("TLS error: {detail}"))
    }

    /// Prefixes the message with what was being done, keeping the kind.
    pub fn context(mut self, what: impl fmt::Display) -> Self {
        self.message = format!("{what}: {}", self.message);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.words(), self.message)
    }
}

impl std::error::Error for Error {}

/// Classifies a registry's answer from its status and, where there is one, its error body.
///
/// The OCI error `code` wins over the status where it is more precise (a 400 carrying
/// `NAME_UNKNOWN`, a 401 carrying `DENIED`). Bodies may be absent (HEAD), HTML or empty.
pub fn classify(status: u16, body: &[u8]) -> Error {
    let detail = ErrorBody::parse(body);
    let kind = detail
        .code
        .as_deref()
        .and_then(kind_of_code)
        .unwrap_or_else(|| kind_of_status(status));
    let mut message = format!("registry answered {status}");
    if let Some(code) = &detail.code {
        message.push(' ');
        message.push_str(code);
    }
    if let Some(text) = &detail.message {
        message.push_str(": ");
        message.push_str(text);
    }
    Error::new(kind, message)
}

fn kind_of_status(status: u16) -> ErrorKind {
    match status {
        401 => ErrorKind::Unauthorized,
        403 => ErrorKind::Denied,
        404 => ErrorKind::NotFound,
        405 => ErrorKind::Unsupported,
        408 => ErrorKind::Transient,
        416 => ErrorKind::OutOfRange,
        429 => ErrorKind::RateLimited,
        500..=599 => ErrorKind::Transient,
        _ => ErrorKind::Other,
    }
}

/// Error codes of the distribution spec (section "Error Codes").
fn kind_of_code(code: &str) -> Option<ErrorKind> {
    Some(match code {
        "BLOB_UNKNOWN" | "MANIFEST_UNKNOWN" | "NAME_UNKNOWN" | "BLOB_UPLOAD_UNKNOWN" => {
            ErrorKind::NotFound
        }
        "UNAUTHORIZED" => ErrorKind::Unauthorized,
        "DENIED" => ErrorKind::Denied,
        "UNSUPPORTED" => ErrorKind::Unsupported,
        "TOOMANYREQUESTS" => ErrorKind::RateLimited,
        "NAME_INVALID" => ErrorKind::InvalidConfig,
        "DIGEST_INVALID"
        | "MANIFEST_INVALID"
        | "MANIFEST_BLOB_UNKNOWN"
        | "SIZE_INVALID"
        | "BLOB_UPLOAD_INVALID"
        | "TAG_INVALID" => ErrorKind::Protocol,
        _ => return None,
    })
}

/// The first entry of an OCI error body, or a short printable excerpt of a non-JSON body.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ErrorBody {
    pub code: Option<String>,
    pub message: Option<String>,
}

/// At most this much of a body that is not an OCI error is quoted in a message.
const EXCERPT_CHARS: usize = 120;

#[derive(serde::Deserialize)]
struct Errors {
    errors: Vec<Entry>,
}

#[derive(serde::Deserialize)]
struct Entry {
    code: Option<String>,
    message: Option<String>,
}

impl ErrorBody {
    /// Whether any entry of an OCI error body carries `code` (a registry may answer several:
    /// distribution 2.8 puts `DIGEST_INVALID` before `MANIFEST_BLOB_UNKNOWN`).
    pub fn names_code(body: &[u8], code: &str) -> bool {
        serde_json::from_slice::<Errors>(body).is_ok_and(|parsed| {
            parsed
                .errors
                .iter()
                .any(|e| e.code.as_deref() == Some(code))
        })
    }

    pub fn parse(body: &[u8]) -> ErrorBody {
        if let Ok(parsed) = serde_json::from_slice::<Errors>(body) {
            if let Some(first) = parsed.errors.into_iter().next() {
                return ErrorBody {
                    code: first.code.map(|c| printable(&c)),
                    message: first.message.map(|m| printable(&m)),
                };
            }
        }
        let text = String::from_utf8_lossy(body);
        let text = printable(text.trim());
        ErrorBody {
            code: None,
            message: (!text.is_empty()).then_some(text),
        }
    }
}

/// Keeps a quoted text to one short line of printable characters.
fn printable(text: &str) -> String {
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(EXCERPT_CHARS)
        .collect();
    if text.chars().count() > EXCERPT_CHARS {
        out.push_str("...");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oci_error_body_code_decides_the_kind() {
        let body =
            br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{}}]}"#;
        let e = classify(404, body);
        assert_eq!(e.kind, ErrorKind::NotFound);
        assert_eq!(
            e.message,
            "registry answered 404 MANIFEST_UNKNOWN: manifest unknown"
        );
        assert_eq!(
            classify(400, br#"{"errors":[{"code":"NAME_UNKNOWN"}]}"#).kind,
            ErrorKind::NotFound
        );
        assert_eq!(
            classify(401, br#"{"errors":[{"code":"DENIED"}]}"#).kind,
            ErrorKind::Denied
        );
    }

    #[test]
    fn html_and_empty_bodies_fall_back_to_the_status() {
        let html = b"<html><body><h1>502 Bad Gateway</h1>\n</body></html>";
        let e = classify(502, html);
        assert_eq!(e.kind, ErrorKind::Transient);
        assert!(
            e.message.starts_with("registry answered 502: <html>"),
            "{}",
            e.message
        );
        assert!(!e.message.contains('\n'));
        assert_eq!(classify(404, b"").kind, ErrorKind::NotFound);
        assert_eq!(classify(404, b"").message, "registry answered 404");
        assert_eq!(classify(405, b"").kind, ErrorKind::Unsupported);
        assert_eq!(classify(418, b"").kind, ErrorKind::Other);
    }

    #[test]
    fn server_faults_and_throttling_are_retryable_kinds() {
        for status in [500, 502, 503, 504, 408] {
            assert_eq!(classify(status, b"").kind, ErrorKind::Transient, "{status}");
        }
        assert_eq!(classify(429, b"").kind, ErrorKind::RateLimited);
        let body = br#"{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}"#;
        assert_eq!(classify(403, body).kind, ErrorKind::RateLimited);
    }

    #[test]
    fn huge_error_bodies_are_cut_short() {
        let body = vec![b'x'; 100_000];
        let e = classify(500, &body);
        assert!(e.message.len() < 200, "{}", e.message.len());
        assert!(e.message.ends_with("..."));
    }
}
