//! `kloset-oci`: drive a kloset-oci store from the command line.
//!
//! Exit status: 0 on success, 2 when the object or store is not found, 1 on any other
//! failure (usage errors included). A failure prints one line on stderr.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::error::ErrorKind as ClapErrorKind;
use clap::Parser;
use kloset_oci_host::{
    credentials, default_component_path, mac_hex, parse_mac, stats_line, AllowedAuthority, Backend,
    ByteRange, ComponentReference, ErrorKind, HostSettings, Kind, Mac, PullOptions, Store,
    StoreError,
};
use tokio::io::AsyncWriteExt;

use progress::Progress;

#[cfg(feature = "testkit")]
mod bench;
mod cli_args;
mod progress;
use cli_args::{Cli, Command};

/// A failure: what was being done (the object, the store) and why.
struct Failure {
    subject: String,
    error: StoreError,
}

fn fail(subject: impl Into<String>) -> impl FnOnce(StoreError) -> Failure {
    let subject = subject.into();
    move |error| Failure { subject, error }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err)
            if matches!(
                err.kind(),
                ClapErrorKind::DisplayHelp | ClapErrorKind::DisplayVersion
            ) =>
        {
            let _ = err.print();
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            eprintln!("kloset-oci: {} (see --help)", usage_line(&err.to_string()));
            return ExitCode::from(1);
        }
    };
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure { subject, error }) => {
            let message = one_line(&error.message);
            // The component's message often names the object already: say it once.
            let named = subject
                .split_whitespace()
                .next_back()
                .is_some_and(|key| message.contains(key));
            // How this command takes a CA certificate: the library's message cannot say. Said
            // for every `tls` error (an untrusted certificate or a failed handshake): the kind
            // is what a caller acts on, never the wording of a message.
            let hint = match error.kind {
                ErrorKind::Tls => " (a private CA: --ca-file PATH or -o ca_file=PATH)",
                _ => "",
            };
            if subject.is_empty() || named {
                eprintln!("kloset-oci: {}: {message}{hint}", error.kind);
            } else {
                eprintln!("kloset-oci: {}: {subject}: {message}{hint}", error.kind);
            }
            if error.kind == ErrorKind::NotFound {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}

async fn run(cli: Cli) -> Result<(), Failure> {
    // Check the arguments before loading anything.
    let options = parse_options(&cli.options).map_err(fail(""))?;
    if let Command::Bench { .. } = cli.command {
        // The bench takes no credentials; a secret on its command line is refused as anywhere.
        credentials::refuse_command_line_secrets(&options).map_err(fail(""))?;
        return bench(cli, options).await;
    }
    let location = cli.location.clone().ok_or_else(|| Failure {
        subject: String::new(),
        error: StoreError::new(
            ErrorKind::InvalidConfig,
            "no location: pass --location oci://host[:port]/repository or set KLOSET_OCI_LOCATION",
        ),
    })?;
    let registry = AllowedAuthority::from_location(&location).map_err(fail(""))?;
    let stdin_is_data = matches!(
        cli.command,
        Command::Create { file: None } | Command::Put { file: None, .. }
    );
    let resolved = credentials::resolve(
        options,
        cli.ca_file.as_deref(),
        &registry.display(),
        credentials::Sources::process(&mut std::io::stdin(), stdin_is_data),
    )
    .map_err(fail(""))?;
    let options = resolved.component_options();
    let settings = HostSettings {
        ca: resolved.ca_bundle.clone(),
        private_hosts: resolved.private_hosts,
        ..HostSettings::default()
    };
    let target = match &cli.command {
        Command::List { kind } => Some((parse_kind(kind)?, None)),
        Command::Put { kind, mac, .. }
        | Command::Get { kind, mac, .. }
        | Command::Delete { kind, mac } => Some((parse_kind(kind)?, Some(parse_object_mac(mac)?))),
        _ => None,
    };
    let component = cli.component.clone().unwrap_or_else(default_component_path);
    let backend = load_component(&component, &options, &settings)
        .await
        .map_err(fail(""))?;
    let mut store = backend
        .connect_with(&location, &options, &settings)
        .await
        .map_err(fail(format!("store {location}")))?;
    let store_subject = format!("store {location}");
    let outcome = execute(&mut store, cli.command, target, store_subject).await;
    if cli.stats {
        print_stats(&mut store).await;
    }
    outcome?;
    store.close().await.map_err(fail(""))
}

/// The requests, retries and bytes of this run, on stderr.
async fn print_stats(store: &mut Store) {
    match store.layer_stats().await {
        Ok(layers) => eprintln!("kloset-oci: stats: {}", stats_line(&store.stats(), &layers)),
        Err(e) => eprintln!("kloset-oci: stats: {}", one_line(&e.to_string())),
    }
}

async fn execute(
    store: &mut Store,
    command: Command,
    target: Option<(Kind, Option<Mac>)>,
    store_subject: String,
) -> Result<(), Failure> {
    match (command, target) {
        (Command::Create { file }, _) => {
            let config = read_input(file.as_ref()).await.map_err(fail("config"))?;
            store.create(&config).await.map_err(fail(store_subject))?;
        }
        (Command::Open, _) => {
            let config = store.open().await.map_err(fail(store_subject))?;
            write_stdout(&config).await?;
        }
        (Command::Ping, _) => store.ping().await.map_err(fail(store_subject))?,
        (Command::Mode, _) => {
            let mode = store.mode().await.map_err(fail(store_subject))?;
            println!("{mode}");
        }
        (Command::Size, _) => {
            let size = store.size().await.map_err(fail(store_subject))?;
            println!("{size}");
        }
        (Command::List { .. }, Some((kind, _))) => {
            let mut macs = store
                .list(kind)
                .await
                .map_err(fail(format!("list {kind}")))?;
            macs.sort_unstable();
            let mut out = String::with_capacity(macs.len() * 65);
            for mac in &macs {
                out.push_str(&mac_hex(mac));
                out.push('\n');
            }
            write_stdout(out.as_bytes()).await?;
        }
        (Command::Put { file, .. }, Some((kind, Some(mac)))) => {
            let written = put(store, kind, &mac, file).await?;
            println!("{written}");
        }
        (Command::Get { offset, length, .. }, Some((kind, Some(mac)))) => {
            let range = match (offset, length) {
                (Some(offset), Some(length)) => Some(ByteRange::new(offset, length)),
                _ => None,
            };
            let progress = Progress::on_terminal("get", range.map(|r| u64::from(r.length)));
            let stdout = progress.writer(tokio::io::stdout());
            let got = store.get_to(kind, &mac, range, stdout).await;
            progress.finish();
            got.map_err(fail(object(kind, &mac)))?;
        }
        (Command::Delete { .. }, Some((kind, Some(mac)))) => {
            store
                .delete(kind, &mac)
                .await
                .map_err(fail(object(kind, &mac)))?;
        }
        _ => unreachable!("every command's arguments were parsed above"),
    }
    Ok(())
}

/// A component file, or an `oci://` reference pulled and checked by digest first (plain HTTP
/// for loopback registries, or as `-o plain_http=` says; https trusting the CA file too).
async fn load_component(
    component: &std::path::Path,
    options: &[(String, String)],
    settings: &HostSettings,
) -> Result<Backend, StoreError> {
    let Some(reference) = component
        .to_str()
        .filter(|text| ComponentReference::is_reference(text))
    else {
        return Backend::load(component);
    };
    let plain_http = match options.iter().rev().find(|(key, _)| key == "plain_http") {
        None => None,
        Some((_, value)) if value == "true" => Some(true),
        Some((_, value)) if value == "false" => Some(false),
        Some(_) => {
            return Err(StoreError::new(
                ErrorKind::InvalidConfig,
                "plain_http must be true or false",
            ))
        }
    };
    let pull = PullOptions {
        plain_http,
        ca: settings.ca.clone(),
        ..PullOptions::default()
    };
    Backend::load_reference(reference, &pull).await
}

#[cfg(feature = "testkit")]
async fn bench(cli: Cli, options: Vec<(String, String)>) -> Result<(), Failure> {
    let Command::Bench {
        quick,
        objects,
        self_contained,
    } = cli.command
    else {
        unreachable!("called for `bench` only");
    };
    let self_contained = self_contained
        .or_else(|| Some(kloset_oci_host::self_contained_component_path()).filter(|p| p.is_file()));
    let args = bench::BenchArgs {
        component: cli.component.unwrap_or_else(default_component_path),
        self_contained,
        location: cli.location,
        options,
        quick,
        objects,
    };
    let report = bench::run(args).await.map_err(|e| Failure {
        subject: "bench".into(),
        error: StoreError::host(e.to_string()),
    })?;
    write_stdout(report.as_bytes()).await
}

/// A host built without the test kit has no bench: it would start registries and inject
/// nothing, but it carries none of that code.
#[cfg(not(feature = "testkit"))]
async fn bench(_: Cli, _: Vec<(String, String)>) -> Result<(), Failure> {
    Err(Failure {
        subject: "bench".into(),
        error: StoreError::host(
            "this kloset-oci was built without its bench (the cargo feature `testkit`): \
             build it with `cargo build -p kloset-oci-host --features testkit`",
        ),
    })
}

async fn put(
    store: &mut Store,
    kind: Kind,
    mac: &Mac,
    file: Option<PathBuf>,
) -> Result<u64, Failure> {
    // The bytes come from the file, whose size the progress shows, or from stdin.
    let (source, size): (Box<dyn tokio::io::AsyncRead + Unpin + Send>, _) = match file {
        Some(path) => {
            let file = tokio::fs::File::open(&path).await.map_err(|e| Failure {
                subject: path.display().to_string(),
                error: StoreError::host(format!("cannot open: {e}")),
            })?;
            let size = file.metadata().await.ok().map(|m| m.len());
            (Box::new(file), size)
        }
        None => (Box::new(tokio::io::stdin()), None),
    };
    let progress = Progress::on_terminal("put", size);
    let put = store.put_from(kind, mac, progress.reader(source)).await;
    progress.finish();
    put.map_err(fail(object(kind, mac)))
}

fn object(kind: Kind, mac: &Mac) -> String {
    format!("{kind} {}", mac_hex(mac))
}

/// KIND for the command line: packfile, state or lock.
fn parse_kind(text: &str) -> Result<Kind, Failure> {
    match text {
        "packfile" => Ok(Kind::Packfile),
        "state" => Ok(Kind::State),
        "lock" => Ok(Kind::Lock),
        _ => Err(Failure {
            subject: String::new(),
            error: StoreError::new(
                ErrorKind::InvalidArgument,
                format!(
                    "unknown kind {:?}: use packfile, state or lock",
                    short(text)
                ),
            ),
        }),
    }
}

fn parse_object_mac(text: &str) -> Result<Mac, Failure> {
    parse_mac(text).map_err(fail(""))
}

/// `-o KEY=VALUE` options. Values are never echoed: they may be secrets.
fn parse_options(raw: &[String]) -> Result<Vec<(String, String)>, StoreError> {
    raw.iter()
        .map(|item| match item.split_once('=') {
            Some((key, value)) if !key.is_empty() => Ok((key.to_string(), value.to_string())),
            Some(_) => Err(StoreError::new(
                ErrorKind::InvalidConfig,
                "option with an empty key: use -o KEY=VALUE",
            )),
            None => Err(StoreError::new(
                ErrorKind::InvalidConfig,
                "an option without '=': use -o KEY=VALUE",
            )),
        })
        .collect()
}

async fn read_input(file: Option<&PathBuf>) -> Result<Vec<u8>, StoreError> {
    match file {
        Some(path) => tokio::fs::read(path)
            .await
            .map_err(|e| StoreError::host(format!("cannot read {}: {e}", path.display()))),
        None => {
            let mut bytes = Vec::new();
            tokio::io::AsyncReadExt::read_to_end(&mut tokio::io::stdin(), &mut bytes)
                .await
                .map_err(|e| StoreError::host(format!("cannot read stdin: {e}")))?;
            Ok(bytes)
        }
    }
}

async fn write_stdout(bytes: &[u8]) -> Result<(), Failure> {
    let mut stdout = tokio::io::stdout();
    let result = async {
        stdout.write_all(bytes).await?;
        stdout.flush().await
    }
    .await;
    result.map_err(|e| Failure {
        subject: "stdout".into(),
        error: StoreError::host(e.to_string()),
    })
}

/// Clap's error as one line: the text before "Usage:", without the "error: " prefix.
fn usage_line(rendered: &str) -> String {
    let before_usage = rendered.split("\nUsage:").next().unwrap_or(rendered);
    let text = one_line(before_usage);
    text.strip_prefix("error: ").unwrap_or(&text).to_string()
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn short(text: &str) -> String {
    text.chars().take(80).collect()
}
