//! The `store.Store` service: each call runs on a component instance of the store's pool, in
//! a task of its own, so a call the client abandons (RST_STREAM) never leaves an instance
//! half-way through a component call.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};

use bytes::Bytes;
use kloset_oci_host::{
    mac_hex, Backend, ByteRange, ErrorKind, Kind, Mac, Store, StoreError, CHUNK_SIZE,
};
use tokio::sync::{mpsc, OnceCell};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

use crate::component;
use crate::config::StoreConfig;
use crate::in_flight::{InFlight, SETTLE};
use crate::instances::Instances;
use crate::proto::store_server::Store as StoreService;
use crate::proto::*;
use crate::read_ahead::{self, ReadAhead};
use crate::status::to_status;
use crate::streams::{drain, put_body, GetSink};
use crate::usage::Usage;

/// The most a `ListResponse` may weigh: Plakar's gRPC client takes messages of up to 4 MiB.
const MAX_LIST_REPLY: usize = (4 << 20) - (64 << 10);
/// Chunks a Get may have queued ahead of the client (each at most 1 MiB).
const GET_QUEUE: usize = 2;

/// The plugin: the component (loaded once, in the background from the start), and the store
/// `Init` connected.
#[derive(Clone)]
pub struct Plugin {
    source: String,
    backend: Arc<OnceCell<Result<Backend, StoreError>>>,
    store: Arc<RwLock<Option<Connected>>>,
    usage: Arc<Usage>,
    in_flight: Arc<InFlight>,
}

#[derive(Clone)]
struct Connected {
    location: String,
    instances: Arc<Instances>,
    read_ahead: Arc<ReadAhead>,
}

type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

impl Plugin {
    /// A plugin loading the component `source` names (a file or an `oci://` pin, see
    /// [`component::source`]).
    pub fn new(source: String) -> Plugin {
        Plugin {
            source,
            backend: Arc::new(OnceCell::new()),
            store: Arc::new(RwLock::new(None)),
            usage: Arc::new(Usage::default()),
            in_flight: Arc::default(),
        }
    }

    /// The calls under way, to let them finish when the connection ends.
    pub fn in_flight(&self) -> Arc<InFlight> {
        self.in_flight.clone()
    }

    /// What the plugin did so far (see [`Usage::write`]).
    pub fn usage(&self) -> Arc<Usage> {
        self.usage.clone()
    }

    /// Starts loading the component now, so that `Init` finds it ready: Plakar's client
    /// waits for `Init` under a deadline.
    pub fn preload(&self) {
        let plugin = self.clone();
        tokio::spawn(async move {
            let _ = plugin.backend().await;
        });
    }

    async fn backend(&self) -> Result<Backend, StoreError> {
        self.backend
            .get_or_init(|| component::load(self.source.clone()))
            .await
            .clone()
    }

    fn connected(&self) -> Result<Connected, Status> {
        self.store
            .read()
            .expect("store lock")
            .clone()
            .ok_or_else(|| Status::failed_precondition("kloset-oci: Init was not called first"))
    }

    /// Runs `op` on an instance of the store's pool, in a task of its own.
    async fn run<T, F>(&self, doing: String, op: F) -> Result<T, Status>
    where
        T: Send + 'static,
        F: for<'a> FnOnce(&'a mut Store) -> StoreFuture<'a, T> + Send + 'static,
    {
        let Connected {
            location,
            instances,
            ..
        } = self.connected()?;
        let call = self.in_flight.begin();
        let task = tokio::spawn(async move {
            let _call = call;
            let mut lease = instances.lease().await?;
            let result = op(lease.store()).await;
            lease.check(result)
        });
        match task.await {
            Ok(result) => result.map_err(|e| to_status(&doing, &location, e)),
            Err(e) => Err(Status::internal(format!(
                "kloset-oci: {doing}: the call failed in the plugin: {e}"
            ))),
        }
    }
}

fn kind_of(value: i32) -> Result<Kind, Status> {
    match StorageResource::try_from(value) {
        Ok(StorageResource::Packfile) => Ok(Kind::Packfile),
        Ok(StorageResource::State) => Ok(Kind::State),
        Ok(StorageResource::Lock) => Ok(Kind::Lock),
        Ok(StorageResource::EccPackfile) => Ok(Kind::EccPackfile),
        Ok(StorageResource::EccState) => Ok(Kind::EccState),
        Ok(StorageResource::Undefined) | Err(_) => Err(Status::invalid_argument(format!(
            "kloset-oci: unknown storage resource type {value}"
        ))),
    }
}

