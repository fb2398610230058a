//! The auth test harness checked against the real registry, without the component: the
//! htpasswd file, the TLS certificates and the token service's JWTs are what distribution
//! 2.8.2 accepts (so a failing auth test points at the store, not at the harness).

use crate::common::auth::{self, material, PASSWORD, USER};
use crate::common::raw_http::{send, send_tls};
use crate::common::token_service::{Policy, TokenService};
use base64::Engine as _;

fn basic(user: &str, password: &str) -> String {
    let pair = format!("{user}:{password}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

#[test]
fn htpasswd_registry_takes_the_right_password_only() {
    let registry = auth::start_htpasswd();
    let authority = registry.authority();
    let anonymous = send("GET", &authority, "/v2/", &[]);
    assert_eq!(anonymous.status, 401);
    let challenge = anonymous.header("www-authenticate").unwrap_or("");
    assert!(challenge.starts_with("Basic"), "{challenge}");
    let right = basic(USER, PASSWORD);
    assert_eq!(
        send("GET", &authority, "/v2/", &[("Authorization", &right)]).status,
        200
    );
    let wrong = basic(USER, "not-the-password");
    assert_eq!(
        send("GET", &authority, "/v2/", &[("Authorization", &wrong)]).status,
        401
    );
}

#[test]
fn tls_registry_is_trusted_through_the_harness_ca_only() {
    let registry = auth::start_tls();
    let authority = registry.authority();
    let ca = material().pki.ca_der.clone();
    let response = send_tls("GET", &authority, "/v2/", &[ca]).expect("TLS with the harness CA");
    assert_eq!(response.status, 200, "{response:?}");
    // Another CA is not trusted: the handshake fails on the certificate.
    let other_dir = tempfile::tempdir().unwrap();
    let other = crate::common::pki::Pki::create(other_dir.path());
    let err = send_tls("GET", &authority, "/v2/", &[other.ca_der]).expect_err("trusted");
    assert!(err.to_lowercase().contains("certificate"), "{err}");
}

#[test]
fn token_registry_verifies_the_service_tokens_and_their_actions() {
    let pki = &material().pki;
    let service = TokenService::start(
        pki,
        Policy {
            user: Some((USER.into(), PASSWORD.into())),
            user_actions: Policy::actions(&["pull", "push"]),
            anonymous_actions: Policy::actions(&["pull"]),
            lifetime_secs: 60,
        },
    );
    let registry = auth::start_token(&service);
    let authority = registry.authority();

    let challenge = send("GET", &authority, "/v2/", &[]);
    assert_eq!(challenge.status, 401);
    let header = challenge
        .header("www-authenticate")
        .unwrap_or("")
        .to_string();
    assert!(
        header.contains(&format!("realm=\"{}\"", service.realm())),
        "{header}"
    );

    // The service itself: anonymous pull, a wrong password refused.
    let realm_authority = service
        .realm()
        .trim_start_matches("http://")
        .trim_end_matches("/token")
        .to_string();
    let path =
        "/token?service=kloset-test-registry&scope=repository%3Aharness%2Frepo%3Apull%2Cpush";
    let anonymous = send("GET", &realm_authority, path, &[]);
    assert_eq!(anonymous.status, 200, "{anonymous:?}");
    assert!(anonymous.body.contains("\"token\""), "{}", anonymous.body);
    let wrong = send(
        "GET",
        &realm_authority,
        path,
        &[("Authorization", &basic(USER, "nope"))],
    );
    assert_eq!(wrong.status, 401);
    assert_eq!(service.requests(), 2);
    assert_eq!(
        service.served()[0].scopes,
        vec!["repository:harness/repo:pull,push".to_string()]
    );

    let bearer = |actions: &[&str]| {
        format!(
            "Bearer {}",
            service.issue(Some(USER), "repository:harness/repo:x", actions)
        )
    };
    let tags = "/v2/harness/repo/tags/list";
    // A valid pull token reaches the repository (404: nothing pushed yet, but not 401).
    let pulled = send(
        "GET",
        &authority,
        tags,
        &[("Authorization", &bearer(&["pull"]))],
    );
    assert_eq!(pulled.status, 404, "{pulled:?}");
    // Without pull, or with a token for another repository, it is 401.
    let pushed_only = send(
        "GET",
        &authority,
        tags,
        &[("Authorization", &bearer(&["push"]))],
    );
    assert_eq!(pushed_only.status, 401);
    let elsewhere = format!(
        "Bearer {}",
        service.issue(Some(USER), "repository:other/repo:x", &["pull"])
    );
    assert_eq!(
        send("GET", &authority, tags, &[("Authorization", &elsewhere)]).status,
        401
    );
    // DELETE asks for the delete action.
    let delete = send(
        "DELETE",
        &authority,
        "/v2/harness/repo/manifests/sha256:0000000000000000000000000000000000000000000000000000000000000000",
        &[("Authorization", &bearer(&["pull", "push"]))],
    );
    assert_eq!(delete.status, 401, "{delete:?}");
    let asked = delete.header("www-authenticate").unwrap_or("");
    assert!(asked.contains("delete"), "{asked}");
}
