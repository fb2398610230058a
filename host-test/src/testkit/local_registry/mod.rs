//! A throwaway registry on a free loopback port, with its storage in a temporary directory:
//! for the test suites and `kloset-oci bench`. Distribution 2.8 (Debian's `docker-registry`)
//! unless another [`Implementation`] is asked for (`implementation.rs`).
//!
//! The registry runs under a small `sh` wrapper that holds a pipe from this process: when the
//! process ends, even without running destructors, the pipe closes and the wrapper kills the
//! registry and removes its directory.

mod implementation;

use std::ffi::OsString;
use std::fmt;
use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

use tempfile::TempDir;

pub use implementation::{Implementation, CRANE_BIN_ENV, DISTRIBUTION3_BIN_ENV, REGISTRY_BIN_ENV};

/// Kills the registry when its stdin gets a line (`stop`) or closes; on close, this process
/// is gone: remove the data directory too. $1 directory, then the program and its arguments.
const WRAPPER: &str = r#"
dir=$1
shift
"$@" >>"$dir/registry.log" 2>&1 &
pid=$!
if read -r line; then
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
else
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    rm -rf -- "$dir"
fi
"#;

const READY_TRIES: u32 = 100;
const READY_PAUSE: Duration = Duration::from_millis(50);

/// Why a local registry could not be started or used.
#[derive(Debug)]
pub struct RegistryError(pub String);

impl fmt::Display for RegistryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RegistryError {}

fn io_error(doing: &str) -> impl FnOnce(std::io::Error) -> RegistryError + '_ {
    move |e| RegistryError(format!("cannot {doing}: {e}"))
}

pub struct LocalRegistry {
    implementation: Implementation,
    port: u16,
    dir: TempDir,
    program: OsString,
    args: Vec<OsString>,
    running: Option<(Child, ChildStdin)>,
}

impl LocalRegistry {
    /// Starts distribution 2.8 with deletes enabled on a free loopback port; its YAML config
    /// gets `extra` appended (top-level sections such as `auth:`).
    pub fn start_with_config(extra: &str) -> Result<LocalRegistry, RegistryError> {
        LocalRegistry::start_implementation(Implementation::Distribution2, extra)
    }

    /// Starts `implementation` with deletes enabled on a free loopback port. `extra` is
    /// appended to a distribution config; an implementation without one takes none.
    pub fn start_implementation(
        implementation: Implementation,
        extra: &str,
    ) -> Result<LocalRegistry, RegistryError> {
        LocalRegistry::start_configured(implementation, extra, true)
    }

    /// Starts distribution (2.8 or 3) with `storage.delete.enabled: false`: it answers every
    /// delete 405 `UNSUPPORTED`, as Docker Hub and GHCR do through the registry API.
    pub fn start_without_deletes(
        implementation: Implementation,
    ) -> Result<LocalRegistry, RegistryError> {
        LocalRegistry::start_configured(implementation, "", false)
    }

    fn start_configured(
        implementation: Implementation,
        extra: &str,
        deletes: bool,
    ) -> Result<LocalRegistry, RegistryError> {
        let program = implementation.program()?;
        let dir = tempfile::Builder::new()
            .prefix("kloset-oci-registry-")
            .tempdir()
            .map_err(io_error("create a temporary directory for the registry"))?;
        let port = free_loopback_port()?;
        let data = dir.path().join("data");
        fs::create_dir(&data).map_err(io_error("create the registry data directory"))?;
        let args = implementation.prepare(dir.path(), &data, port, extra, deletes)?;
        let mut registry = LocalRegistry {
            implementation,
            port,
            dir,
            program,
            args,
            running: None,
        };
        registry.start()?;
        Ok(registry)
    }

    /// The program that serves.
    pub fn implementation(&self) -> Implementation {
        self.implementation
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:PORT`.
    pub fn authority(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The storage root (distribution's `storage.filesystem.rootdirectory`, crane's `--disk`):
    /// distribution keeps blobs under `docker/registry/v2/blobs/sha256/<2 hex>/<hex>/data`
    /// in it.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Starts the registry (again) on the same port and directory; waits until it answers.
    /// What it holds then depends on [`Implementation::keeps_data_across_restarts`].
    pub fn start(&mut self) -> Result<(), RegistryError> {
        if self.running.is_some() {
            return Err(RegistryError("the registry is already running".into()));
        }
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(WRAPPER)
            .arg("kloset-oci-registry")
            .arg(self.dir.path())
            .arg(&self.program)
            .args(&self.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(io_error("start sh for the registry"))?;
        let stdin = child.stdin.take().expect("stdin is piped");
        self.running = Some((child, stdin));
        self.wait_until_ready()
    }

    /// Kills the registry and waits for it to exit.
    pub fn stop(&mut self) {
        if let Some((mut child, mut stdin)) = self.running.take() {
            let _ = stdin.write_all(b"stop\n");
            drop(stdin);
            let _ = child.wait();
        }
    }

    /// Runs `garbage-collect --delete-untagged` on the stopped registry; returns its output.
    pub fn garbage_collect(&self) -> Result<String, RegistryError> {
        if self.running.is_some() {
            return Err(RegistryError(
                "stop the registry before collecting garbage".into(),
            ));
        }
        let args = self.implementation.garbage_collect_args(self.dir.path())?;
        let out = Command::new(&self.program)
            .args(args)
            .output()
            .map_err(io_error("run garbage-collect"))?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if !out.status.success() {
            return Err(RegistryError(format!(
                "garbage-collect failed ({}):\n{}",
                out.status,
                tail(&text)
            )));
        }
        Ok(text)
    }

    /// How many blobs the registry keeps on disk.
    pub fn blob_count(&self) -> usize {
        self.implementation.blob_count(&self.data_dir())
    }

    /// The last lines of the registry's log.
    pub fn log_tail(&self) -> String {
        let log = fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default();
        tail(&log)
    }

    fn wait_until_ready(&mut self) -> Result<(), RegistryError> {
        for _ in 0..READY_TRIES {
            if answers_v2(self.port) {
                return Ok(());
            }
            if let Some((child, _)) = self.running.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    self.running = None;
                    return Err(RegistryError(format!(
                        "{} exited ({status}):\n{}",
                        self.implementation,
                        self.log_tail()
                    )));
                }
            }
            std::thread::sleep(READY_PAUSE);
        }
        let log = self.log_tail();
        self.stop();
        Err(RegistryError(format!(
            "{} on port {} did not answer GET /v2/ (is {} installed?):\n{log}",
            self.implementation,
            self.port,
            self.program.to_string_lossy()
        )))
    }
}

impl Drop for LocalRegistry {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A port nothing listens on right now: bind port 0 on loopback, read it, let it go.
fn free_loopback_port() -> Result<u16, RegistryError> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(io_error("bind a loopback port"))?;
    let addr = listener
        .local_addr()
        .map_err(io_error("read the bound port"))?;
    Ok(addr.port())
}

/// Whether `GET /v2/` gets an HTTP answer (any status: auth setups answer 401).
fn answers_v2(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request =
        format!("GET /v2/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.")
}

fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}
