//! https through the host's TLS client, against distribution serving `http.tls` with the
//! harness's certificate (for 127.0.0.1) and htpasswd auth: the conformance suite with the
//! harness CA trusted, Basic auth over TLS (right, wrong and missing credentials), and a
//! certificate the host does not trust (no CA given, or another CA): a TLS-certificate error,
//! not retried, nothing stored.

use crate::common::auth::{self, material, PASSWORD, USER};
use crate::suite::Setup;
use kloset_oci_host::{Backend, CaBundle, ErrorKind, HostSettings, Kind, StoreError};

/// Credentials, and https although the registry is on loopback.
fn tls_options() -> Vec<(String, String)> {
    let mut options = auth::basic_options();
    options.push(("plain_http".to_string(), "false".to_string()));
    options
}

/// The harness CA trusted beside the system's roots.
fn harness_ca() -> HostSettings {
    HostSettings {
        ca: Some(CaBundle::load(&material().pki.ca_file).expect("the harness CA file")),
        ..HostSettings::default()
    }
}

static TLS_HTPASSWD: Setup = Setup::with_settings(
    "distribution-tls-htpasswd",
    auth::start_tls_htpasswd,
    tls_options,
    harness_ca,
);

crate::conformance_suite!(distribution_tls_htpasswd, &crate::tls::TLS_HTPASSWD);

fn options(user: Option<(&str, &str)>) -> Vec<(String, String)> {
    let mut options = vec![("plain_http".to_string(), "false".to_string())];
    if let Some((user, password)) = user {
        options.push(("username".to_string(), user.to_string()));
        options.push(("password".to_string(), password.to_string()));
    }
    options
}

#[track_caller]
fn unauthorized(result: Result<impl std::fmt::Debug, StoreError>, secret: &str) {
    let err = result.expect_err("the registry let us in");
    assert_eq!(err.kind, ErrorKind::Unauthorized, "{err}");
    for shown in [err.to_string(), format!("{err:?}")] {
        assert!(!shown.contains(secret), "{shown}");
    }
}

#[test]
fn basic_auth_over_tls_right_wrong_and_missing_credentials() {
    crate::suite::fixture::run_case(&TLS_HTPASSWD, "tls_right_wrong_missing", |fx| {
        Box::pin(async move {
            let location = fx.location();
            let ca = harness_ca();
            let mut store = fx.created_store(&location).await;
            store.ping().await.expect("ping with the right password");
            store
                .put_bytes(Kind::Lock, &[7; 32], b"locked")
                .await
                .unwrap();

            let wrong_password = format!("{PASSWORD}-but-wrong");
            let mut wrong = fx
                .backend
                .connect_with(&location, &options(Some((USER, &wrong_password))), &ca)
                .await
                .unwrap();
            unauthorized(wrong.ping().await, &wrong_password);
            unauthorized(wrong.open().await, &wrong_password);
            unauthorized(
                wrong.get_bytes(Kind::Lock, &[7; 32], None).await,
                &wrong_password,
            );

            let mut anonymous = fx
                .backend
                .connect_with(&location, &options(None), &ca)
                .await
                .unwrap();
            unauthorized(anonymous.ping().await, PASSWORD);
            unauthorized(
                anonymous.put_bytes(Kind::Lock, &[8; 32], b"x").await,
                PASSWORD,
            );

            // The refused attempts changed nothing.
            assert_eq!(store.list(Kind::Lock).await.unwrap(), vec![[7; 32]]);
            assert_eq!(
                store.get_bytes(Kind::Lock, &[7; 32], None).await.unwrap(),
                b"locked"
            );
        })
    });
}

/// Requires the TLS-certificate error: kind `Tls` (never retried), a message that says so and
/// how to trust a private CA.
#[track_caller]
fn certificate_error(err: StoreError) {
    assert_eq!(err.kind, ErrorKind::Tls, "{err}");
    assert!(err.message.contains("TLS certificate error"), "{err}");
    assert!(
        err.message.contains("give the host its certificate"),
        "{err}"
    );
    assert!(!err.message.contains(PASSWORD), "{err}");
}

