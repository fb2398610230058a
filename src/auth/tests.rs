//! The auth layer against scripted registries and token services.

use std::rc::Rc;
use std::time::Duration;

use super::secret::Credentials;
use super::Auth;
use crate::encoding::base64_encode;
use crate::error::ErrorKind;
use crate::http::{send, Method, Request, Response};
use crate::testing::{Answer, FakeClock, Scripted};

const REGISTRY: &str = "https://registry.example:5000";
const URL: &str = "https://registry.example:5000/v2/r/manifests/t";
const PASSWORD: &str = "s3cret-pa55word";

fn alice() -> Credentials {
    Credentials::from_options(Some("alice"), Some(PASSWORD), None).unwrap()
}

fn layer(t: &Scripted, credentials: Credentials) -> (Auth, Rc<FakeClock>) {
    let clock = Rc::new(FakeClock::default());
    (
        Auth::new(t.boxed(), REGISTRY, "r", credentials, clock.clone()),
        clock,
    )
}

fn get(auth: &Auth, method: Method) -> crate::error::Result<Response> {
    send(auth, Request::new(method, URL))
}

/// The registry asks for Basic credentials, then takes them.
fn expect_basic_challenge_then_200(t: &Scripted) {
    t.expect(
        Method::Get,
        URL,
        Answer::new(401).header("www-authenticate", r#"Basic realm="Registry""#),
    );
    t.expect(Method::Get, URL, Answer::new(200));
}

fn bearer_challenge(scope: &str) -> Answer {
    Answer::new(401).header(
        "www-authenticate",
        &format!(r#"Bearer realm="https://auth.example/token",service="reg",scope="{scope}""#),
    )
}

fn token(value: &str) -> Answer {
    Answer::new(200).body(format!(r#"{{"token":"{value}","expires_in":300}}"#))
}

fn jwt(actions: &str) -> String {
    let claims =
        format!(r#"{{"access":[{{"type":"repository","name":"r","actions":[{actions}]}}]}}"#);
    format!(
        "e30.{}.c2ln",
        base64_encode(claims.as_bytes()).trim_end_matches('=')
    )
}

#[test]
fn basic_credentials_answer_a_basic_challenge_then_go_on_every_request() {
    let t = Scripted::default();
    let (auth, _) = layer(&t, alice());
    expect_basic_challenge_then_200(&t);
    t.expect(Method::Get, URL, Answer::new(200));
    assert_eq!(get(&auth, Method::Get).unwrap().status, 200);
    assert_eq!(get(&auth, Method::Get).unwrap().status, 200);
    let seen = t.seen();
    let basic = format!(
        "Basic {}",
        base64_encode(format!("alice:{PASSWORD}").as_bytes())
    );
    assert_eq!(
        seen[0].header("authorization"),
        None,
        "nothing is sent before the registry asks"
    );
    assert_eq!(seen[1].header("authorization"), Some(basic.as_str()));
    assert_eq!(seen[2].header("authorization"), Some(basic.as_str()));
}

#[test]
fn a_wrong_password_is_unauthorized_and_never_quoted() {
    let t = Scripted::default();
    let (auth, _) = layer(&t, alice());
    let challenge = Answer::new(401).header("www-authenticate", "Basic realm=x");
    t.expect(Method::Get, URL, challenge.clone());
    t.expect(
        Method::Get,
        URL,
        challenge.body(format!("bad password {PASSWORD}")),
    );
    let e = get(&auth, Method::Get).err().unwrap();
    assert_eq!(e.kind, ErrorKind::Unauthorized);
    assert!(!e.message.contains(PASSWORD), "{}", e.message);
}

#[test]
fn bearer_tokens_are_fetched_cached_and_cover_a_whole_put() {
    let t = Scripted::default();
    let (auth, _) = layer(&t, alice());
    t.expect(Method::Get, URL, bearer_challenge("repository:r:pull"));
    t.expect(
        Method::Get,
        "/token?service=reg&scope=repository%3Ar%3Apull",
        token("t-pull"),
    );
    t.expect(Method::Get, URL, Answer::new(200));
    t.expect(Method::Get, URL, Answer::new(200));
    assert_eq!(get(&auth, Method::Get).unwrap().status, 200);
    assert_eq!(get(&auth, Method::Get).unwrap().status, 200);
    // A write needs push: one token for pull,push, asked for before the first write request.
    t.expect(
        Method::Get,
        "scope=repository%3Ar%3Apull%2Cpush",
        token("t-push"),
    );
    t.expect(Method::Post, URL, Answer::new(202));
    t.expect(Method::Put, URL, Answer::new(201));
    t.expect(Method::Get, URL, Answer::new(200));
    assert_eq!(get(&auth, Method::Post).unwrap().status, 202);
    assert_eq!(get(&auth, Method::Put).unwrap().status, 201);
    assert_eq!(get(&auth, Method::Get).unwrap().status, 200);
    let seen = t.seen();
    let basic = format!(
        "Basic {}",
        base64_encode(format!("alice:{PASSWORD}").as_bytes())
    );
    assert_eq!(
        seen[1].header("authorization"),
        Some(basic.as_str()),
        "the realm gets the credentials"
    );
    let auths: Vec<Option<&str>> = seen.iter().map(|s| s.header("authorization")).collect();
    assert_eq!(auths[2..4], [Some("Bearer t-pull"), Some("Bearer t-pull")]);
    assert_eq!(
        auths[5..8],
        [
            Some("Bearer t-push"),
            Some("Bearer t-push"),
            Some("Bearer t-pull")
        ]
    );
    assert_eq!(t.remaining(), 0);
}

#[test]
fn an_expired_or_rejected_token_is_replaced_once() {
    let t = Scripted::default();
    let (auth, clock) = layer(&t, Credentials::Anonymous);
    t.expect(Method::Get, URL, bearer_challenge("repository:r:pull"));
    t.expect(Method::Get, "/token?", token("t1"));
    t.expect(Method::Get, URL, Answer::new(200));
    get(&auth, Method::Get).unwrap();
    assert_eq!(
        t.seen()[1].header("authorization"),
        None,
        "anonymous token request"
    );
    clock.advance(Duration::from_secs(300));
    t.expect(Method::Get, "/token?", token("t2"));
    t.expect(Method::Get, URL, Answer::new(200));
    get(&auth, Method::Get).unwrap();
    assert_eq!(
        t.seen()[4].header("authorization"),
        Some("Bearer t2"),
        "expired: renewed before use"
    );
    t.expect(Method::Get, URL, bearer_challenge("repository:r:pull"));
    t.expect(Method::Get, "/token?", token("t3"));
    t.expect(Method::Get, URL, Answer::new(200));
    get(&auth, Method::Get).unwrap();
    assert_eq!(
        t.seen()[7].header("authorization"),
        Some("Bearer t3"),
        "rejected: renewed once"
    );
    t.expect(Method::Get, URL, bearer_challenge("repository:r:pull"));
    t.expect(Method::Get, "/token?", token("t4"));
    t.expect(Method::Get, URL, bearer_challenge("repository:r:pull"));
    assert_eq!(
        get(&auth, Method::Get).err().unwrap().kind,
        ErrorKind::Unauthorized,
        "only once"
    );
}

#[test]
fn a_token_without_the_delete_action_is_denied_naming_it() {
    let t = Scripted::default();
    let (auth, _) = layer(&t, alice());
    t.expect(Method::Delete, URL, bearer_challenge("repository:r:delete"));
    t.expect(
        Method::Get,
        "scope=repository%3Ar%3Adelete",
        token(&jwt(r#""pull","push""#)),
    );
    let e = get(&auth, Method::Delete).err().unwrap();
    assert_eq!(e.kind, ErrorKind::Denied);
    assert!(e.message.contains("\"delete\""), "{}", e.message);
}

#[test]
fn a_token_response_without_a_token_is_a_clear_error() {
    let t = Scripted::default();
    let (auth, _) = layer(&t, alice());
    t.expect(Method::Get, URL, bearer_challenge("repository:r:pull"));
    t.expect(
        Method::Get,
        "/token?",
        Answer::new(200).body(r#"{"expires_in":60}"#),
    );
    let e = get(&auth, Method::Get).err().unwrap();
    assert_eq!(e.kind, ErrorKind::Protocol);
    let t = Scripted::default();
    let (auth, _) = layer(&t, alice());
    t.expect(Method::Get, URL, bearer_challenge("repository:r:pull"));
    t.expect(
        Method::Get,
        "/token?",
        Answer::new(401).body(format!("no such user alice:{PASSWORD}")),
    );
    let e = get(&auth, Method::Get).err().unwrap();
    assert_eq!(e.kind, ErrorKind::Unauthorized);
    assert!(!e.message.contains(PASSWORD));
}

#[test]
fn credentials_never_reach_another_host() {
    let t = Scripted::default();
    let (auth, _) = layer(&t, alice());
    t.expect(
        Method::Get,
        URL,
        Answer::new(401).header("www-authenticate", "Basic realm=x"),
    );
    t.expect(Method::Get, URL, Answer::new(200));
    get(&auth, Method::Get).unwrap();
    let storage = "https://storage.example/blob?sig=1";
    t.expect(
        Method::Get,
        storage,
        Answer::new(401).header("www-authenticate", "Basic realm=x"),
    );
    let request = Request::new(Method::Get, storage).header("authorization", "Basic leaked");
    assert_eq!(send(&auth, request).unwrap().status, 401);
    assert_eq!(t.seen()[2].header("authorization"), None);
}

#[test]
fn an_identity_token_goes_only_to_the_realm() {
    let t = Scripted::default();
    let credentials = Credentials::from_options(None, None, Some("identity-tok")).unwrap();
    let (auth, _) = layer(&t, credentials);
    t.expect(Method::Get, URL, bearer_challenge("repository:r:pull"));
    t.expect(
        Method::Post,
        "https://auth.example/token",
        Answer::new(200).body(r#"{"access_token":"acc"}"#),
    );
    t.expect(Method::Get, URL, Answer::new(200));
    get(&auth, Method::Get).unwrap();
    let seen = t.seen();
    assert_eq!(
        seen[0].header("authorization"),
        None,
        "the identity token is not the registry's"
    );
    let form = String::from_utf8(seen[1].body.clone()).unwrap();
    assert!(
        form.contains("grant_type=refresh_token") && form.contains("refresh_token=identity-tok"),
        "{form}"
    );
    assert_eq!(seen[2].header("authorization"), Some("Bearer acc"));
}

/// The scheme is part of the registry's origin: `http://` of an https registry's own host
/// gets no credentials, and its 401 is not the registry's word.
#[test]
fn plain_http_on_the_registrys_own_host_gets_no_credentials() {
    let t = Scripted::default();
    let (auth, _) = layer(&t, alice());
    expect_basic_challenge_then_200(&t);
    assert_eq!(get(&auth, Method::Get).unwrap().status, 200);
    let downgraded = URL.replacen("https://", "http://", 1);
    let bearer = r#"Bearer realm="http://evil.example/token",service="reg""#;
    t.expect(
        Method::Get,
        &downgraded,
        Answer::new(401).header("www-authenticate", bearer),
    );
    let answer = send(&auth, Request::new(Method::Get, downgraded.as_str())).unwrap();
    assert_eq!(
        answer.status, 401,
        "passed on, not answered with credentials"
    );
    let seen = t.seen();
    assert_eq!(seen.len(), 3, "no token asked of the realm that 401 named");
    assert_eq!(seen[2].header("authorization"), None);
    // The registry's own https origin still gets its Basic credentials.
    t.expect(Method::Get, URL, Answer::new(200));
    get(&auth, Method::Get).unwrap();
    assert!(t.seen()[3].header("authorization").is_some());
}

/// An https registry naming a plain-http token realm: refused before any credentials go.
#[test]
fn a_plain_http_realm_of_an_https_registry_is_refused() {
    let t = Scripted::default();
    let (auth, _) = layer(&t, alice());
    let challenge =
        r#"Bearer realm="http://auth.example/token",service="reg",scope="repository:r:pull""#;
    t.expect(
        Method::Get,
        URL,
        Answer::new(401).header("www-authenticate", challenge),
    );
    let e = get(&auth, Method::Get).err().unwrap();
    assert_eq!(e.kind, ErrorKind::Protocol, "{e}");
    assert!(e.message.contains("plain-http token realm"), "{e}");
    assert!(!e.message.contains(PASSWORD), "{e}");
    assert_eq!(t.seen().len(), 1, "nothing sent to the realm");
}
