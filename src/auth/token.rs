//! Bearer tokens: asking a realm for one, reading its answer, and what it grants.

use std::time::Duration;

use crate::encoding::{base64_decode, percent_encode};
use crate::error::{Error, ErrorKind, Result};
use crate::http::{send, Method, Request, Transport};

use super::actions::Actions;
use super::secret::{Credentials, Secret};

/// A token response larger than this is refused.
const TOKEN_BODY_LIMIT: usize = 1 << 20;
/// distribution's default when a token response names no lifetime.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(60);
/// A longer `expires_in` is taken as this: a hostile or broken answer cannot make a token
/// outlive the process, nor overflow the clock's arithmetic (issue: 2^64-1 panicked).
const LONGEST_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);

/// A token and what it was issued for.
#[derive(Clone, Debug)]
pub struct Token {
    pub value: Secret,
    /// The repository actions the token grants, where it says (a JWT `access` claim);
    /// otherwise the actions asked for.
    pub actions: Actions,
    /// After this (on the store's clock) the token is not used any more.
    pub valid_until: Duration,
}

/// Asks `realm` for a token for `scopes`. Credentials go only to the realm the registry named.
pub fn fetch(
    transport: &dyn Transport,
    realm: &str,
    service: Option<&str>,
    scopes: &[String],
    repository: &str,
    credentials: &Credentials,
    now: Duration,
) -> Result<Token> {
    let mut query: Vec<String> = Vec::new();
    if let Some(service) = service {
        query.push(format!("service={}", percent_encode(service)));
    }
    query.extend(
        scopes
            .iter()
            .map(|s| format!("scope={}", percent_encode(s))),
    );
    let request = match credentials {
        // Docker's identity token: an OAuth2 refresh token, POSTed as a form.
        Credentials::Token(token) => {
            query.push("grant_type=refresh_token".to_string());
            query.push("client_id=kloset-oci".to_string());
            query.push(format!("refresh_token={}", percent_encode(token.expose())));
            Request::new(Method::Post, realm)
                .header("content-type", "application/x-www-form-urlencoded")
                .bytes(query.join("&").into_bytes())
        }
        _ => {
            let separator = if realm.contains('?') { '&' } else { '?' };
            let url = if query.is_empty() {
                realm.to_string()
            } else {
                format!("{realm}{separator}{}", query.join("&"))
            };
            let mut request = Request::new(Method::Get, url);
            if let Some(basic) = credentials.basic_header() {
                request.set_header("authorization", basic.expose());
            }
            request
        }
    };
    let response = send(transport, request)?;
    match response.status {
        200 => {}
        // The body of a refusal is not quoted: nothing the realm echoes reaches a message.
        401 | 403 => {
            return Err(Error::new(
                ErrorKind::Unauthorized,
                format!(
                    "the token service refused the credentials ({})",
                    response.status
                ),
            ))
        }
        status => {
            let kind = crate::error::classify(status, b"").kind;
            return Err(Error::new(
                kind,
                format!("the token service answered {status}"),
            ));
        }
    }
    let body = response.read_to_end(TOKEN_BODY_LIMIT)?;
    parse_response(&body, scopes, repository, now)
}

/// `{"token": ..., "access_token": ..., "expires_in": ...}`.
pub fn parse_response(
    body: &[u8],
    scopes: &[String],
    repository: &str,
    now: Duration,
) -> Result<Token> {
    #[derive(serde::Deserialize)]
    struct Answer {
        token: Option<String>,
        access_token: Option<String>,
        expires_in: Option<u64>,
    }
    let answer: Answer = serde_json::from_slice(body).map_err(|_| {
        Error::protocol("the token service answered with something that is not a token response")
    })?;
    let value = answer
        .token
        .or(answer.access_token)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Error::protocol("the token service answered without a token"))?;
    let lifetime = answer
        .expires_in
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_LIFETIME)
        .min(LONGEST_LIFETIME);
    // Stop using a token a little before it expires: a tenth of its life, at most 30 s.
    let margin = (lifetime / 10).min(Duration::from_secs(30));
    let actions =
        granted_actions(&value, repository).unwrap_or_else(|| asked_actions(scopes, repository));
    Ok(Token {
        value: Secret::new(value),
        actions,
        valid_until: now.saturating_add(lifetime - margin),
    })
}

