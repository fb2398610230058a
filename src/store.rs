//! kloset's Store over one OCI repository, laid out as `layout.rs` describes.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::rc::Rc;

use crate::auth::Auth;
use crate::blob_read::{BlobReader, ByteRange};
use crate::clock::Clock;
use crate::create;
use crate::error::{Error, ErrorKind, Result};
use crate::http::Transport;
use crate::layout::{self, BlobRef, Kind, Mac, CONFIG_TAG};
use crate::location::Location;
use crate::manifest_delete::{delete_tagged_manifest, Deletion};
use crate::manifest_put;
use crate::options::Options;
use crate::redirect::Redirect;
use crate::registry::Registry;
use crate::retry::{Retry, RetryLimits};
use crate::tombstone;
use crate::upload::BlobUpload;

/// A store config larger than this is refused by `open` (kloset's are a few hundred bytes).
const CONFIG_LIMIT: u64 = 16 << 20;
/// The blob cache forgets everything when it reaches this many objects.
const CACHE_MAX: usize = 1 << 20;

struct Inner {
    registry: Rc<Registry>,
    /// For the pauses of `manifest_put`.
    clock: Rc<dyn Clock>,
    /// kind+MAC -> blob, for immutable kinds only, learned from put and get: a range read of
    /// a known object then costs one request.
    blobs: RefCell<HashMap<(Kind, Mac), BlobRef, BuildHasherDefault<MacHasher>>>,
}

/// FNV-1a over the key's bytes. The keys are MACs, already spread evenly, so the cache needs
/// no seeded SipHash; std's would add its code and a `wasi:random` import to the component
/// (docs/performance.md, "What bounds the figures").
struct MacHasher(u64);

impl Default for MacHasher {
    fn default() -> Self {
        MacHasher(0xcbf2_9ce4_8422_2325) // the FNV offset basis
    }
}

impl Hasher for MacHasher {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3); // the FNV prime
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl Inner {
    fn remember(&self, kind: Kind, mac: Mac, blob: BlobRef) {
        if kind.is_immutable() {
            let mut blobs = self.blobs.borrow_mut();
            if blobs.len() >= CACHE_MAX {
                blobs.clear();
            }
            blobs.insert((kind, mac), blob);
        }
    }

    fn put_manifest(&self, tag: &str, manifest: &[u8]) -> Result<()> {
        manifest_put::put_manifest(&self.registry, &*self.clock, tag, manifest)
    }
}

/// What the protocol layers have done so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LayerStats {
    pub retries: u64,
    pub redirects: u64,
    pub credential_renewals: u64,
}

/// One store: one repository of one registry.
pub struct Store {
    inner: Rc<Inner>,
    counters: [Rc<Cell<u64>>; 3],
}

impl Store {
    /// Parses the location and stacks the protocol layers over `base`, outermost first:
    /// retries, redirects, authentication. Makes no request.
    pub fn connect(
        base: Box<dyn Transport>,
        clock: Rc<dyn Clock>,
        location: &str,
        options: &Options,
    ) -> Result<Store> {
        let location = Location::parse(location, options.plain_http)?;
        let auth = Auth::new(
            base,
            &location.base_url(),
            &location.repository,
            options.credentials.clone(),
            Rc::clone(&clock),
        );
        let renewals = auth.counter();
        let redirect = Redirect::new(Box::new(auth));
        let redirects = redirect.counter();
        let retry = Retry::new(
            Box::new(redirect),
            Rc::clone(&clock),
            RetryLimits::default(),
        );
        let retries = retry.counter();
        let registry = Rc::new(Registry::new(Box::new(retry), location));
        Ok(Store {
            inner: Rc::new(Inner {
                registry,
                clock,
                blobs: RefCell::default(),
            }),
            counters: [retries, redirects, renewals],
        })
    }

    pub fn stats(&self) -> LayerStats {
        let [retries, redirects, renewals] = &self.counters;
        LayerStats {
            retries: retries.get(),
            redirects: redirects.get(),
            credential_renewals: renewals.get(),
        }
    }

