//! The `kloset-oci` command line: its options and commands (parsed by clap).

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "kloset-oci",
    version,
    about = "Use a kloset store kept in an OCI registry"
)]
pub struct Cli {
    /// The kloset-oci component: a file, or oci://host[:port]/repo:tag or
    /// oci://host[:port]/repo@sha256:digest (default: $KLOSET_OCI_COMPONENT, else the
    /// workspace build).
    #[arg(long, value_name = "PATH|REF")]
    pub component: Option<PathBuf>,
    /// The store: oci://host[:port]/repository/path.
    #[arg(
        long,
        value_name = "URL",
        env = "KLOSET_OCI_LOCATION",
        hide_env_values = true
    )]
    pub location: Option<String>,
    /// An option for the component, e.g. plain_http=true (repeatable); credentials:
    /// username=NAME with password_env=VAR or password_stdin=true, or token_env=VAR.
    #[arg(short = 'o', value_name = "KEY=VALUE")]
    pub options: Vec<String>,
    /// A CA certificate file (PEM) to trust for https besides the system's roots.
    #[arg(long, value_name = "PATH")]
    pub ca_file: Option<PathBuf>,
    /// Print the requests by method, the retries and the bytes on stderr afterwards.
    #[arg(long)]
    pub stats: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Initialise the store with the config bytes from FILE, or stdin.
    Create { file: Option<PathBuf> },
    /// Write the store's config bytes to stdout.
    Open,
    /// Check that the registry answers.
    Ping,
    /// Print the store's mode, e.g. "read,write".
    Mode,
    /// Print the store's size in bytes, or -1 where unknown.
    Size,
    /// Print every MAC of KIND, one lowercase hex MAC per line, sorted.
    List { kind: String },
    /// Store an object from FILE, or stdin; print the bytes written.
    Put {
        kind: String,
        mac: String,
        file: Option<PathBuf>,
    },
    /// Write an object, or LENGTH bytes of it from OFFSET, to stdout.
    Get {
        kind: String,
        mac: String,
        #[arg(long, value_name = "N", requires = "length")]
        offset: Option<u64>,
        #[arg(long, value_name = "N", requires = "offset")]
        length: Option<u32>,
    },
    /// Remove an object.
    Delete { kind: String, mac: String },
    /// Measure the component against a native client doing the same requests, on a local
    /// registry it starts (or on the plain-HTTP registry of --location); print a table.
    Bench {
        /// Small sizes and few samples: checks that the bench works.
        #[arg(long)]
        quick: bool,
        /// Only the scale workload, at these store sizes (objects, comma-separated; without
        /// it, every workload runs, the scale one at 1000,10000, or 50,500 with
        /// --quick).
        #[arg(long, value_name = "N[,N...]", value_delimiter = ',')]
        objects: Vec<usize>,
        /// The self-contained component to measure beside the component (default: the one
        /// scripts/setup.sh builds, where it exists).
        #[arg(long, value_name = "FILE")]
        self_contained: Option<PathBuf>,
    },
}
