//! A token service for distribution's `auth.token`, run by the test process on loopback: it
//! answers `GET /token?service=&scope=` with a real ES256 JWT signed by the harness CA's key
//! (`x5c` = the CA certificate, which the registry trusts as its `rootcertbundle`). Switches:
//! which actions it grants (to the user, and to anonymous callers), the token lifetime, and
//! the Basic credentials it accepts. It counts the requests it gets.
//!
//! One thread serves one connection at a time (`Connection: close`), for at most
//! [`MAX_CONNECTIONS`] connections, each bounded in size and time.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::json;

use super::pki::Pki;

pub const SERVICE: &str = "kloset-test-registry";
pub const ISSUER: &str = "kloset-test-token-issuer";
const MAX_CONNECTIONS: u64 = 100_000;
const MAX_HEAD: usize = 16 * 1024;
const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// What the service grants.
#[derive(Clone, Debug)]
pub struct Policy {
    /// The Basic credentials it accepts; others get 401.
    pub user: Option<(String, String)>,
    /// Actions granted to that user, of those asked for.
    pub user_actions: Vec<String>,
    /// Actions granted without credentials, of those asked for.
    pub anonymous_actions: Vec<String>,
    /// `exp` - `iat`, and `expires_in`.
    pub lifetime_secs: u64,
}

impl Policy {
    pub fn actions(list: &[&str]) -> Vec<String> {
        list.iter().map(|a| a.to_string()).collect()
    }
}

/// One request the service answered.
#[derive(Clone, Debug)]
pub struct Served {
    pub scopes: Vec<String>,
    /// Whether it carried Basic credentials (right or wrong).
    pub with_credentials: bool,
    pub status: u16,
}

struct Shared {
    policy: Mutex<Policy>,
    served: Mutex<Vec<Served>>,
    key: EcdsaKeyPair,
    x5c: String,
    next_jti: AtomicU64,
}

pub struct TokenService {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl TokenService {
    pub fn start(pki: &Pki, policy: Policy) -> TokenService {
        TokenService::start_on(pki, policy, "127.0.0.1")
    }

    /// [`TokenService::start`] on another loopback address (`127.0.0.2`: a second host).
    pub fn start_on(pki: &Pki, policy: Policy, ip: &str) -> TokenService {
        let key = EcdsaKeyPair::from_pkcs8(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            &pki.ca_key_pkcs8,
            &SystemRandom::new(),
        )
        .expect("the CA key signs ES256");
        let shared = Arc::new(Shared {
            policy: Mutex::new(policy),
            served: Mutex::new(Vec::new()),
            key,
            x5c: STANDARD.encode(&pki.ca_der),
            next_jti: AtomicU64::new(1),
        });
        let listener = TcpListener::bind((ip, 0)).expect("bind the token service");
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (shared, stop) = (shared.clone(), stop.clone());
            std::thread::spawn(move || serve(listener, &shared, &stop))
        };
        TokenService {
            addr,
            shared,
            stop,
            thread: Some(thread),
        }
    }

    /// `http://IP:PORT/token`, the registry's `auth.token.realm`.
    pub fn realm(&self) -> String {
        format!("http://{}/token", self.addr)
    }

    /// The `auth:` section of a registry config trusting this service.
    pub fn registry_auth_yaml(&self, pki: &Pki) -> String {
        format!(
            "auth:\n  token:\n    realm: {}\n    service: {SERVICE}\n    issuer: {ISSUER}\n    rootcertbundle: {}\n",
            self.realm(),
            pki.ca_file.display()
        )
    }

    pub fn set_policy(&self, policy: Policy) {
        *self.shared.policy.lock().unwrap() = policy;
    }

    /// Every request answered so far.
    pub fn served(&self) -> Vec<Served> {
        self.shared.served.lock().unwrap().clone()
    }

    pub fn requests(&self) -> usize {
        self.shared.served.lock().unwrap().len()
    }

    /// A token as the service would issue it to `user` (None: anonymous) for `scope`.
    pub fn issue(&self, user: Option<&str>, scope: &str, actions: &[&str]) -> String {
        let lifetime = self.shared.policy.lock().unwrap().lifetime_secs;
        let granted = parse_scope(scope)
            .map(|(name, _)| vec![(name, Policy::actions(actions))])
            .unwrap_or_default();
        sign(&self.shared, user.unwrap_or(""), &granted, lifetime)
    }
}

