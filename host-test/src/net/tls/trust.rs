//! What the host trusts for https: the system's roots plus, optionally, the certificates of
//! a CA file (`--ca-file`, `-o ca_file=`). The file is checked when it is given: it must
//! exist and hold at least one PEM certificate that parses as a trust anchor.

use std::fmt;
use std::path::{Path, PathBuf};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

use crate::error::{ErrorKind, StoreError};

/// The largest CA file read.
const MAX_CA_FILE: u64 = 4 << 20;

/// The certificates of a CA file, checked.
#[derive(Clone)]
pub struct CaBundle {
    path: PathBuf,
    certificates: Vec<CertificateDer<'static>>,
}

impl CaBundle {
    /// Reads and checks the PEM file at `path`.
    pub fn load(path: &Path) -> Result<CaBundle, StoreError> {
        let shown = path.display();
        let invalid = |why: String| {
            StoreError::new(ErrorKind::InvalidConfig, format!("CA file {shown}: {why}"))
        };
        let metadata = std::fs::metadata(path).map_err(|e| invalid(e.to_string()))?;
        if !metadata.is_file() {
            return Err(invalid("not a file".into()));
        }
        if metadata.len() > MAX_CA_FILE {
            return Err(invalid(format!("larger than {MAX_CA_FILE} bytes")));
        }
        let pem = std::fs::read(path).map_err(|e| invalid(e.to_string()))?;
        let certificates = CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| invalid(format!("not PEM: {e}")))?;
        if certificates.is_empty() {
            return Err(invalid(
                "no PEM certificate (-----BEGIN CERTIFICATE-----) in it".into(),
            ));
        }
        let mut roots = rustls::RootCertStore::empty();
        for (n, certificate) in certificates.iter().enumerate() {
            roots.add(certificate.clone()).map_err(|e| {
                invalid(format!(
                    "certificate {} cannot be a trust anchor: {e}",
                    n + 1
                ))
            })?;
        }
        Ok(CaBundle {
            path: path.to_path_buf(),
            certificates,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many certificates the file holds.
    pub fn len(&self) -> usize {
        self.certificates.len()
    }

    pub fn is_empty(&self) -> bool {
        self.certificates.is_empty()
    }

    pub(crate) fn certificates(&self) -> &[CertificateDer<'static>] {
        &self.certificates
    }
}

impl fmt::Debug for CaBundle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaBundle")
            .field("path", &self.path)
            .field("certificates", &self.certificates.len())
            .finish()
    }
}
