//! Basic authentication (distribution's htpasswd) through the library: the conformance
//! suite with the right credentials, and right, wrong and missing credentials one by one.
//! No message or `Debug` output of a failure shows the password.

use crate::common::auth::{self, PASSWORD, USER};
use crate::suite::Setup;
use kloset_oci_host::{ErrorKind, Kind, StoreError};

static HTPASSWD: Setup = Setup::new(
    "distribution-htpasswd",
    auth::start_htpasswd,
    auth::basic_options,
);

crate::conformance_suite!(distribution_htpasswd, &crate::basic_auth::HTPASSWD);

fn options(user: &str, password: &str) -> Vec<(String, String)> {
    vec![
        ("username".to_string(), user.to_string()),
        ("password".to_string(), password.to_string()),
    ]
}

#[track_caller]
fn unauthorized(result: Result<impl std::fmt::Debug, StoreError>, secret: &str) {
    let err = result.expect_err("the registry let us in");
    assert_eq!(err.kind, ErrorKind::Unauthorized, "{err}");
    assert!(!err.message.is_empty());
    for shown in [err.to_string(), format!("{err:?}")] {
        assert!(!shown.contains(secret), "{shown}");
    }
}

#[test]
fn right_wrong_and_missing_credentials() {
    crate::suite::fixture::run_case(&HTPASSWD, "right_wrong_missing", |fx| {
        Box::pin(async move {
            let location = fx.location();
            let mut store = fx.created_store(&location).await;
            store.ping().await.expect("ping with the right password");
            store
                .put_bytes(Kind::Lock, &[7; 32], b"locked")
                .await
                .expect("put");

            let wrong_password = format!("{PASSWORD}-but-wrong");
            let mut wrong = fx
                .backend
                .connect(&location, &options(USER, &wrong_password))
                .await
                .expect("connect makes no request");
            unauthorized(wrong.ping().await, &wrong_password);
            unauthorized(wrong.open().await, &wrong_password);
            unauthorized(
                wrong.get_bytes(Kind::Lock, &[7; 32], None).await,
                &wrong_password,
            );

            let mut unknown_user = fx
                .backend
                .connect(&location, &options("nobody", PASSWORD))
                .await
                .unwrap();
            unauthorized(unknown_user.list(Kind::Lock).await, PASSWORD);

            let mut anonymous = fx.backend.connect(&location, &[]).await.unwrap();
            unauthorized(anonymous.ping().await, PASSWORD);
            unauthorized(
                anonymous.put_bytes(Kind::Lock, &[8; 32], b"x").await,
                PASSWORD,
            );

            // The refused attempts changed nothing.
            assert_eq!(store.list(Kind::Lock).await.unwrap(), vec![[7; 32]]);
        })
    });
}
