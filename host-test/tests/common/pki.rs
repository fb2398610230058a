//! Test certificates made by the harness: a CA (an EC P-256 key and a self-signed CA
//! certificate) and a server certificate it signs for 127.0.0.1 and localhost. The CA file
//! is what `--ca-file` trusts, distribution's `http.tls` serves the server pair, and the CA
//! key signs the token service's JWTs (the CA certificate is their `x5c` and the registry's
//! `rootcertbundle`).

use std::fs;
use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

pub struct Pki {
    /// The CA certificate, PEM.
    pub ca_file: PathBuf,
    /// The CA certificate, DER (the JWTs' `x5c`).
    pub ca_der: Vec<u8>,
    /// The CA's private key, PKCS#8 DER (signs JWTs).
    pub ca_key_pkcs8: Vec<u8>,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
}

impl Pki {
    /// Makes a new CA and server pair, written into `dir`.
    pub fn create(dir: &Path) -> Pki {
        let ca_key = KeyPair::generate().expect("generate the CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "kloset-oci test CA");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_cert = ca_params.self_signed(&ca_key).expect("self-sign the CA");
        let ca_der = ca_cert.der().to_vec();
        let ca_key_pkcs8 = ca_key.serialize_der();
        let issuer = Issuer::new(ca_params, ca_key);

        let server_key = KeyPair::generate().expect("generate the server key");
        let mut server_params =
            CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
                .expect("server params");
        server_params
            .distinguished_name
            .push(DnType::CommonName, "127.0.0.1");
        let server_cert = server_params
            .signed_by(&server_key, &issuer)
            .expect("sign the server certificate");

        let write = |name: &str, text: String| {
            let path = dir.join(name);
            fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
            path
        };
        Pki {
            ca_file: write("ca.pem", ca_cert.pem()),
            ca_der,
            ca_key_pkcs8,
            server_cert: write("server.pem", server_cert.pem()),
            server_key: write("server.key", server_key.serialize_pem()),
        }
    }
}
