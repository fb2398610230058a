//! Token authentication against distribution's `auth.token`, trusting the harness's token
//! service (real ES256 JWTs): anonymous pull, push and delete scopes, a token lacking
//! `delete`, and tokens that expire mid-run. The store reaches the token realm only because
//! the registry named it in its challenge. And the conformance suite on that setup.

use crate::common::auth::{self, material, PASSWORD, USER};
use crate::common::registry::Registry;
use crate::common::token_service::{Policy, TokenService};
use crate::suite::Setup;
use kloset_oci_host::{Backend, ErrorKind, Kind};

fn policy(user_actions: &[&str], anonymous: &[&str], lifetime_secs: u64) -> Policy {
    Policy {
        user: Some((USER.into(), PASSWORD.into())),
        user_actions: Policy::actions(user_actions),
        anonymous_actions: Policy::actions(anonymous),
        lifetime_secs,
    }
}

/// Distribution with token auth, trusting a token service (kept alive by the registry) that
/// grants the user pull, push and delete.
fn start_token_registry() -> Registry {
    let service = TokenService::start(
        &material().pki,
        policy(&["pull", "push", "delete"], &[], 300),
    );
    auth::start_token(&service).keeping(service)
}

static TOKEN: Setup = Setup::new(
    "distribution-token",
    start_token_registry,
    auth::basic_options,
);

crate::conformance_suite!(distribution_token, &crate::token_auth::TOKEN);

/// The suite's registry is the token setup: its cases got their tokens from the service.
#[test]
fn the_suite_registry_asks_for_tokens() {
    crate::suite::fixture::run_case(&TOKEN, "suite_registry_tokens", |fx| {
        Box::pin(async move {
            let mut store = fx.fresh_store().await;
            store.ping().await.expect("ping");
            let service = TOKEN
                .shared
                .get()
                .and_then(|r| r.companion::<TokenService>())
                .expect("the shared registry keeps its token service");
            assert!(service.requests() > 0, "no token was asked for");
            assert!(store.layer_stats().await.unwrap().credential_renewals > 0);
        })
    });
}

fn run(body: impl std::future::Future<Output = ()>) {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(body);
}

fn backend() -> Backend {
    Backend::load_default().unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn push_pull_delete_and_anonymous_pull() {
    let service = TokenService::start(
        &material().pki,
        policy(&["pull", "push", "delete"], &["pull"], 300),
    );
    let registry = auth::start_token(&service);
    let location = format!("oci://{}/token/full", registry.authority());
    run(async {
        let backend = backend();
        let mut store = backend
            .connect(&location, &auth::basic_options())
            .await
            .unwrap();
        store
            .create(b"cfg")
            .await
            .expect("create with a pull,push token");
        store
            .put_bytes(Kind::Packfile, &[1; 32], b"packed")
            .await
            .expect("put");
        store
            .put_bytes(Kind::Lock, &[2; 32], b"lock")
            .await
            .expect("put");
        assert_eq!(
            store
                .get_bytes(Kind::Packfile, &[1; 32], None)
                .await
                .unwrap(),
            b"packed"
        );
        store
            .delete(Kind::Lock, &[2; 32])
            .await
            .expect("delete with a delete token");
        assert!(store.list(Kind::Lock).await.unwrap().is_empty());
        assert!(service
            .served()
            .iter()
            .all(|s| s.with_credentials && s.status == 200));

        // Anonymous: pull is granted, push is not.
        let mut anonymous = backend.connect(&location, &[]).await.unwrap();
        assert_eq!(anonymous.open().await.unwrap(), b"cfg");
        assert_eq!(
            anonymous
                .get_bytes(Kind::Packfile, &[1; 32], None)
                .await
                .unwrap(),
            b"packed"
        );
        let err = anonymous
            .put_bytes(Kind::Lock, &[3; 32], b"x")
            .await
            .expect_err("anonymous push");
        assert!(
            matches!(err.kind, ErrorKind::Denied | ErrorKind::Unauthorized),
            "{err}"
        );
        assert!(service.served().iter().any(|s| !s.with_credentials));
    });
}

#[test]
fn a_token_without_delete_is_denied_naming_delete() {
    let service = TokenService::start(&material().pki, policy(&["pull", "push"], &[], 300));
    let registry = auth::start_token(&service);
    let location = format!("oci://{}/token/no-delete", registry.authority());
    run(async {
        let mut store = backend()
            .connect(&location, &auth::basic_options())
            .await
            .unwrap();
        store.create(b"cfg").await.unwrap();
        store
            .put_bytes(Kind::Lock, &[4; 32], b"lock")
            .await
            .unwrap();
        let err = store
            .delete(Kind::Lock, &[4; 32])
            .await
            .expect_err("deleted without delete");
        assert_eq!(err.kind, ErrorKind::Denied, "{err}");
        assert!(err.message.contains("delete"), "{err}");
        assert!(!err.message.contains(PASSWORD), "{err}");
        assert_eq!(store.list(Kind::Lock).await.unwrap(), vec![[4; 32]]);
    });
}

#[test]
fn tokens_expiring_mid_run_are_renewed() {
    let service = TokenService::start(&material().pki, policy(&["pull", "push"], &[], 1));
    let registry = auth::start_token(&service);
    let location = format!("oci://{}/token/expiry", registry.authority());
    run(async {
        let mut store = backend()
            .connect(&location, &auth::basic_options())
            .await
            .unwrap();
        store.create(b"cfg").await.unwrap();
        for round in 0..3u8 {
            let before = service.requests();
            // Past the 1 s lifetime (the registry checks `exp` in whole seconds).
            tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
            store
                .put_bytes(Kind::State, &[round; 32], &[round; 100])
                .await
                .expect("put after expiry");
            assert_eq!(
                store
                    .get_bytes(Kind::State, &[round; 32], None)
                    .await
                    .unwrap(),
                vec![round; 100]
            );
            assert!(
                service.requests() > before,
                "round {round}: no new token was asked for"
            );
        }
        let stats = store.layer_stats().await.unwrap();
        assert!(stats.credential_renewals > 0, "{stats:?}");
    });
}
