//! One connected store: a component instance and its `store` resource. Objects stream in
//! and out in chunks of at most [`CHUNK_SIZE`]; the host never holds a whole object.
//!
//! The typed store API: [`Store`] here, `Backend::connect` that makes one (`connect`), its
//! value types (`types`), the component's own counters (`layer_stats`) and the conversion of
//! the component's results (`wit_error`). Uses the runtime (an instance, the bindings), the
//! network module (hooks, counters, settings) and the error type; only the crate's public
//! API, the CLI and the test kit use it.

mod connect;
pub(crate) mod layer_stats;
pub(crate) mod types;
mod wit_error;

use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use wasmtime::component::ResourceAny;

use crate::error::StoreError;
use crate::net::stats::{RequestCounters, RequestStats};
use crate::runtime::bindings;
use crate::runtime::state::HostState;
use layer_stats::LayerStats;
use types::{ByteRange, Kind, Mac, Mode};
use wit_error::flatten;

/// The size of the chunks written to a `writer` and asked of a `reader`: 1 MiB.
pub const CHUNK_SIZE: usize = 1 << 20;

/// A store at one location. Dropping it drops the instance (kloset's Close); [`Store::close`]
/// drops the `store` resource first.
pub struct Store {
    store: wasmtime::Store<HostState>,
    instance: bindings::Backend,
    handle: ResourceAny,
    counters: Arc<RequestCounters>,
}

impl Store {
    pub(crate) fn new(
        store: wasmtime::Store<HostState>,
        instance: bindings::Backend,
        handle: ResourceAny,
        counters: Arc<RequestCounters>,
    ) -> Self {
        Store {
            store,
            instance,
            handle,
            counters,
        }
    }

    /// The HTTP requests this store's component has made so far.
    pub fn stats(&self) -> RequestStats {
        self.counters.snapshot()
    }

    /// The largest linear memory of this store's component instance so far, in bytes (a
    /// linear memory never shrinks: this is also its current size).
    pub fn linear_memory(&self) -> usize {
        self.store.data().largest_memory()
    }

    /// What the component's protocol layers did so far: retries, redirects, renewed
    /// credentials.
    pub async fn layer_stats(&mut self) -> Result<LayerStats, StoreError> {
        let api = self.instance.kloset_storage_store().store();
        let stats = trap("stats", api.call_stats(&mut self.store, self.handle).await)?;
        Ok(LayerStats {
            retries: stats.retries,
            redirects: stats.redirects,
            credential_renewals: stats.credential_renewals,
        })
    }

    /// Initialises a new store holding `config`; `AlreadyExists` where one exists.
    pub async fn create(&mut self, config: &[u8]) -> Result<(), StoreError> {
        let api = self.instance.kloset_storage_store().store();
        flatten(
            "create",
            api.call_create(&mut self.store, self.handle, config).await,
        )
    }

    /// The config bytes given to `create`; `NotFound` where there is no store.
    pub async fn open(&mut self) -> Result<Vec<u8>, StoreError> {
        let api = self.instance.kloset_storage_store().store();
        flatten("open", api.call_open(&mut self.store, self.handle).await)
    }

    pub async fn ping(&mut self) -> Result<(), StoreError> {
        let api = self.instance.kloset_storage_store().store();
        flatten("ping", api.call_ping(&mut self.store, self.handle).await)
    }

    /// `host[:port]` of the registry.
    pub async fn origin(&mut self) -> Result<String, StoreError> {
        let api = self.instance.kloset_storage_store().store();
        trap(
            "origin",
            api.call_origin(&mut self.store, self.handle).await,
        )
    }

    pub async fn store_type(&mut self) -> Result<String, StoreError> {
        let api = self.instance.kloset_storage_store().store();
        trap(
            "store-type",
            api.call_store_type(&mut self.store, self.handle).await,
        )
    }

    /// The repository path inside the registry.
    pub async fn root(&mut self) -> Result<String, StoreError> {
        let api = self.instance.kloset_storage_store().store();
        trap("root", api.call_root(&mut self.store, self.handle).await)
    }

    pub async fn flags(&mut self) -> Result<u32, StoreError> {
        let api = self.instance.kloset_storage_store().store();
        trap("flags", api.call_flags(&mut self.store, self.handle).await)
    }

    pub async fn mode(&mut self) -> Result<Mode, StoreError> {
        let api = self.instance.kloset_storage_store().store();
        flatten("mode", api.call_mode(&mut self.store, self.handle).await).map(Mode::from_wit)
    }

    /// Total bytes, or -1 where unknown.
    pub async fn size(&mut self) -> Result<i64, StoreError> {
        let api = self.instance.kloset_storage_store().store();
        flatten("size", api.call_size(&mut self.store, self.handle).await)
    }

    /// Every object of `kind`, in the component's order. A name that is not 32 bytes is a
    /// `Protocol` error.
    pub async fn list(&mut self, kind: Kind) -> Result<Vec<Mac>, StoreError> {
        let api = self.instance.kloset_storage_store().store();
        let names = flatten(
            "list",
            api.call_list(&mut self.store, self.handle, kind.to_wit())
                .await,
        )?;
        names
            .into_iter()
            .map(|name| {
                Mac::try_from(name.as_slice()).map_err(|_| {
                    StoreError::new(
                        crate::ErrorKind::Protocol,
                        format!(
                            "list {kind}: the component returned a {}-byte MAC",
                            name.len()
                        ),
                    )
                })
            })
            .collect()
    }

