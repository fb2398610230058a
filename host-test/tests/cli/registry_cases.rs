// The CLI cases that reach a registry, included by `cli_suite!` in cli.rs once per
// registry implementation.

#[test]
fn create_from_file_then_open() {
    let location = created("create-file");
    assert_eq!(ok(&location, &["open"], b""), b"_KLOSET_cli-config");
    let line = fails(&location, &["create"], 1);
    assert!(line.contains("already exists"), "{line}");
}

#[test]
fn create_from_stdin() {
    let location = fresh_location("create-stdin");
    ok(&location, &["create"], b"_KLOSET_from-stdin");
    assert_eq!(ok(&location, &["open"], b""), b"_KLOSET_from-stdin");
}

#[test]
fn open_without_store_is_not_found() {
    let location = fresh_location("no-store");
    let line = fails(&location, &["open"], 2);
    assert!(line.contains("not found"), "{line}");
}

#[test]
fn put_get_list_delete() {
    let location = created("objects");
    let mut rng = XorShift::new(51);
    let bytes = rng.bytes(2 * 1024 * 1024 + 3);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("object");
    std::fs::write(&file, &bytes).unwrap();
    let macs: Vec<String> = (0..5).map(|_| hex(&rng.mac())).collect();

    // From a file, then from stdin; each prints the byte count.
    let out = ok(
        &location,
        &["put", "packfile", &macs[0], file.to_str().unwrap()],
        b"",
    );
    assert_eq!(
        String::from_utf8(out).unwrap(),
        format!("{}\n", bytes.len())
    );
    for (i, mac) in macs[1..].iter().enumerate() {
        let body = format!("object {i}");
        let out = ok(&location, &["put", "packfile", mac], body.as_bytes());
        assert_eq!(String::from_utf8(out).unwrap(), format!("{}\n", body.len()));
    }
    ok(&location, &["put", "state", &macs[0]], b"a state");

    // Sorted, lowercase, one per line; only that kind.
    let mut sorted = macs.clone();
    sorted.sort();
    let listing = String::from_utf8(ok(&location, &["list", "packfile"], b"")).unwrap();
    assert_eq!(
        listing,
        sorted.iter().map(|m| format!("{m}\n")).collect::<String>()
    );
    let states = String::from_utf8(ok(&location, &["list", "state"], b"")).unwrap();
    assert_eq!(states, format!("{}\n", macs[0]));
    assert_eq!(ok(&location, &["list", "lock"], b""), b"");

    // Whole and ranged gets; an uppercase MAC names the same object.
    assert!(ok(&location, &["get", "packfile", &macs[0]], b"") == bytes);
    let upper = macs[0].to_uppercase();
    let part = ok(
        &location,
        &[
            "get", "packfile", &upper, "--offset", "1048570", "--length", "100",
        ],
        b"",
    );
    assert!(part == bytes[1_048_570..1_048_670], "wrong range bytes");
    assert_eq!(ok(&location, &["get", "state", &macs[0]], b""), b"a state");

    // Delete one; it is gone, the others stay.
    ok(&location, &["delete", "packfile", &macs[1]], b"");
    let line = fails(&location, &["get", "packfile", &macs[1]], 2);
    assert!(
        line.contains("not found") && line.contains(&format!("packfile {}", macs[1])),
        "{line}"
    );
    let line = fails(&location, &["delete", "packfile", &macs[1]], 2);
    assert!(
        line.contains("not found") && line.contains(&macs[1]),
        "{line}"
    );
    let listing = String::from_utf8(ok(&location, &["list", "packfile"], b"")).unwrap();
    assert!(!listing.contains(&macs[1]));
    assert_eq!(listing.lines().count(), 4);
    assert_eq!(
        ok(&location, &["get", "packfile", &macs[2]], b""),
        b"object 1"
    );
}

#[test]
fn missing_object_exits_2_with_one_line() {
    let location = created("missing");
    let mac = hex(&XorShift::new(52).mac());
    let line = fails(&location, &["get", "packfile", &mac], 2);
    assert!(line.contains("not found"), "{line}");
    assert!(line.contains(&format!("packfile {mac}")), "{line}");
    let line = fails(
        &location,
        &["get", "lock", &mac, "--offset", "0", "--length", "1"],
        2,
    );
    assert!(line.contains(&format!("lock {mac}")), "{line}");
}

#[test]
fn out_of_range_exits_1() {
    let location = created("range");
    let mac = hex(&XorShift::new(53).mac());
    ok(&location, &["put", "state", &mac], b"0123456789");
    let line = fails(
        &location,
        &["get", "state", &mac, "--offset", "10", "--length", "1"],
        1,
    );
    assert!(line.contains("out of range"), "{line}");
}

#[test]
fn mode_size_ping() {
    let location = created("describe");
    assert_eq!(ok(&location, &["mode"], b""), b"read,write\n");
    assert_eq!(ok(&location, &["size"], b""), b"-1\n");
    ok(&location, &["ping"], b"");
    assert_eq!(
        ok(&location, &["-o", "plain_http=true", "mode"], b""),
        b"read,write\n"
    );
}

#[test]
fn location_from_the_environment() {
    let location = created("env");
    let out = Command::new(BIN)
        .arg("open")
        .env("KLOSET_OCI_LOCATION", &location)
        .stdin(Stdio::null())
        .output()
        .expect("run kloset-oci");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, b"_KLOSET_cli-config");
}