async fn refused_once(backend: &Backend, location: &str, settings: &HostSettings) {
    let mut store = backend
        .connect_with(location, &tls_options(), settings)
        .await
        .expect("connect makes no request");
    certificate_error(
        store
            .ping()
            .await
            .expect_err("an untrusted certificate was accepted"),
    );
    let layers = store.layer_stats().await.unwrap();
    assert_eq!(layers.retries, 0, "a certificate error was retried");
    assert_eq!(store.stats().requests(), 1, "{:?}", store.stats());

    let put = store
        .put_bytes(Kind::Lock, &[9; 32], b"must not be stored")
        .await;
    certificate_error(put.expect_err("put over an untrusted connection"));
    assert_eq!(store.layer_stats().await.unwrap().retries, 0);
}

#[test]
fn an_untrusted_certificate_is_a_certificate_error_never_retried() {
    crate::suite::fixture::run_case(&TLS_HTPASSWD, "tls_untrusted", |fx| {
        Box::pin(async move {
            let location = fx.location();
            let mut trusted = fx.created_store(&location).await;

            // No CA: the system's roots do not know the harness CA.
            refused_once(&fx.backend, &location, &HostSettings::default()).await;
            // Another CA than the one that signed the registry's certificate.
            let other_dir = tempfile::tempdir().unwrap();
            let other = crate::common::pki::Pki::create(other_dir.path());
            let other_ca = HostSettings {
                ca: Some(CaBundle::load(&other.ca_file).unwrap()),
                ..HostSettings::default()
            };
            refused_once(&fx.backend, &location, &other_ca).await;

            // Nothing was stored, and the trusted store still works on the same pool.
            assert!(trusted.list(Kind::Lock).await.unwrap().is_empty());
            let missing = trusted.get_bytes(Kind::Lock, &[9; 32], None).await;
            assert_eq!(missing.unwrap_err().kind, ErrorKind::NotFound);
        })
    });
}

/// https connections go back to the backend's keep-alive pool like plain ones.
#[test]
fn tls_connections_are_kept_alive() {
    crate::suite::fixture::run_case(&TLS_HTPASSWD, "tls_keep_alive", |fx| {
        Box::pin(async move {
            // A backend of its own: the shared one's pool serves the other tests meanwhile.
            let backend = Backend::load_default().unwrap_or_else(|e| panic!("{e}"));
            let location = fx.location();
            let mut store = backend
                .connect_with(&location, &fx.options(), &fx.settings())
                .await
                .unwrap();
            store.create(crate::suite::fixture::CONFIG).await.unwrap();
            let before = backend.pool().stats();
            let sent = store.stats();
            for n in 0..10u8 {
                store
                    .put_bytes(Kind::Lock, &[n; 32], &[n; 100])
                    .await
                    .unwrap();
            }
            let requests = store.stats().since(&sent).requests();
            let after = backend.pool().stats();
            let opened = after.connections_opened - before.connections_opened;
            let reused = after.reused - before.reused;
            eprintln!("{requests} https requests: {opened} connections opened, {reused} reused");
            assert!(requests >= 10, "{requests}");
            assert!(reused > 0, "no https connection was reused");
            assert!(
                opened < requests / 2,
                "{opened} connections for {requests} requests"
            );
        })
    });
}

/// Pulling an `oci://` component trusts the same CA file: without it the pull fails on the
/// certificate after one request; with it the registry answers (here: no such manifest).
#[test]
fn a_component_pull_trusts_the_same_ca_file() {
    use kloset_oci_host::{ComponentReference, PullOptions, Puller};
    let registry = auth::start_tls();
    let reference =
        ComponentReference::parse(&format!("oci://{}/tls/component:v1", registry.authority()))
            .unwrap();
    let cache = tempfile::tempdir().unwrap();
    let options = |ca: Option<CaBundle>| PullOptions {
        plain_http: Some(false),
        cache_dir: Some(cache.path().to_path_buf()),
        ca,
        ..PullOptions::default()
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let untrusted = Puller::new(&reference, &options(None)).unwrap();
        let err = untrusted
            .pull()
            .await
            .expect_err("pulled through an untrusted certificate");
        certificate_error(err);
        assert_eq!(untrusted.requests(), 1);

        let ca = harness_ca().ca;
        let trusted = Puller::new(&reference, &options(ca)).unwrap();
        let err = trusted
            .pull()
            .await
            .expect_err("the registry holds no component");
        assert_eq!(err.kind, ErrorKind::NotFound, "{err}");
    });
}