    /// Stores the bytes of `source` (read to its end) as the object `kind`/`mac`, pushing
    /// chunks of at most [`CHUNK_SIZE`]; returns the byte count the component reports.
    pub async fn put_from<R: AsyncRead + Unpin>(
        &mut self,
        kind: Kind,
        mac: &Mac,
        mut source: R,
    ) -> Result<u64, StoreError> {
        let api = self.instance.kloset_storage_store().store();
        let writer = flatten(
            "put",
            api.call_put(&mut self.store, self.handle, kind.to_wit(), &mac.to_vec())
                .await,
        )?;
        let result = self.push_chunks(writer, &mut source).await;
        self.drop_resource(writer).await?;
        result
    }

    async fn push_chunks<R: AsyncRead + Unpin>(
        &mut self,
        writer: ResourceAny,
        source: &mut R,
    ) -> Result<u64, StoreError> {
        let api = self.instance.kloset_storage_store().writer();
        let mut chunk = vec![0u8; CHUNK_SIZE];
        loop {
            let filled = fill(source, &mut chunk).await?;
            if filled == 0 {
                break;
            }
            let write = api
                .call_write(&mut self.store, writer, &chunk[..filled])
                .await;
            flatten("write", write)?;
            if filled < chunk.len() {
                break;
            }
        }
        flatten("finish", api.call_finish(&mut self.store, writer).await)
    }

    /// Stores `bytes` as the object `kind`/`mac`.
    pub async fn put_bytes(
        &mut self,
        kind: Kind,
        mac: &Mac,
        bytes: &[u8],
    ) -> Result<u64, StoreError> {
        self.put_from(kind, mac, bytes).await
    }

    /// Writes the object `kind`/`mac` (or exactly `range` of it) to `sink`, pulling chunks
    /// of at most [`CHUNK_SIZE`] until the component reports the end; returns the bytes
    /// written. On an error, bytes already written to `sink` must be discarded.
    pub async fn get_to<W: AsyncWrite + Unpin>(
        &mut self,
        kind: Kind,
        mac: &Mac,
        range: Option<ByteRange>,
        mut sink: W,
    ) -> Result<u64, StoreError> {
        let api = self.instance.kloset_storage_store().store();
        let range = range.map(ByteRange::to_wit);
        let reader = flatten(
            "get",
            api.call_get(
                &mut self.store,
                self.handle,
                kind.to_wit(),
                &mac.to_vec(),
                range,
            )
            .await,
        )?;
        let result = self.pull_chunks(reader, &mut sink).await;
        self.drop_resource(reader).await?;
        result
    }

    async fn pull_chunks<W: AsyncWrite + Unpin>(
        &mut self,
        reader: ResourceAny,
        sink: &mut W,
    ) -> Result<u64, StoreError> {
        let api = self.instance.kloset_storage_store().reader();
        let mut total = 0u64;
        loop {
            let read = api
                .call_read(&mut self.store, reader, CHUNK_SIZE as u32)
                .await;
            let chunk = flatten("read", read)?;
            if chunk.is_empty() {
                break;
            }
            if chunk.len() > CHUNK_SIZE {
                return Err(StoreError::new(
                    crate::ErrorKind::Protocol,
                    format!(
                        "read returned {} bytes, more than the {CHUNK_SIZE} asked",
                        chunk.len()
                    ),
                ));
            }
            sink.write_all(&chunk)
                .await
                .map_err(|e| StoreError::from_io("cannot write the object", e))?;
            total += chunk.len() as u64;
        }
        sink.flush()
            .await
            .map_err(|e| StoreError::from_io("cannot write the object", e))?;
        Ok(total)
    }

    /// The object `kind`/`mac` (or `range` of it) in memory.
    pub async fn get_bytes(
        &mut self,
        kind: Kind,
        mac: &Mac,
        range: Option<ByteRange>,
    ) -> Result<Vec<u8>, StoreError> {
        // Sized for the range up front: no copy as it grows.
        let mut out =
            Vec::with_capacity(range.map_or(0, |r| r.length.min(CHUNK_SIZE as u32 * 64)) as usize);
        self.get_to(kind, mac, range, &mut out).await?;
        Ok(out)
    }

    /// Removes the object `kind`/`mac`; `NotFound` if there is none.
    pub async fn delete(&mut self, kind: Kind, mac: &Mac) -> Result<(), StoreError> {
        let api = self.instance.kloset_storage_store().store();
        flatten(
            "delete",
            api.call_delete(&mut self.store, self.handle, kind.to_wit(), &mac.to_vec())
                .await,
        )
    }

    /// Drops the `store` resource, then the instance.
    pub async fn close(mut self) -> Result<(), StoreError> {
        let handle = self.handle;
        self.drop_resource(handle).await
    }

    async fn drop_resource(&mut self, resource: ResourceAny) -> Result<(), StoreError> {
        resource
            .resource_drop_async(&mut self.store)
            .await
            .map_err(|e| StoreError::from_wasmtime("cannot drop a resource", e))
    }
}

/// Reads from `source` until `buf` is full or the source ends; returns the bytes read.
async fn fill<R: AsyncRead + Unpin>(source: &mut R, buf: &mut [u8]) -> Result<usize, StoreError> {
    let mut filled = 0;
    while filled < buf.len() {
        let n = source
            .read(&mut buf[filled..])
            .await
            .map_err(|e| StoreError::from_io("cannot read the object", e))?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    Ok(filled)
}

fn trap<T>(context: &str, res: wasmtime::Result<T>) -> Result<T, StoreError> {
    res.map_err(|e| StoreError::from_wasmtime(context, e))
}