    fn location(&self) -> &Location {
        &self.inner.registry.location
    }

    /// `oci://authority/repository`, for messages.
    fn describe(&self) -> String {
        format!(
            "oci://{}/{}",
            self.location().authority,
            self.location().repository
        )
    }

    pub fn origin(&self) -> String {
        self.location().authority.clone()
    }

    pub fn root(&self) -> String {
        self.location().repository.clone()
    }

    pub fn ping(&self) -> Result<()> {
        self.inner
            .registry
            .ping()
            .map_err(|e| e.context(format!("ping {}", self.location().authority)))
    }

    /// Creates the store; of several creates at once exactly one succeeds (`create.rs`).
    pub fn create(&self, config: &[u8]) -> Result<()> {
        let at = self.describe();
        create::create(&self.inner.registry, &*self.inner.clock, config).map_err(|e| {
            if e.kind == ErrorKind::AlreadyExists {
                Error::new(e.kind, format!("a store already exists at {at}"))
            } else {
                e.context(format!("create {at}"))
            }
        })
    }

    pub fn open(&self) -> Result<Vec<u8>> {
        let at = self.describe();
        let context = |e: Error| e.context(format!("open {at}"));
        let manifest = self
            .inner
            .registry
            .get_manifest(CONFIG_TAG)
            .map_err(context)?;
        let manifest = manifest.ok_or_else(|| no_store(&at))?;
        let blob = layout::parse_config_manifest(&manifest).map_err(context)?;
        if blob.size > CONFIG_LIMIT {
            return Err(context(Error::protocol(format!(
                "the config blob has {} bytes",
                blob.size
            ))));
        }
        let mut reader =
            BlobReader::open(Rc::clone(&self.inner.registry), blob, None).map_err(context)?;
        let mut config = Vec::with_capacity(blob.size as usize);
        loop {
            let chunk = reader.read(crate::http::READ_CHUNK).map_err(context)?;
            if chunk.is_empty() {
                return Ok(config);
            }
            config.extend_from_slice(&chunk);
        }
    }

    /// Every object of `kind`. A repository without a store config holds no store.
    pub fn list(&self, kind: Kind) -> Result<Vec<Mac>> {
        let at = self.describe();
        let tags = self
            .inner
            .registry
            .tags()
            .map_err(|e| e.context(format!("list {} at {at}", kind.name())))?;
        let tags = tags.ok_or_else(|| no_store(&at))?;
        if !tags.iter().any(|t| t == CONFIG_TAG) {
            return Err(no_store(&at));
        }
        let mut macs: Vec<Mac> = tags
            .iter()
            .filter_map(|t| layout::parse_tag(t))
            .filter(|(k, _)| *k == kind)
            .map(|(_, mac)| mac)
            .collect();
        // A registry may list a tag twice across pages; an object is listed once.
        macs.sort_unstable();
        macs.dedup();
        tombstone::without_buried(&self.inner.registry, kind, &tags, macs)
            .map_err(|e| e.context(format!("list {} at {at}", kind.name())))
    }

    pub fn put(&self, kind: Kind, mac: Mac) -> ObjectWriter {
        ObjectWriter {
            inner: Rc::clone(&self.inner),
            kind,
            mac,
            upload: Some(BlobUpload::default()),
        }
    }

    pub fn get(&self, kind: Kind, mac: Mac, range: Option<ByteRange>) -> Result<BlobReader> {
        let name = layout::object_name(kind, &mac);
        let context = |e: Error| e.context(&name);
        let blob = self.resolve(kind, &mac).map_err(context)?;
        if let Some(r) = range {
            if !r.fits(blob.size) {
                return Err(Error::new(
                    ErrorKind::OutOfRange,
                    format!(
                        "{name}: {} bytes at offset {} lie outside its {} bytes",
                        r.length, r.offset, blob.size
                    ),
                ));
            }
        }
        BlobReader::open(Rc::clone(&self.inner.registry), blob, range).map_err(|e| {
            if e.kind == ErrorKind::NotFound {
                // The blob went away (deleted and garbage-collected): forget it.
                self.inner.blobs.borrow_mut().remove(&(kind, mac));
            }
            context(e)
        })
    }

