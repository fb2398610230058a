//! `kloset-oci-plakar`: the Plakar storage plugin. Plakar starts it and speaks gRPC on its
//! stdin and stdout; it exits 0 when Plakar closes the connection. Messages go to stderr.

use std::process::ExitCode;

use kloset_oci_plakar::in_flight::SETTLE;
use kloset_oci_plakar::{component, connection, Plugin};

#[tokio::main]
async fn main() -> ExitCode {
    if std::env::args_os().len() > 1 {
        eprintln!(
            "kloset-oci-plakar: a Plakar storage plugin, started by Plakar (plakar pkg add \
             kloset-oci_*.ptar; plakar at oci://host/repo ...); it takes no arguments"
        );
        return ExitCode::from(2);
    }
    let io = match connection::stdio() {
        Ok(io) => io,
        Err(e) => {
            eprintln!("kloset-oci-plakar: cannot use stdin and stdout: {e}");
            return ExitCode::FAILURE;
        }
    };
    let plugin = match component::source() {
        Ok(source) => Plugin::new(source),
        Err(e) => {
            eprintln!("kloset-oci-plakar: {e}");
            return ExitCode::FAILURE;
        }
    };
    plugin.preload();
    let (usage, in_flight) = (plugin.usage(), plugin.in_flight());
    let served = connection::serve(io, plugin).await;
    match served {
        Ok(()) => {}
        Err(e) if connection::ended_by_peer(&e) => {}
        Err(e) => {
            usage.write();
            eprintln!("kloset-oci-plakar: the connection to Plakar failed: {e}");
            // Calls still running are abandoned with the process.
            std::process::exit(1);
        }
    }
    // Plakar closed its end: a call it sent before (a lock delete) still reaches the registry.
    if !in_flight.settle(SETTLE).await {
        eprintln!("kloset-oci-plakar: calls still under way after {SETTLE:?}: abandoned");
    }
    usage.write();
    // Exit at once: the runtime's blocking threads must not hold the exit.
    std::process::exit(0)
}
