//! Cases on the store itself: create, open, description, options.

use kloset_oci_host::{ErrorKind, Kind};

use super::fixture::CONFIG;
use super::objects::expect_error;
use super::Fixture;

pub async fn create_twice_keeps_first_config(fx: &Fixture) {
    let location = fx.location();
    let mut store = fx.created_store(&location).await;
    let err = expect_error(
        store.create(b"_KLOSET_second").await,
        ErrorKind::AlreadyExists,
        "create twice",
    );
    assert!(!err.message.is_empty(), "the error names no cause");
    assert_eq!(store.open().await.expect("open"), CONFIG);
    // Another instance sees the first config and is refused too.
    let mut other = fx.connect(&location).await;
    expect_error(
        other.create(b"_KLOSET_third").await,
        ErrorKind::AlreadyExists,
        "create from another instance",
    );
    assert_eq!(other.open().await.expect("open"), CONFIG);
}

pub async fn open_without_store(fx: &Fixture) {
    let mut store = fx.connect(&fx.location()).await;
    expect_error(
        store.open().await,
        ErrorKind::NotFound,
        "open without a store",
    );
}

pub async fn list_without_store(fx: &Fixture) {
    let mut store = fx.connect(&fx.location()).await;
    for kind in [Kind::Packfile, Kind::State, Kind::Lock] {
        expect_error(
            store.list(kind).await,
            ErrorKind::NotFound,
            "list without a store",
        );
    }
}

pub async fn description(fx: &Fixture) {
    let location = fx.location();
    let mut store = fx.created_store(&location).await;
    let rest = location.strip_prefix("oci://").unwrap();
    let (authority, path) = rest.split_once('/').unwrap();
    assert_eq!(store.origin().await.unwrap(), authority);
    assert_eq!(store.store_type().await.unwrap(), "oci");
    assert_eq!(store.root().await.unwrap(), path);
    assert_eq!(store.flags().await.unwrap(), 0);
    assert_eq!(store.mode().await.unwrap().to_string(), "read,write");
    assert_eq!(store.size().await.unwrap(), -1);
    store.ping().await.expect("ping");
    store.close().await.expect("close");
}

pub async fn unknown_option_is_invalid_config(fx: &Fixture) {
    let mut options = fx.options();
    options.push(("no_such_option".to_string(), "secret-value-42".to_string()));
    let location = fx.location();
    match fx.backend.connect(&location, &options).await {
        Err(e) => {
            assert_eq!(e.kind, ErrorKind::InvalidConfig, "{e}");
            assert!(
                !e.message.contains("secret-value-42"),
                "the error shows the option's value: {e}"
            );
        }
        Ok(_) => panic!("connect accepted an unknown option"),
    }
    let bad = vec![("plain_http".to_string(), "maybe".to_string())];
    let err = fx
        .backend
        .connect(&location, &bad)
        .await
        .err()
        .expect("plain_http=maybe accepted");
    assert_eq!(err.kind, ErrorKind::InvalidConfig, "{err}");
}
