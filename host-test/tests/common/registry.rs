//! A local distribution registry (`docker-registry serve`, Debian's distribution 2.8.2) on a
//! free loopback port, with its storage in a temporary directory.
//!
//! The registry runs under a small `sh` wrapper that holds a pipe from the test process:
//! when the test process ends, even without running destructors (statics never drop), the
//! pipe closes and the wrapper kills the registry and removes its directory.

use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

use tempfile::TempDir;

/// The registry program: `$KLOSET_OCI_REGISTRY_BIN`, else `docker-registry` from PATH.
fn registry_program() -> String {
    std::env::var("KLOSET_OCI_REGISTRY_BIN").unwrap_or_else(|_| "docker-registry".to_string())
}

/// Kills the registry when its stdin gets a line (`stop`) or closes; on close, the test
/// process is gone: remove the data directory too. $1 program, $2 config, $3 directory.
const WRAPPER: &str = r#"
"$1" serve "$2" >>"$3/registry.log" 2>&1 &
pid=$!
if read -r line; then
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
else
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    rm -rf -- "$3"
fi
"#;

const READY_TRIES: u32 = 100;
const READY_PAUSE: Duration = Duration::from_millis(50);

pub struct Registry {
    port: u16,
    dir: TempDir,
    config: PathBuf,
    running: Option<(Child, ChildStdin)>,
}

impl Registry {
    /// Starts a registry with deletes enabled on a free loopback port.
    pub fn start_new() -> Registry {
        Registry::start_with_config("")
    }

    /// Starts a registry whose YAML config gets `extra` appended (top-level sections such as
    /// `auth:`), for setups other than plain HTTP.
    pub fn start_with_config(extra: &str) -> Registry {
        let dir = tempfile::Builder::new()
            .prefix("kloset-oci-registry-")
            .tempdir()
            .expect("create a temporary directory for the registry");
        let port = free_loopback_port();
        let data = dir.path().join("data");
        fs::create_dir(&data).expect("create the registry data directory");
        let config = dir.path().join("config.yml");
        let yaml = format!(
            "version: 0.1\n\
             log:\n  level: warn\n  accesslog:\n    disabled: true\n\
             storage:\n  filesystem:\n    rootdirectory: {data}\n  delete:\n    enabled: true\n\
             http:\n  addr: 127.0.0.1:{port}\n  secret: kloset-oci-test-secret\n{extra}",
            data = data.display(),
        );
        fs::write(&config, yaml).expect("write the registry config");
        let mut registry = Registry {
            port,
            dir,
            config,
            running: None,
        };
        registry.start();
        registry
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:PORT`.
    pub fn authority(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Starts the registry (again) on the same port and directory; waits until it answers.
    pub fn start(&mut self) {
        assert!(self.running.is_none(), "the registry is already running");
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(WRAPPER)
            .arg("kloset-oci-registry")
            .arg(registry_program())
            .arg(&self.config)
            .arg(self.dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start sh for the registry");
        let stdin = child.stdin.take().expect("piped stdin");
        self.running = Some((child, stdin));
        self.wait_until_ready();
    }

    /// Kills the registry and waits for it to exit.
    pub fn stop(&mut self) {
        if let Some((mut child, mut stdin)) = self.running.take() {
            let _ = stdin.write_all(b"stop\n");
            drop(stdin);
            let _ = child.wait();
        }
    }

    /// Runs `garbage-collect --delete-untagged` on the stopped registry; it must succeed.
    pub fn garbage_collect(&self) -> String {
        assert!(
            self.running.is_none(),
            "stop the registry before collecting garbage"
        );
        let out = Command::new(registry_program())
            .arg("garbage-collect")
            .arg("--delete-untagged")
            .arg(&self.config)
            .output()
            .expect("run docker-registry garbage-collect");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.status.success(),
            "garbage-collect failed ({}):\n{}",
            out.status,
            tail(&text)
        );
        text
    }

    /// How many blobs the registry keeps on disk (`.../blobs/sha256/<xx>/<digest>/data`).
    pub fn blob_count(&self) -> usize {
        let root = self.dir.path().join("data/docker/registry/v2/blobs/sha256");
        let Ok(prefixes) = fs::read_dir(&root) else {
            return 0;
        };
        prefixes
            .flatten()
            .filter_map(|prefix| fs::read_dir(prefix.path()).ok())
            .flat_map(|blobs| blobs.flatten())
            .filter(|blob| blob.path().join("data").is_file())
            .count()
    }

    /// The last lines of the registry's log.
    pub fn log_tail(&self) -> String {
        let log = fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default();
        tail(&log)
    }

    fn wait_until_ready(&mut self) {
        for _ in 0..READY_TRIES {
            if answers_v2(self.port) {
                return;
            }
            if let Some((child, _)) = self.running.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    panic!("the registry exited ({status}):\n{}", self.log_tail());
                }
            }
            std::thread::sleep(READY_PAUSE);
        }
        let log = self.log_tail();
        self.stop();
        panic!(
            "the registry on port {} did not answer GET /v2/:\n{log}",
            self.port
        );
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A port nothing listens on right now: bind port 0 on loopback, read it, let it go.
fn free_loopback_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().expect("local address").port()
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