fn mac_of(bytes: &[u8]) -> Result<Mac, Status> {
    Mac::try_from(bytes).map_err(|_| {
        Status::invalid_argument(format!(
            "kloset-oci: a MAC is 32 bytes, this one has {}",
            bytes.len()
        ))
    })
}

/// `bytes` as Get responses of at most [`CHUNK_SIZE`] each.
async fn send_chunks(sender: &mpsc::Sender<Result<GetResponse, Status>>, bytes: Bytes) {
    let mut at = 0;
    while at < bytes.len() {
        let end = (at + CHUNK_SIZE).min(bytes.len());
        let chunk = bytes.slice(at..end);
        if sender.send(Ok(GetResponse { chunk })).await.is_err() {
            return; // the client went away
        }
        at = end;
    }
}

fn object(kind: Kind, mac: &Mac) -> String {
    format!("{kind} {}", mac_hex(mac))
}

#[tonic::async_trait]
impl StoreService for Plugin {
    async fn init(&self, request: Request<InitRequest>) -> Result<Response<InitResponse>, Status> {
        let InitRequest { proto, config } = request.into_inner();
        let config = StoreConfig::from_init(&proto, config)
            .map_err(|e| to_status("init", "the store", e))?;
        let location = config.location.clone();
        let failed = |e| to_status("init", &location, e);
        let backend = self.backend().await.map_err(failed)?;
        let mut first = backend
            .connect_with(&config.location, &config.options, &config.settings)
            .await
            .map_err(failed)?;
        let response = InitResponse {
            origin: first.origin().await.map_err(failed)?,
            r#type: first.store_type().await.map_err(failed)?,
            root: first.root().await.map_err(failed)?,
            flags: first.flags().await.map_err(failed)?,
        };
        let instances = Instances::new(backend, config, first);
        let read_ahead = ReadAhead::new(instances.clone(), self.usage.clone());
        *self.store.write().expect("store lock") = Some(Connected {
            location,
            instances,
            read_ahead,
        });
        Ok(Response::new(response))
    }

    async fn create(
        &self,
        request: Request<CreateRequest>,
    ) -> Result<Response<CreateResponse>, Status> {
        let config = request.into_inner().config;
        self.run("create".into(), move |store| {
            Box::pin(async move { store.create(&config).await })
        })
        .await?;
        Ok(Response::new(CreateResponse {}))
    }

    async fn open(&self, _: Request<OpenRequest>) -> Result<Response<OpenResponse>, Status> {
        let config = self
            .run("open".into(), |store| Box::pin(store.open()))
            .await?;
        Ok(Response::new(OpenResponse { config }))
    }

    async fn ping(&self, _: Request<PingRequest>) -> Result<Response<PingResponse>, Status> {
        self.run("ping".into(), |store| Box::pin(store.ping()))
            .await?;
        Ok(Response::new(PingResponse {}))
    }

    async fn mode(&self, _: Request<ModeRequest>) -> Result<Response<ModeResponse>, Status> {
        let mode = self
            .run("mode".into(), |store| Box::pin(store.mode()))
            .await?;
        // kloset's storage.Mode bits.
        const WRITE: i32 = 1 << 1;
        const READ: i32 = 1 << 2;
        let bits = if mode.read { READ } else { 0 } | if mode.write { WRITE } else { 0 };
        Ok(Response::new(ModeResponse { mode: bits }))
    }

    async fn size(&self, _: Request<SizeRequest>) -> Result<Response<SizeResponse>, Status> {
        let size = self
            .run("size".into(), |store| Box::pin(store.size()))
            .await?;
        Ok(Response::new(SizeResponse { size }))
    }

