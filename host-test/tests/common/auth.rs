//! Registries that ask for credentials, and the material they need: one CA and server
//! certificate pair and one htpasswd file per test process, in a directory under the
//! target's test tmpdir named after the process (a later run removes those of processes
//! that are gone).

use std::path::PathBuf;
use std::sync::OnceLock;

use super::htpasswd;
use super::pki::Pki;
use super::registry::Registry;
use super::token_service::TokenService;

/// The htpasswd user and password. The password is long and odd so that a test can look
/// for it in any output.
pub const USER: &str = "kloset-user";
pub const PASSWORD: &str = "pw-Kq7-htpasswd-9xZ2-secret";

pub struct Material {
    pub dir: PathBuf,
    pub pki: Pki,
    pub htpasswd: PathBuf,
}

const PREFIX: &str = "kloset-oci-auth-";

/// This process's material, made once.
pub fn material() -> &'static Material {
    static MATERIAL: OnceLock<Material> = OnceLock::new();
    MATERIAL.get_or_init(|| {
        let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        remove_stale(&base);
        let dir = base.join(format!("{PREFIX}{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the auth material directory");
        let pki = Pki::create(&dir);
        let htpasswd = dir.join("htpasswd");
        htpasswd::write(&htpasswd, &[(USER, PASSWORD)]);
        Material { dir, pki, htpasswd }
    })
}

/// Removes the material of test processes that no longer run.
fn remove_stale(base: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(PREFIX)
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if !PathBuf::from(format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// The `auth:` section for htpasswd (Basic) authentication.
pub fn htpasswd_yaml() -> String {
    format!(
        "auth:\n  htpasswd:\n    realm: kloset-test\n    path: {}\n",
        material().htpasswd.display()
    )
}

/// `tls:` inside the `http:` section (it is appended right after `http.secret`).
pub fn tls_yaml() -> String {
    let pki = &material().pki;
    format!(
        "  tls:\n    certificate: {}\n    key: {}\n",
        pki.server_cert.display(),
        pki.server_key.display()
    )
}

/// Distribution with htpasswd auth, plain HTTP.
pub fn start_htpasswd() -> Registry {
    Registry::start_with_config(&htpasswd_yaml())
}

/// Distribution serving TLS with the harness CA's server certificate, no auth.
pub fn start_tls() -> Registry {
    Registry::start_with_config(&tls_yaml())
}

/// Distribution serving TLS, with htpasswd auth.
pub fn start_tls_htpasswd() -> Registry {
    Registry::start_with_config(&format!("{}{}", tls_yaml(), htpasswd_yaml()))
}

/// Distribution with token auth, trusting `service`.
pub fn start_token(service: &TokenService) -> Registry {
    Registry::start_with_config(&service.registry_auth_yaml(&material().pki))
}

/// Store options carrying the htpasswd user's credentials.
pub fn basic_options() -> Vec<(String, String)> {
    vec![
        ("username".to_string(), USER.to_string()),
        ("password".to_string(), PASSWORD.to_string()),
    ]
}

/// A Docker config directory (for `DOCKER_CONFIG`) whose `config.json` has one `auths` entry:
/// `authority` with base64 `user:password`.
pub fn docker_config_dir(authority: &str, user: &str, password: &str) -> tempfile::TempDir {
    use base64::Engine as _;
    let dir = tempfile::tempdir().unwrap();
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    std::fs::write(
        dir.path().join("config.json"),
        format!(r#"{{"auths": {{"{authority}": {{"auth": "{auth}"}}}}}}"#),
    )
    .unwrap();
    dir
}
