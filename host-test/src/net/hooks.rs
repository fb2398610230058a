//! The outgoing-HTTP policy of a store's component: requests may reach only the registry
//! named by the location; every request is counted; then it goes out on a keep-alive
//! connection of the backend's [`ConnectionPool`], an https one over TLS trusting the system's
//! roots and the settings' CA file (see [`TlsClient`]).

use std::future::Future;
use std::sync::Arc;

use http_body_util::BodyExt;
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

use crate::net::address_policy::{ConnectPolicy, Reach, Resolver, SystemResolver};
use crate::net::allow_list::AllowList;
#[cfg(feature = "testkit")]
use crate::net::faults::{self, FaultInjector};
use crate::net::location::AllowedAuthority;
use crate::net::pool::{ConnectionPool, IoFuture, Sending, Sent};
use crate::net::settings::HostSettings;
use crate::net::stats::RequestCounters;
use crate::net::tls::client::TlsClient;

/// What `send_request` returns.
type SendFuture = Box<dyn Future<Output = Sent> + Send>;

/// The hooks of one store: the allow-list (the location's authority and the hosts its
/// registry names) and the request counters.
pub struct RegistryHooks {
    allowed: Arc<AllowList>,
    counters: Arc<RequestCounters>,
    pool: ConnectionPool,
    settings: HostSettings,
    /// The https client for the settings' trust, made on the first https request.
    tls: Option<TlsClient>,
    /// Faults injected into the requests (the test kit's).
    #[cfg(feature = "testkit")]
    faults: Option<Arc<FaultInjector>>,
    /// Which addresses each request's connection may reach.
    reach: Arc<ReachPolicy>,
}

impl RegistryHooks {
    /// Hooks with a pool of their own.
    #[cfg(test)]
    pub fn new(allowed: AllowedAuthority, counters: Arc<RequestCounters>) -> Self {
        RegistryHooks::with_pool(
            allowed,
            counters,
            ConnectionPool::new(),
            &HostSettings::default(),
        )
    }

    /// Hooks that share `pool` (the backend's) with other stores.
    pub fn with_pool(
        allowed: AllowedAuthority,
        counters: Arc<RequestCounters>,
        pool: ConnectionPool,
        settings: &HostSettings,
    ) -> Self {
        let allowed = Arc::new(AllowList::new(allowed));
        RegistryHooks {
            reach: Arc::new(ReachPolicy::new(allowed.clone(), settings)),
            allowed,
            counters,
            pool,
            #[cfg(feature = "testkit")]
            faults: settings.faults.clone(),
            settings: settings.clone(),
            tls: None,
        }
    }
}

/// What a store's connections may reach ([`crate::net::address_policy`]): the location's host
/// anything; a host the registry named only public addresses, unless the registry itself is
/// internal or the settings allow private hosts.
struct ReachPolicy {
    allowed: Arc<AllowList>,
    resolver: Arc<dyn Resolver>,
    private_hosts: bool,
    /// Whether the location's host resolves to an internal address: found once, on the first
    /// request for a named host.
    registry_internal: tokio::sync::OnceCell<bool>,
}

impl ReachPolicy {
    fn new(allowed: Arc<AllowList>, settings: &HostSettings) -> ReachPolicy {
        ReachPolicy {
            allowed,
            resolver: settings
                .resolver
                .clone()
                .unwrap_or_else(|| Arc::new(SystemResolver)),
            private_hosts: settings.private_hosts,
            registry_internal: tokio::sync::OnceCell::new(),
        }
    }

    async fn policy_for(&self, uri: &http::Uri) -> ConnectPolicy {
        let anywhere = ConnectPolicy {
            resolver: self.resolver.clone(),
            reach: Reach::Anywhere,
        };
        if self.allowed.is_origin(uri) || self.private_hosts {
            return anywhere;
        }
        let registry_internal = self
            .registry_internal
            .get_or_init(|| anywhere.is_internal_host(self.allowed.origin_host(), 443))
            .await;
        ConnectPolicy {
            reach: match registry_internal {
                true => Reach::Anywhere,
                false => Reach::PublicOnly,
            },
            ..anywhere
        }
    }
}

