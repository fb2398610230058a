//! Progress of long transfers: shown on a terminal (a pseudo-terminal made by `script`, from
//! util-linux/bsdutils), absent when stderr is a pipe.

use std::process::Command;

use crate::common::data::XorShift;
use crate::common::registry::Registry;

const BIN: &str = env!("CARGO_BIN_EXE_kloset-oci");

fn hex(mac: &[u8; 32]) -> String {
    mac.iter().map(|b| format!("{b:02x}")).collect()
}

/// Single quotes for `sh -c`.
fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[test]
fn a_put_and_a_get_show_progress_on_a_terminal_only() {
    let registry = Registry::start_new();
    let location = registry.fresh_location("cli", "progress");
    let dir = tempfile::tempdir().unwrap();
    let mut rng = XorShift::new(77);
    let (config, object) = (dir.path().join("config"), dir.path().join("object"));
    std::fs::write(&config, b"_KLOSET_cli-config").unwrap();
    std::fs::write(&object, rng.bytes(24 << 20)).unwrap();
    let mac = hex(&rng.mac());
    let command = |args: &str| format!("{} --location {} {args}", quoted(BIN), quoted(&location));
    let piped = |args: &str| {
        let out = Command::new("sh")
            .args(["-c", &command(args)])
            .env_remove("KLOSET_OCI_LOCATION")
            .output()
            .expect("run kloset-oci");
        assert!(out.status.success(), "{args}: {out:?}");
        out
    };
    piped(&format!("create {}", quoted(config.to_str().unwrap())));

    // stderr a pipe: nothing but the command's own output.
    let put = piped(&format!(
        "put packfile {mac} {}",
        quoted(object.to_str().unwrap())
    ));
    assert!(
        put.stderr.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&put.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&put.stdout).trim(), "25165824");
    let get = piped(&format!("get packfile {mac} > /dev/null"));
    assert!(
        get.stderr.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&get.stderr)
    );

    // stderr a terminal: the bar names the transfer and its size, then is cleared.
    let on_terminal = |args: &str| {
        let transcript = dir.path().join("transcript");
        let out = Command::new("script")
            .args(["-q", "-e", "-c", &command(args)])
            .arg(&transcript)
            .env_remove("KLOSET_OCI_LOCATION")
            .output()
            .expect("run script");
        assert!(out.status.success(), "{args}: {out:?}");
        String::from_utf8_lossy(&std::fs::read(&transcript).unwrap()).into_owned()
    };
    let shown = on_terminal(&format!(
        "put packfile {mac} {}",
        quoted(object.to_str().unwrap())
    ));
    assert!(shown.contains("put ["), "{shown:?}");
    assert!(shown.contains("24.00 MiB"), "{shown:?}");
    let shown = on_terminal(&format!("get packfile {mac} > /dev/null"));
    assert!(shown.contains("get "), "{shown:?}");
    assert!(shown.contains("/s"), "{shown:?}");
}