    async fn list(&self, request: Request<ListRequest>) -> Result<Response<ListResponse>, Status> {
        let kind = kind_of(request.into_inner().r#type)?;
        let macs = self
            .run(format!("list {kind}"), move |store| {
                Box::pin(store.list(kind))
            })
            .await?;
        // Each MAC is a 32-byte field: 34 bytes on the wire.
        if macs.len() * 34 > MAX_LIST_REPLY {
            return Err(Status::resource_exhausted(format!(
                "kloset-oci: list {kind}: {} objects do not fit in one reply under Plakar's \
                 4 MiB message limit",
                macs.len()
            )));
        }
        let macs = macs.iter().map(|mac| mac.to_vec()).collect();
        Ok(Response::new(ListResponse { macs }))
    }

    async fn put(
        &self,
        request: Request<Streaming<PutRequest>>,
    ) -> Result<Response<PutResponse>, Status> {
        let mut stream = request.into_inner();
        let first = stream.message().await?.ok_or_else(|| {
            Status::invalid_argument("kloset-oci: put: the stream ended before its first message")
        })?;
        let kind = kind_of(first.r#type)?;
        let mac = mac_of(&first.mac)?;
        let usage = self.usage.clone();
        let written = self
            .run(format!("put {}", object(kind, &mac)), move |store| {
                Box::pin(async move {
                    let mut stream = stream;
                    let before = store.stats();
                    let body = put_body(first.chunk, &mut stream);
                    let result = store.put_from(kind, &mac, body).await;
                    match result {
                        Ok(written) => {
                            usage.put(kind == Kind::Packfile, &before, &store.stats(), written)
                        }
                        Err(_) => drain(&mut stream).await,
                    }
                    result
                })
            })
            .await?;
        let bytes_written = i64::try_from(written)
            .map_err(|_| Status::internal("kloset-oci: put: the size overflows int64"))?;
        Ok(Response::new(PutResponse { bytes_written }))
    }

    type GetStream = ReceiverStream<Result<GetResponse, Status>>;

    async fn get(&self, request: Request<GetRequest>) -> Result<Response<Self::GetStream>, Status> {
        let GetRequest { mac, r#type, range } = request.into_inner();
        let kind = kind_of(r#type)?;
        let mac = mac_of(&mac)?;
        let range = range.map(|r| ByteRange::new(r.offset, r.length));
        let Connected {
            location,
            instances,
            read_ahead,
        } = self.connected()?;
        let (sender, receiver) = mpsc::channel(GET_QUEUE);
        let usage = self.usage.clone();
        let call = self.in_flight.begin();
        tokio::spawn(async move {
            let _call = call;
            let doing = format!("get {}", object(kind, &mac));
            let result = async {
                // A range of a packfile: from its blocks, if they can hold it.
                if let Some(r) = range.filter(|r| read_ahead::applies(kind, r.length)) {
                    if let Some(bytes) = read_ahead.get(mac, r).await? {
                        usage.get(&Default::default(), &Default::default(), bytes.len() as u64);
                        send_chunks(&sender, bytes).await;
                        return Ok(());
                    }
                }
                let mut lease = instances.lease().await?;
                let before = lease.store().stats();
                let sink = GetSink::new(sender.clone());
                let result = lease.store().get_to(kind, &mac, range, sink).await;
                if let Ok(bytes) = result {
                    usage.get(&before, &lease.store().stats(), bytes);
                }
                lease.check(result).map(drop)
            }
            .await;
            if let Err(error) = result {
                // A client that went away has nobody to tell.
                if !(error.kind == ErrorKind::Host && sender.is_closed()) {
                    let _ = sender.send(Err(to_status(&doing, &location, error))).await;
                }
            }
        });
        Ok(Response::new(ReceiverStream::new(receiver)))
    }

    async fn delete(
        &self,
        request: Request<DeleteRequest>,
    ) -> Result<Response<DeleteResponse>, Status> {
        let DeleteRequest { mac, r#type } = request.into_inner();
        let kind = kind_of(r#type)?;
        let mac = mac_of(&mac)?;
        if let Ok(connected) = self.connected() {
            connected.read_ahead.forget(&mac);
        }
        self.run(format!("delete {}", object(kind, &mac)), move |store| {
            Box::pin(async move { store.delete(kind, &mac).await })
        })
        .await?;
        Ok(Response::new(DeleteResponse {}))
    }

    async fn close(&self, _: Request<CloseRequest>) -> Result<Response<CloseResponse>, Status> {
        // Plakar kills the plugin right after: the calls it sent before are finished first
        // (see `in_flight`), and what the plugin did is written now.
        if !self.in_flight.settle(SETTLE).await {
            eprintln!("kloset-oci-plakar: close: calls still under way after {SETTLE:?}");
        }
        self.usage.write();
        Ok(Response::new(CloseResponse {}))
    }
}