impl WasiHttpHooks for RegistryHooks {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: IoFuture,
    ) -> SendFuture {
        let _ = fut;
        if !self.allowed.allows(request.uri()) {
            self.counters.count_refused();
            return Box::new(async { Err(HttpError::HttpRequestDenied) });
        }
        self.counters.count_request(request.method());
        #[cfg(feature = "testkit")]
        let fault = self.faults.as_ref().and_then(|faults| faults.draw());
        let counters = self.counters.clone();
        let sent = counters.clone();
        let request = request.map(move |body| {
            body.map_frame(move |frame| {
                if let Some(data) = frame.data_ref() {
                    sent.add_sent(data.len());
                }
                frame
            })
            .boxed_unsync()
        });
        let pool = self.pool.clone();
        let allow = self.allowed.clone();
        let uri = request.uri().clone();
        let reach = self.reach.clone();
        let tls = match request.uri().scheme() == Some(&http::uri::Scheme::HTTPS) {
            true => Some(
                self.tls
                    .get_or_insert_with(|| TlsClient::for_trust(self.settings.ca.as_ref()))
                    .clone(),
            ),
            false => None,
        };
        let send = move |request: http::Request<WasiBody>, options| -> Sending {
            Box::pin(async move {
                let policy = reach.policy_for(request.uri()).await;
                pool.send_checked(request, options, tls.as_ref(), &policy)
                    .await
            })
        };
        Box::new(async move {
            #[cfg(feature = "testkit")]
            let (response, io) = faults::send_with(fault, request, options, send).await?;
            #[cfg(not(feature = "testkit"))]
            let (response, io) = send(request, options).await?;
            allow.learn_from(&uri, response.status().as_u16(), response.headers());
            let response = response.map(move |body| {
                body.map_frame(move |frame| {
                    if let Some(data) = frame.data_ref() {
                        counters.add_received(data.len());
                    }
                    frame
                })
                .boxed_unsync()
            });
            Ok((response, io))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use http_body_util::Empty;
    use std::pin::Pin;

    fn request(uri: &str) -> http::Request<WasiBody> {
        let body = Empty::<Bytes>::new()
            .map_err(|never| match never {})
            .boxed_unsync();
        http::Request::get(uri).body(body).unwrap()
    }

    /// A request for another authority is refused without any connection (a connection to
    /// these ports would be refused, an error other than HttpRequestDenied).
    #[tokio::test]
    async fn other_authorities_are_denied() {
        let allowed = AllowedAuthority::from_location("oci://127.0.0.1:1/repo").unwrap();
        let counters = Arc::new(RequestCounters::default());
        let mut hooks = RegistryHooks::new(allowed, counters.clone());
        for uri in [
            "http://127.0.0.2:1/v2/",
            "http://127.0.0.1:2/v2/",
            "https://example.com/v2/",
            "http://localhost:1/v2/",
        ] {
            let fut = hooks.send_request(request(uri), None, Box::new(async { Ok(()) }));
            match Pin::from(fut).await {
                Err(HttpError::HttpRequestDenied) => {}
                Err(other) => panic!("{uri}: expected HttpRequestDenied, got {other:?}"),
                Ok(_) => panic!("{uri}: request was sent"),
            }
        }
        let stats = counters.snapshot();
        assert_eq!(stats.refused, 4);
        assert_eq!(stats.requests(), 0);
    }

    /// A request for the allowed authority goes through to the connection (here refused,
    /// since nothing listens on the port) and is counted.
    #[tokio::test]
    async fn the_location_authority_is_allowed() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let location = format!("oci://127.0.0.1:{port}/repo");
        let allowed = AllowedAuthority::from_location(&location).unwrap();
        let counters = Arc::new(RequestCounters::default());
        let mut hooks = RegistryHooks::new(allowed, counters.clone());
        let uri = format!("http://127.0.0.1:{port}/v2/");
        let fut = hooks.send_request(request(&uri), None, Box::new(async { Ok(()) }));
        if let Err(HttpError::HttpRequestDenied) = Pin::from(fut).await {
            panic!("the location's own authority was denied");
        }
        let stats = counters.snapshot();
        assert_eq!(stats.get, 1);
        assert_eq!(stats.refused, 0);
    }
}
