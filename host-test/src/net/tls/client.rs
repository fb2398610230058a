//! The https client of the hook: rustls (ring, TLS 1.2 and 1.3, ALPN `http/1.1`) trusting the
//! system's roots plus the certificates of a [`CaBundle`].
//!
//! The system's roots are the OS trust store as `rustls-native-certs` reads it (on Linux the
//! files `openssl-probe` finds, or only `SSL_CERT_FILE` / `SSL_CERT_DIR` when either is set),
//! read once per process. Webpki's built-in roots are never used. A system store that yields
//! no certificate is not papered over: an https request then fails with a message saying so,
//! unless a CA file was given (then the CA file alone is trusted, as documented in README).
//!
//! One [`TlsClient`] exists per trust (system roots, plus which CA certificates), shared by
//! every store and request of the process: the rustls configuration is built once, and pooled
//! connections are keyed by it, so a connection verified under one trust is never lent to a
//! store with another.
//!
//! Handshake failures are classified for wasi:http: a certificate the roots do not accept is
//! `TlsCertificateError`, an alert from the server `TlsAlertReceived`, any other TLS failure
//! `TlsProtocolError`; a connection lost mid-handshake is `ConnectionTerminated`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use sha2::{Digest, Sha256};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;
use wasmtime_wasi_http::Error as HttpError;

use crate::net::tls::trust::CaBundle;

/// Which certificates are trusted: the SHA-256 of the CA file's certificates (`None`: the
/// system's roots alone). Equal trusts share a client and pooled connections.
pub type TrustKey = Option<[u8; 32]>;

/// A rustls client configuration for one trust. Cheap to clone.
#[derive(Clone)]
pub struct TlsClient {
    key: TrustKey,
    /// `Err`: why no https connection can be made (no trust anchor at all).
    connector: Result<TlsConnector, String>,
}

impl TlsClient {
    /// The client trusting the system's roots and `ca`'s certificates, built on first use.
    pub fn for_trust(ca: Option<&CaBundle>) -> TlsClient {
        static CLIENTS: OnceLock<Mutex<HashMap<TrustKey, TlsClient>>> = OnceLock::new();
        let key = ca.map(|bundle| trust_key(bundle.certificates()));
        let clients = CLIENTS.get_or_init(Default::default);
        let mut clients = clients.lock().unwrap_or_else(|e| e.into_inner());
        clients
            .entry(key)
            .or_insert_with(|| TlsClient::build(key, system_roots(), ca))
            .clone()
    }

    fn build(key: TrustKey, system: &SystemRoots, ca: Option<&CaBundle>) -> TlsClient {
        let mut roots = system.roots.clone();
        if let Some(bundle) = ca {
            // CaBundle::load checked that each certificate is a valid trust anchor.
            let (_, rejected) = roots.add_parsable_certificates(bundle.certificates().to_vec());
            debug_assert_eq!(rejected, 0);
        }
        let connector = if roots.is_empty() {
            Err(format!(
                "no trusted certificate for https: the system's certificate store {} and no CA \
                 file was given (--ca-file or -o ca_file=)",
                system.problem()
            ))
        } else {
            config(roots).map(|config| TlsConnector::from(Arc::new(config)))
        };
        TlsClient { key, connector }
    }

    /// What pooled connections of this trust are keyed by.
    pub fn key(&self) -> TrustKey {
        self.key
    }

    /// TLS over `stream` to `authority` (`host:port`), within `limit`.
    pub async fn handshake(
        &self,
        stream: TcpStream,
        authority: &str,
        limit: Duration,
    ) -> Result<TlsStream<TcpStream>, HttpError> {
        let connector = self
            .connector
            .as_ref()
            .map_err(|why| HttpError::InternalError(Some(why.clone())))?;
        let name = server_name(authority)?;
        match tokio::time::timeout(limit, connector.connect(name, stream)).await {
            Ok(Ok(stream)) => Ok(stream),
            Ok(Err(e)) => Err(classify(&e)),
            Err(_) => Err(HttpError::ConnectionTimeout),
        }
    }
}

fn config(roots: RootCertStore) -> Result<ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot set up TLS: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

