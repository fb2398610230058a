//! The WIT `store` interface, exported over the protocol core. This is the one place where
//! core errors become the WIT `error` variant.

use std::cell::RefCell;

use crate::bindings::exports::kloset::storage::store::{
    self as wit, Guest, GuestReader, GuestStore, GuestWriter,
};
use crate::bindings::kloset::storage::types::{
    Error as WitError, Kind as WitKind, LayerStats, Mode, Range,
};
use crate::blob_read::{BlobReader, ByteRange};
use crate::error::{Error, ErrorKind};
use crate::layout::{Kind, Mac};
use crate::options::Options;
use crate::store::{ObjectWriter, Store};
use crate::wasi_clock::WasiClock;
use crate::wasi_transport::WasiTransport;

struct Component;

impl Guest for Component {
    type Store = StoreResource;
    type Reader = ReaderResource;
    type Writer = WriterResource;
}

crate::bindings::export!(Component with_types_in crate::bindings);

type WitResult<T> = Result<T, WitError>;

/// Core error -> WIT error, case by case from the table of `crate::with_wit_error_cases`.
fn to_wit(e: Error) -> WitError {
    let m = e.message;
    macro_rules! to_case {
        ($($case:ident),*) => {
            match e.kind {
                $(ErrorKind::$case => WitError::$case(m),)*
                // The host's own kind: the protocol core never makes it.
                ErrorKind::Host => WitError::Other(m),
            }
        };
    }
    crate::with_wit_error_cases!(to_case)
}

/// The kinds kloset uses; the ECC kinds are not stored by this backend.
fn kind(k: WitKind) -> Result<Kind, Error> {
    match k {
        WitKind::Packfile => Ok(Kind::Packfile),
        WitKind::State => Ok(Kind::State),
        WitKind::Lock => Ok(Kind::Lock),
        WitKind::EccPackfile | WitKind::EccState => Err(Error::new(
            ErrorKind::Unsupported,
            format!("{k:?} objects are not supported by the oci store"),
        )),
    }
}

fn object(k: WitKind, mac: &[u8]) -> Result<(Kind, Mac), Error> {
    Ok((kind(k)?, Mac::from_slice(mac)?))
}

pub struct StoreResource {
    store: Store,
}

impl GuestStore for StoreResource {
    fn connect(location: String, options: Vec<(String, String)>) -> WitResult<wit::Store> {
        let options = Options::parse(&options).map_err(to_wit)?;
        let transport = Box::new(WasiTransport::new(options.timeouts));
        let clock = std::rc::Rc::new(WasiClock::default());
        let store = Store::connect(transport, clock, &location, &options).map_err(to_wit)?;
        Ok(wit::Store::new(StoreResource { store }))
    }

    fn create(&self, config: Vec<u8>) -> WitResult<()> {
        self.store.create(&config).map_err(to_wit)
    }

    fn open(&self) -> WitResult<Vec<u8>> {
        self.store.open().map_err(to_wit)
    }

    fn ping(&self) -> WitResult<()> {
        self.store.ping().map_err(to_wit)
    }

    fn origin(&self) -> String {
        self.store.origin()
    }

    fn store_type(&self) -> String {
        "oci".to_string()
    }

    fn root(&self) -> String {
        self.store.root()
    }

    fn flags(&self) -> u32 {
        0
    }

    fn mode(&self) -> WitResult<Mode> {
        Ok(Mode::READ | Mode::WRITE)
    }

    fn size(&self) -> WitResult<i64> {
        // A registry has no cheap way to add up a repository; kloset takes -1 as unknown.
        Ok(-1)
    }

    fn list(&self, k: WitKind) -> WitResult<Vec<Vec<u8>>> {
        let k = kind(k).map_err(to_wit)?;
        let macs = self.store.list(k).map_err(to_wit)?;
        Ok(macs.into_iter().map(|m| m.0.to_vec()).collect())
    }

    fn put(&self, k: WitKind, mac: Vec<u8>) -> WitResult<wit::Writer> {
        let (k, mac) = object(k, &mac).map_err(to_wit)?;
        let writer = self.store.put(k, mac);
        Ok(wit::Writer::new(WriterResource {
            writer: RefCell::new(writer),
        }))
    }

    fn get(&self, k: WitKind, mac: Vec<u8>, range: Option<Range>) -> WitResult<wit::Reader> {
        let (k, mac) = object(k, &mac).map_err(to_wit)?;
        let range = range.map(|r| ByteRange {
            offset: r.offset,
            length: r.length,
        });
        let reader = self.store.get(k, mac, range).map_err(to_wit)?;
        Ok(wit::Reader::new(ReaderResource {
            reader: RefCell::new(reader),
        }))
    }

    fn delete(&self, k: WitKind, mac: Vec<u8>) -> WitResult<()> {
        let (k, mac) = object(k, &mac).map_err(to_wit)?;
        self.store.delete(k, mac).map_err(to_wit)
    }

    fn stats(&self) -> LayerStats {
        let s = self.store.stats();
        LayerStats {
            retries: s.retries,
            redirects: s.redirects,
            credential_renewals: s.credential_renewals,
        }
    }
}

pub struct ReaderResource {
    reader: RefCell<BlobReader>,
}

impl GuestReader for ReaderResource {
    fn read(&self, max: u32) -> WitResult<Vec<u8>> {
        self.reader.borrow_mut().read(max as usize).map_err(to_wit)
    }
}

pub struct WriterResource {
    writer: RefCell<ObjectWriter>,
}

impl GuestWriter for WriterResource {
    fn write(&self, chunk: Vec<u8>) -> WitResult<()> {
        self.writer.borrow_mut().write(&chunk).map_err(to_wit)
    }

    fn finish(&self) -> WitResult<u64> {
        self.writer.borrow_mut().finish().map_err(to_wit)
    }
}
