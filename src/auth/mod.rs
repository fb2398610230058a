//! Authentication, as a layer over the transport (distribution spec, "Token Authentication").
//!
//! - No credentials are sent until the registry asks: a 401 names the scheme.
//! - `Basic`: with a username and password, every later request carries Basic credentials.
//! - `Bearer realm,service,scope`: a token is asked of the realm (with Basic credentials, a
//!   pre-issued identity token, or anonymously) for our repository's actions, cached per set
//!   of actions until shortly before it expires, and asked again once when the registry
//!   rejects a cached one. Writes ask for `pull,push`, so one token covers a whole put;
//!   deletes ask for `delete`. A token that grants fewer actions than a request needs is a
//!   `denied` error naming the missing action.
//! - Credentials go only to the registry's own origin (`scheme://host:port`: never to
//!   `http://` of an https registry) and to the realm it named; a redirect to another host
//!   (see `redirect.rs`) never carries them. An https registry's realm must be https too,
//!   and a 401 from anywhere else never replaces what the registry said.

pub mod actions;
pub mod challenge;
pub mod secret;
pub mod token;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use crate::clock::Clock;
use crate::error::{Error, ErrorKind, Result};
use crate::http::{
    authority_of, has_scheme, send, Layer, Layered, Method, Request, Response, Transport,
};

use actions::Actions;
use challenge::Challenge;
use secret::Credentials;
use token::Token;

pub type Auth = Layered<AuthLayer>;

pub struct AuthLayer {
    inner: Box<dyn Transport>,
    /// `scheme://host[:port]` of the registry: the only place credentials go, besides its
    /// realm.
    registry: String,
    repository: String,
    credentials: Credentials,
    clock: Rc<dyn Clock>,
    state: RefCell<State>,
    renewals: Rc<Cell<u64>>,
}

#[derive(Default)]
struct State {
    /// The registry asked for Basic credentials.
    basic: bool,
    /// The registry's realm and service, once it has challenged with Bearer.
    bearer: Option<(String, Option<String>)>,
    tokens: Vec<Token>,
}

/// The actions distribution checks for each method.
fn needed(method: Method) -> Actions {
    let actions: &[&str] = match method {
        Method::Get | Method::Head => &["pull"],
        Method::Post | Method::Put | Method::Patch => &["pull", "push"],
        Method::Delete => &["delete"],
    };
    actions.iter().collect()
}

impl Auth {
    /// `registry`: the registry's origin, `scheme://host[:port]`.
    pub fn new(
        inner: Box<dyn Transport>,
        registry: &str,
        repository: &str,
        credentials: Credentials,
        clock: Rc<dyn Clock>,
    ) -> Auth {
        Layered(Rc::new(AuthLayer {
            inner,
            registry: registry.to_string(),
            repository: repository.to_string(),
            credentials,
            clock,
            state: RefCell::default(),
            renewals: Rc::default(),
        }))
    }

    /// A counter of the tokens asked for and credentials sent again after a 401.
    pub fn counter(&self) -> Rc<Cell<u64>> {
        Rc::clone(&self.0.renewals)
    }
}

impl AuthLayer {
    /// Adds what the registry asked for so far to a request for the registry.
    fn authorize(&self, request: &mut Request) -> Result<()> {
        request.remove_header("authorization");
        if request.origin() != self.registry {
            return Ok(());
        }
        let bearer = self.state.borrow().bearer.clone();
        if self.state.borrow().basic {
            if let Some(basic) = self.credentials.basic_header() {
                request.set_header("authorization", basic.expose());
            }
        } else if let Some((realm, service)) = bearer {
            let token = self.token_for(&realm, service.as_deref(), request.method, None)?;
            request.set_header("authorization", format!("Bearer {}", token.value.expose()));
        }
        // An identity token is an OAuth2 refresh token for the token service: it never goes to
        // the registry itself, only to the realm its Bearer challenge names (`token.rs`).
        Ok(())
    }