impl Drop for TokenService {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, IO_TIMEOUT); // wakes the accept
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(listener: TcpListener, shared: &Shared, stop: &AtomicBool) {
    for _ in 0..MAX_CONNECTIONS {
        let Ok((mut stream, _)) = listener.accept() else {
            continue;
        };
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let _ = stream.set_read_timeout(Some(IO_TIMEOUT));
        let _ = stream.set_write_timeout(Some(IO_TIMEOUT));
        let Some(head) = read_head(&mut stream) else {
            continue;
        };
        let (status, body) = answer(shared, &head);
        let reason = if status == 200 { "OK" } else { "Error" };
        let response = format!(
            "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = stream.write_all(response.as_bytes());
    }
}

/// The request head, up to the blank line; `None` if it is too long or never ends.
fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        if head.len() > MAX_HEAD {
            return None;
        }
        let n = stream.read(&mut byte).ok()?;
        if n == 0 {
            return None;
        }
        head.extend_from_slice(&byte[..n]);
    }
    String::from_utf8(head).ok()
}

fn answer(shared: &Shared, head: &str) -> (u16, String) {
    let target = head.split_whitespace().nth(1).unwrap_or("");
    let query = target.split_once('?').map(|(_, q)| q).unwrap_or("");
    let scopes: Vec<String> = query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .filter(|(key, _)| *key == "scope")
        .map(|(_, value)| percent_decode(value))
        .collect();
    let basic = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        if !name.eq_ignore_ascii_case("authorization") {
            return None;
        }
        let encoded = value.trim().strip_prefix("Basic ")?;
        let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
        decoded
            .split_once(':')
            .map(|(u, p)| (u.to_string(), p.to_string()))
    });
    let policy = shared.policy.lock().unwrap().clone();
    let (status, body) = match &basic {
        Some(given) if policy.user.as_ref() != Some(given) => (
            401,
            r#"{"errors":[{"code":"UNAUTHORIZED","message":"wrong credentials"}]}"#.to_string(),
        ),
        _ => {
            let allowed = match &basic {
                Some(_) => &policy.user_actions,
                None => &policy.anonymous_actions,
            };
            let granted: Vec<(String, Vec<String>)> = scopes
                .iter()
                .filter_map(|scope| parse_scope(scope))
                .map(|(name, asked)| {
                    let actions = asked.into_iter().filter(|a| allowed.contains(a)).collect();
                    (name, actions)
                })
                .collect();
            let subject = basic.as_ref().map(|(u, _)| u.as_str()).unwrap_or("");
            let token = sign(shared, subject, &granted, policy.lifetime_secs);
            let body = json!({
                "token": token,
                "access_token": token,
                "expires_in": policy.lifetime_secs,
            });
            (200, body.to_string())
        }
    };
    shared.served.lock().unwrap().push(Served {
        scopes,
        with_credentials: basic.is_some(),
        status,
    });
    (status, body)
}

/// `repository:NAME:a,b` -> (NAME, [a, b]); other scope types -> None.
fn parse_scope(scope: &str) -> Option<(String, Vec<String>)> {
    let rest = scope.strip_prefix("repository:")?;
    let (name, actions) = rest.rsplit_once(':')?;
    Some((
        name.to_string(),
        actions
            .split(',')
            .filter(|a| !a.is_empty())
            .map(String::from)
            .collect(),
    ))
}

fn sign(
    shared: &Shared,
    subject: &str,
    granted: &[(String, Vec<String>)],
    lifetime: u64,
) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let header = json!({"typ": "JWT", "alg": "ES256", "x5c": [shared.x5c]});
    let access: Vec<_> = granted
        .iter()
        .map(|(name, actions)| json!({"type": "repository", "name": name, "actions": actions}))
        .collect();
    let claims = json!({
        "iss": ISSUER,
        "sub": subject,
        "aud": SERVICE,
        "exp": now + lifetime,
        "nbf": now - 5,
        "iat": now - 5,
        "jti": format!("kloset-test-{}", shared.next_jti.fetch_add(1, Ordering::Relaxed)),
        "access": access,
    });
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = shared
        .key
        .sign(&SystemRandom::new(), signing_input.as_bytes())
        .expect("sign a JWT");
    format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature.as_ref())
    )
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|pair| std::str::from_utf8(pair).ok())
            .and_then(|pair| u8::from_str_radix(pair, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
