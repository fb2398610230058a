//! Real Plakar with the plugin installed from a package: an isolated Plakar home (its data,
//! cache and config folders, a Docker config folder of its own), the package built from the
//! test's plugin executable and the workspace component, and commands run with a time limit.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use tempfile::TempDir;

pub const PASSPHRASE: &str = "kloset-oci plakar test passphrase";
/// What one Plakar command may take here (bounded: a hung command fails the test).
pub const COMMAND_LIMIT: Duration = Duration::from_secs(600);

/// `$PLAKAR` (scripts/setup.sh builds Plakar v1.1.4 and exports it), else `plakar` on PATH.
pub fn plakar_program() -> PathBuf {
    match std::env::var_os("PLAKAR").filter(|p| !p.is_empty()) {
        Some(path) => PathBuf::from(path),
        None => PathBuf::from("plakar"),
    }
}

pub struct Outcome {
    pub success: bool,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    /// Both streams, for messages.
    pub fn text(&self) -> String {
        format!(
            "exit {:?}\nstdout:\n{}\nstderr:\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// One isolated Plakar installation with the kloset-oci package added.
pub struct Plakar {
    pub home: TempDir,
    pub program: PathBuf,
    extra_env: Vec<(String, String)>,
    commands: AtomicU32,
}

impl Plakar {
    pub fn new() -> Plakar {
        let home = tempfile::Builder::new()
            .prefix("kloset-oci-plakar-")
            .tempdir()
            .unwrap();
        let program = plakar_program();
        let plakar = Plakar {
            home,
            program,
            extra_env: Vec::new(),
            commands: AtomicU32::new(0),
        };
        let first = plakar.run(&["-disable-security-check"]);
        assert!(
            first.success,
            "cannot run Plakar ({}); scripts/setup.sh builds it and sets PLAKAR:\n{}",
            plakar.program.display(),
            first.text()
        );
        let version = plakar.run(&["version"]);
        assert!(
            version.stdout.contains("plakar/v1.1.4"),
            "{}",
            version.text()
        );
        let package = plakar.build_package();
        let added = plakar.run(&["pkg", "add", package.to_str().unwrap()]);
        assert!(added.success, "plakar pkg add: {}", added.text());
        plakar
    }

    /// An environment variable for every later command.
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.extra_env.push((key.into(), value.into()));
    }

    fn dir(&self, name: &str) -> PathBuf {
        self.home.path().join(name)
    }

    /// The kloset-oci package from plakar-plugin/manifest.yaml, the test's
    /// plugin executable and the workspace component, by `plakar pkg create`.
    fn build_package(&self) -> PathBuf {
        let stage = self.dir("package");
        fs::create_dir_all(&stage).unwrap();
        let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
        fs::copy(crate_dir.join("manifest.yaml"), stage.join("manifest.yaml")).unwrap();
        fs::copy(
            env!("CARGO_BIN_EXE_kloset-oci-plakar"),
            stage.join("kloset-oci-plakar"),
        )
        .unwrap();
        let component = kloset_oci_host::default_component_path();
        fs::copy(&component, stage.join("kloset_oci.wasm"))
            .unwrap_or_else(|e| panic!("{}: {e} (build the component first)", component.display()));
        let version = format!("v{}", env!("CARGO_PKG_VERSION"));
        // Plakar names the package for the system it runs on: kloset-oci_<version>_<os>_<arch>.
        let out = self.dir("packages");
        fs::create_dir_all(&out).unwrap();
        let manifest = stage.join("manifest.yaml");
        let created = self.run_in(
            &out,
            &["pkg", "create", manifest.to_str().unwrap(), &version],
        );
        assert!(created.success, "plakar pkg create: {}", created.text());
        let mut packages: Vec<PathBuf> = fs::read_dir(&out)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .collect();
        assert_eq!(packages.len(), 1, "{packages:?}");
        let package = packages.pop().unwrap();
        let name = package.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.starts_with(&format!("kloset-oci_{version}_")),
            "{name}"
        );
        package
    }

    pub fn run(&self, args: &[&str]) -> Outcome {
        self.run_in(self.home.path(), args)
    }

    /// Runs Plakar in `cwd` with this installation's folders, at most [`COMMAND_LIMIT`].
    pub fn run_in(&self, cwd: &Path, args: &[&str]) -> Outcome {
        self.spawn_in(cwd, args).wait()
    }

    /// A Plakar command started in the background.
    pub fn spawn(&self, args: &[&str]) -> Running {
        self.spawn_in(self.home.path(), args)
    }

    fn spawn_in(&self, cwd: &Path, args: &[&str]) -> Running {
        let n = self.commands.fetch_add(1, Ordering::Relaxed);
        let stdout = self.dir(&format!("command-{n}.out"));
        let stderr = self.dir(&format!("command-{n}.err"));
        let mut command = Command::new(&self.program);
        command
            .args(args)
            .current_dir(cwd)
            .env("XDG_DATA_HOME", self.dir("data"))
            .env("XDG_CACHE_HOME", self.dir("cache"))
            .env("XDG_CONFIG_HOME", self.dir("config"))
            .env("DOCKER_CONFIG", self.dir("docker"))
            .env("PLAKAR_PASSPHRASE", PASSPHRASE)
            // The package's own component, never the one a developer's shell names.
            .env_remove(kloset_oci_host::COMPONENT_ENV)
            .env_remove("KLOSET_OCI_CACHE_DIR")
            .stdin(Stdio::null())
            .stdout(fs::File::create(&stdout).unwrap())
            .stderr(fs::File::create(&stderr).unwrap());
        for (key, value) in &self.extra_env {
            command.env(key, value);
        }
        let child = command.spawn().expect("start plakar");
        Running {
            child,
            args: args.iter().map(|a| a.to_string()).collect(),
            stdout,
            stderr,
        }
    }

    /// Runs a command that must succeed; returns its stdout.
    #[track_caller]
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.success, "plakar {args:?}: {}", out.text());
        out.stdout
    }
}

/// A Plakar command running in the background.
pub struct Running {
    pub child: Child,
    args: Vec<String>,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Running {
    /// Waits at most [`COMMAND_LIMIT`] for the command to end.
    pub fn wait(mut self) -> Outcome {
        let deadline = Instant::now() + COMMAND_LIMIT;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("plakar {:?} ran past {COMMAND_LIMIT:?}", self.args);
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        Outcome {
            success: status.success(),
            code: status.code(),
            stdout: fs::read_to_string(&self.stdout).unwrap_or_default(),
            stderr: fs::read_to_string(&self.stderr).unwrap_or_default(),
        }
    }
}

/// The snapshot IDs `plakar ls` prints (second column), newest first.
pub fn snapshot_ids(ls: &str) -> Vec<String> {
    ls.lines()
        .filter_map(|line| line.split_whitespace().nth(1))
        .map(str::to_string)
        .collect()
}