    /// A cached token that covers the method's actions, or a new one from the realm.
    fn token_for(
        &self,
        realm: &str,
        service: Option<&str>,
        method: Method,
        challenge_scope: Option<&str>,
    ) -> Result<Token> {
        let want = needed(method);
        let now = self.clock.now();
        {
            let mut state = self.state.borrow_mut();
            state.tokens.retain(|t| t.valid_until > now);
            if challenge_scope.is_none() {
                if let Some(t) = state.tokens.iter().find(|t| t.actions.is_superset(&want)) {
                    return Ok(t.clone());
                }
            }
        }
        let scopes = self.scopes(&want, challenge_scope);
        let token = token::fetch(
            self.inner.as_ref(),
            realm,
            service,
            &scopes,
            &self.repository,
            &self.credentials,
            now,
        )?;
        self.renewals.set(self.renewals.get() + 1);
        if let Some(missing) = want.first_missing_from(&token.actions) {
            return Err(Error::new(
                ErrorKind::Denied,
                format!(
                    "the token service grants [{}] on repository {}, not {missing:?}",
                    token.actions.join(),
                    self.repository
                ),
            ));
        }
        self.state.borrow_mut().tokens.push(token.clone());
        Ok(token)
    }

    /// Our repository's scope with the actions we need and those the registry named, and
    /// any other scope the challenge named.
    fn scopes(&self, want: &Actions, challenge_scope: Option<&str>) -> Vec<String> {
        let challenged: Vec<String> = challenge_scope
            .map(|s| s.split(' ').map(str::to_string).collect())
            .unwrap_or_default();
        let mut actions = want.clone();
        actions.extend(&token::asked_actions(&challenged, &self.repository));
        let ours = format!("repository:{}:", self.repository);
        let mut scopes = vec![format!("{ours}{}", actions.join())];
        scopes.extend(
            challenged
                .into_iter()
                .filter(|s| !s.is_empty() && !s.starts_with(&ours)),
        );
        scopes
    }
}

impl Layer for AuthLayer {
    fn below(&self) -> &dyn Transport {
        self.inner.as_ref()
    }

    /// A streamed body cannot be sent twice: it goes with the credentials we have.
    fn prepare(&self, mut request: Request) -> Result<Request> {
        self.authorize(&mut request)?;
        Ok(request)
    }

    fn send(&self, request: Request) -> Result<Response> {
        let mut first = request.clone();
        self.authorize(&mut first)?;
        let response = send(self.inner.as_ref(), first)?;
        response.check_headers()?;
        if response.status != 401 || request.origin() != self.registry {
            return Ok(response);
        }
        match challenge::parse(response.header_all("www-authenticate")) {
            Some(Challenge::Basic)
                if !self.state.borrow().basic && self.credentials.basic_header().is_some() =>
            {
                self.state.borrow_mut().basic = true;
            }
            Some(Challenge::Bearer {
                realm,
                service,
                scope,
            }) => {
                check_realm(&self.registry, &realm)?;
                let want = needed(request.method);
                {
                    let mut state = self.state.borrow_mut();
                    state.bearer = Some((realm.clone(), service.clone()));
                    // The registry refused what we sent: never send those tokens again.
                    state.tokens.retain(|t| !t.actions.is_superset(&want));
                }
                drop(response);
                self.token_for(
                    &realm,
                    service.as_deref(),
                    request.method,
                    Some(scope.as_deref().unwrap_or("")),
                )?;
            }
            _ => return Ok(response),
        }
        self.renewals.set(self.renewals.get() + 1);
        let mut second = request;
        self.authorize(&mut second)?;
        let method = second.method;
        let response = send(self.inner.as_ref(), second)?;
        if response.status == 401 {
            return Err(Error::new(
                ErrorKind::Unauthorized,
                format!(
                    "the registry refused fresh credentials for {} ({} on repository {})",
                    method.as_str(),
                    needed(method).join(),
                    self.repository
                ),
            ));
        }
        Ok(response)
    }
}

/// An https registry's token realm must be https: credentials and tokens never travel in
/// cleartext (a plain-http store may name either).
fn check_realm(registry: &str, realm: &str) -> Result<()> {
    let https = |url: &str| has_scheme(url, "https");
    if !(https(realm) || has_scheme(realm, "http")) {
        return Err(Error::protocol(
            "the registry named a token realm that is not an http(s) URL",
        ));
    }
    if https(registry) && !https(realm) {
        return Err(Error::protocol(format!(
            "the registry named a plain-http token realm ({}): refused, so that no \
             credentials or tokens travel in cleartext",
            authority_of(realm)
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