/// The actions a scope list asks for on `repository`.
pub fn asked_actions(scopes: &[String], repository: &str) -> Actions {
    let prefix = format!("repository:{repository}:");
    scopes
        .iter()
        .flat_map(|s| s.split(' '))
        .filter_map(|s| s.strip_prefix(&prefix))
        .flat_map(|a| a.split(','))
        .filter(|a| !a.is_empty())
        .collect()
}

/// The actions a JWT's `access` claim grants on `repository`; `None` for an opaque token.
fn granted_actions(token: &str, repository: &str) -> Option<Actions> {
    #[derive(serde::Deserialize)]
    struct Claims {
        access: Option<Vec<Access>>,
    }
    #[derive(serde::Deserialize)]
    struct Access {
        #[serde(rename = "type")]
        kind: String,
        name: String,
        actions: Vec<String>,
    }
    let payload = token.split('.').nth(1)?;
    let claims: Claims = serde_json::from_slice(&base64_decode(payload)?).ok()?;
    Some(
        claims
            .access?
            .into_iter()
            .filter(|a| a.kind == "repository" && a.name == repository)
            .flat_map(|a| a.actions)
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoding::base64_encode;

    fn jwt(claims: &str) -> String {
        format!(
            "eyJhbGciOiJFUzI1NiJ9.{}.c2ln",
            base64_encode(claims.as_bytes()).trim_end_matches('=')
        )
    }

    #[test]
    fn token_or_access_token_and_lifetimes() {
        let scopes = vec!["repository:r:pull".to_string()];
        let t = parse_response(
            br#"{"token":"abc","expires_in":300}"#,
            &scopes,
            "r",
            Duration::from_secs(10),
        )
        .unwrap();
        assert_eq!(t.value.expose(), "abc");
        assert_eq!(t.valid_until, Duration::from_secs(10 + 300 - 30));
        // A lifetime past any sense is a day's, without overflow.
        let huge = format!(r#"{{"token":"abc","expires_in":{}}}"#, u64::MAX);
        let t = parse_response(huge.as_bytes(), &scopes, "r", Duration::from_secs(10)).unwrap();
        assert_eq!(t.valid_until, Duration::from_secs(10 + 86_400 - 30));
        let t = parse_response(huge.as_bytes(), &scopes, "r", Duration::MAX).unwrap();
        assert_eq!(t.valid_until, Duration::MAX);
        let t = parse_response(br#"{"access_token":"xyz"}"#, &scopes, "r", Duration::ZERO).unwrap();
        assert_eq!(t.value.expose(), "xyz");
        assert_eq!(t.valid_until, Duration::from_secs(54));
        assert_eq!(t.actions, ["pull"].into_iter().collect());
    }

    #[test]
    fn a_response_without_a_token_is_a_protocol_error() {
        for body in [
            &br#"{"expires_in":60}"#[..],
            br#"{"token":""}"#,
            b"<html>",
            b"",
        ] {
            let e = parse_response(body, &[], "r", Duration::ZERO).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Protocol);
        }
    }

    #[test]
    fn jwt_access_claims_say_what_is_granted() {
        let token = jwt(
            r#"{"access":[{"type":"repository","name":"r","actions":["pull","push"]},{"type":"repository","name":"other","actions":["delete"]}]}"#,
        );
        let body = format!(r#"{{"token":"{token}"}}"#);
        let scopes = vec!["repository:r:pull,push,delete".to_string()];
        let t = parse_response(body.as_bytes(), &scopes, "r", Duration::ZERO).unwrap();
        assert_eq!(t.actions, ["pull", "push"].into_iter().collect::<Actions>());
    }
}
