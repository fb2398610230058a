//! `kloset-oci-stamp`: writes a copy of a component carrying its package metadata (name,
//! version, description, licenses, source, revision) in the custom sections that
//! `wasm-tools metadata show` and `wkg publish` read. Used by `scripts/release`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use kloset_oci_host::metadata::{self, PackageMetadata};

#[derive(Parser)]
#[command(
    name = "kloset-oci-stamp",
    about = "Stamp package metadata into a component"
)]
struct Args {
    /// The component to read.
    input: PathBuf,
    /// Where to write the stamped component (replaced atomically).
    output: PathBuf,
    /// The package name, e.g. kloset:oci.
    #[arg(long)]
    name: Option<String>,
    #[arg(long = "package-version", value_name = "VERSION")]
    version: Option<String>,
    #[arg(long)]
    description: Option<String>,
    #[arg(long)]
    licenses: Option<String>,
    #[arg(long)]
    source: Option<String>,
    #[arg(long)]
    revision: Option<String>,
    #[arg(long)]
    homepage: Option<String>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let wanted = PackageMetadata {
        name: args.name,
        version: args.version,
        description: args.description,
        licenses: args.licenses,
        source: args.source,
        revision: args.revision,
        homepage: args.homepage,
    };
    let result = std::fs::read(&args.input)
        .map_err(|e| format!("cannot read {}: {e}", args.input.display()))
        .and_then(|wasm| metadata::stamp(&wasm, &wanted).map_err(|e| e.to_string()))
        .and_then(|stamped| {
            // The stamp must read back exactly, or the output is not written.
            let got = metadata::read(&stamped).map_err(|e| e.to_string())?;
            if got != wanted {
                return Err(format!("stamped metadata reads back as {got:?}"));
            }
            let tmp = args.output.with_extension("wasm.tmp");
            std::fs::write(&tmp, &stamped)
                .and_then(|()| std::fs::rename(&tmp, &args.output))
                .map_err(|e| format!("cannot write {}: {e}", args.output.display()))
        });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("kloset-oci-stamp: {message}");
            ExitCode::from(1)
        }
    }
}