fn trust_key(certificates: &[CertificateDer<'static>]) -> [u8; 32] {
    let mut hash = Sha256::new();
    for certificate in certificates {
        hash.update((certificate.len() as u64).to_be_bytes());
        hash.update(certificate.as_ref());
    }
    hash.finalize().into()
}

/// The OS trust store, read once per process.
struct SystemRoots {
    roots: RootCertStore,
    /// The errors met while reading it, for the message when it yielded nothing.
    errors: Vec<String>,
}

impl SystemRoots {
    fn problem(&self) -> String {
        if self.errors.is_empty() {
            "holds no certificate".to_string()
        } else {
            format!("could not be read ({})", self.errors.join("; "))
        }
    }
}

fn system_roots() -> &'static SystemRoots {
    static SYSTEM: OnceLock<SystemRoots> = OnceLock::new();
    SYSTEM.get_or_init(|| {
        let found = rustls_native_certs::load_native_certs();
        let mut roots = RootCertStore::empty();
        // A store holds the odd certificate rustls cannot use as an anchor: skip those.
        roots.add_parsable_certificates(found.certs);
        SystemRoots {
            roots,
            errors: found.errors.iter().map(ToString::to_string).collect(),
        }
    })
}

/// The name the certificate must be valid for: the IP address of an IP literal (IPv6 in
/// brackets), else the DNS name without the port.
pub fn server_name(authority: &str) -> Result<ServerName<'static>, HttpError> {
    if let Ok(address) = authority.parse::<std::net::SocketAddr>() {
        return Ok(ServerName::from(address.ip()));
    }
    let host = authority
        .rsplit_once(':')
        .map_or(authority, |(host, _port)| host);
    ServerName::try_from(host.to_string()).map_err(|_| HttpError::HttpRequestUriInvalid)
}

/// A handshake failure as wasi:http classifies it.
fn classify(error: &std::io::Error) -> HttpError {
    let tls = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    match tls {
        Some(rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented) => {
            HttpError::TlsCertificateError
        }
        Some(rustls::Error::AlertReceived(alert)) => HttpError::TlsAlertReceived {
            alert_id: Some(u8::from(*alert)),
            alert_message: Some(format!("{alert:?}")),
        },
        Some(_) => HttpError::TlsProtocolError,
        None => match error.kind() {
            std::io::ErrorKind::InvalidData => HttpError::TlsProtocolError,
            _ => HttpError::ConnectionTerminated,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    #[test]
    fn server_names_are_ip_addresses_or_dns_names() {
        let ip =
            |text: &str| ServerName::IpAddress(text.parse::<std::net::IpAddr>().unwrap().into());
        assert_eq!(server_name("127.0.0.1:5000").unwrap(), ip("127.0.0.1"));
        assert_eq!(server_name("[::1]:443").unwrap(), ip("::1"));
        assert_eq!(
            server_name("registry.example:443").unwrap(),
            ServerName::try_from("registry.example").unwrap()
        );
        assert!(server_name("bad name:443").is_err());
    }

    #[test]
    fn handshake_failures_are_classified() {
        let wrapped = |e: rustls::Error| io::Error::new(io::ErrorKind::InvalidData, e);
        let unknown = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        assert!(matches!(
            classify(&wrapped(unknown)),
            HttpError::TlsCertificateError
        ));
        let alert = rustls::Error::AlertReceived(rustls::AlertDescription::HandshakeFailure);
        match classify(&wrapped(alert)) {
            HttpError::TlsAlertReceived { alert_id, .. } => assert_eq!(alert_id, Some(40)),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            classify(&wrapped(rustls::Error::DecryptError)),
            HttpError::TlsProtocolError
        ));
        let reset = io::Error::from(io::ErrorKind::ConnectionReset);
        assert!(matches!(classify(&reset), HttpError::ConnectionTerminated));
    }

    #[test]
    fn no_trust_anchor_at_all_is_an_error_not_a_fallback() {
        let empty = SystemRoots {
            roots: RootCertStore::empty(),
            errors: vec!["no such directory".into()],
        };
        let client = TlsClient::build(None, &empty, None);
        let why = client.connector.err().expect("a client without roots");
        assert!(
            why.contains("could not be read (no such directory)"),
            "{why}"
        );
        assert!(why.contains("--ca-file"), "{why}");
    }

    /// Without system roots, a CA file alone is a trust (a minimal container with --ca-file).
    #[test]
    fn a_ca_file_alone_is_a_trust() {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca = params.self_signed(&key).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, ca.pem()).unwrap();
        let bundle = CaBundle::load(&path).unwrap();
        let empty = SystemRoots {
            roots: RootCertStore::empty(),
            errors: Vec::new(),
        };
        let key = Some(trust_key(bundle.certificates()));
        let client = TlsClient::build(key, &empty, Some(&bundle));
        assert!(client.connector.is_ok());
        assert_eq!(client.key(), key);
        assert_ne!(
            client.key(),
            None,
            "the CA file's trust is not the system's"
        );
    }
}