    pub fn delete(&self, kind: Kind, mac: Mac) -> Result<()> {
        let name = layout::object_name(kind, &mac);
        let steps = || -> Result<()> {
            let tag = layout::tag(kind, &mac);
            let registry = &self.inner.registry;
            let manifest = registry.get_manifest(&tag)?.ok_or_else(missing)?;
            if tombstone::is_tombstone(&manifest) {
                return Err(missing());
            }
            // Delete only what is provably this object's own manifest.
            layout::parse_object_manifest(&manifest, kind, &mac)?;
            self.inner.blobs.borrow_mut().remove(&(kind, mac));
            let clock = &*self.inner.clock;
            if !registry.refuses_deletes.get() {
                let deletion = delete_tagged_manifest(registry, clock, &tag, &manifest)?;
                if deletion == Deletion::Done {
                    return Ok(());
                }
            }
            tombstone::bury(registry, clock, kind, &mac)
        };
        steps().map_err(|e| e.context(&name))
    }

    /// The blob an object's manifest names, from the cache or from the registry.
    fn resolve(&self, kind: Kind, mac: &Mac) -> Result<BlobRef> {
        if let Some(blob) = self.inner.blobs.borrow().get(&(kind, *mac)) {
            return Ok(*blob);
        }
        let manifest = self
            .inner
            .registry
            .get_manifest(&layout::tag(kind, mac))?
            .ok_or_else(missing)?;
        if tombstone::is_tombstone(&manifest) {
            return Err(missing());
        }
        let blob = layout::parse_object_manifest(&manifest, kind, mac)?;
        self.inner.remember(kind, *mac, blob);
        Ok(blob)
    }
}

fn missing() -> Error {
    Error::new(ErrorKind::NotFound, "no such object")
}

fn no_store(at: &str) -> Error {
    Error::new(ErrorKind::NotFound, format!("no store at {at}"))
}

/// An object being written. Nothing is visible until `finish` tags its manifest.
pub struct ObjectWriter {
    inner: Rc<Inner>,
    kind: Kind,
    mac: Mac,
    /// `None` once finished or failed.
    upload: Option<BlobUpload>,
}

impl ObjectWriter {
    pub fn write(&mut self, chunk: &[u8]) -> Result<()> {
        let name = layout::object_name(self.kind, &self.mac);
        let upload = self.upload.as_mut().ok_or_else(|| finished(&name))?;
        upload.write(&self.inner.registry, chunk).map_err(|e| {
            self.upload = None;
            e.context(format!("put {name}"))
        })
    }

    /// Stores the object and returns its size in bytes.
    pub fn finish(&mut self) -> Result<u64> {
        let name = layout::object_name(self.kind, &self.mac);
        let upload = self.upload.take().ok_or_else(|| finished(&name))?;
        let steps = || -> Result<u64> {
            let blob = upload.finish(&self.inner.registry)?;
            let manifest = layout::object_manifest(self.kind, &self.mac, blob);
            self.inner
                .put_manifest(&layout::tag(self.kind, &self.mac), &manifest)?;
            self.inner.remember(self.kind, self.mac, blob);
            Ok(blob.size)
        };
        steps().map_err(|e| e.context(format!("put {name}")))
    }
}

fn finished(name: &str) -> Error {
    Error::invalid_argument(format!(
        "put {name}: the writer is already finished or failed"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_blob_cache_hasher_is_fnv_1a() {
        let hash = |bytes: &[u8]| {
            let mut h = MacHasher::default();
            h.write(bytes);
            h.finish()
        };
        // Test vectors of FNV-1a, 64 bits.
        assert_eq!(hash(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(hash(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(hash(b"foobar"), 0x8594_4171_f739_67e8);
        assert_ne!(hash(&[0xab; 32]), hash(&[0xac; 32]));
    }
}
