//! The read-ahead of packfile ranges, driven as Plakar drives it (gRPC over the plugin's
//! stdin and stdout) on a real registry, counted through the plugin's usage file.

use crate::common::calls::{delete_packfile, get, put};
use crate::common::{bytes, mac, registry, start_with_env};
use kloset_oci_plakar::proto::*;
use tonic::Code;

const MIB: usize = 1 << 20;

/// Plakar restores by reading a packfile one range after another: the plugin reads it in
/// blocks, so many ranges cost one registry request, every byte still the object's own, across
/// block boundaries and up to its very end; a range past the end is still refused, and a
/// deleted packfile is not served from a kept block.
#[tokio::test]
async fn small_ranges_of_a_packfile_are_read_ahead() {
    let stats = tempfile::tempdir().unwrap();
    let location = crate::common::fresh_location(registry());
    let stats_dir = stats.path().to_str().unwrap();
    let mut plugin = start_with_env(&[(kloset_oci_plakar::USAGE_ENV, stats_dir)]).await;
    plugin.init(&[("location", &location)]).await.unwrap();
    let client = &mut plugin.client;
    client
        .create(CreateRequest {
            config: b"read-ahead".to_vec(),
        })
        .await
        .unwrap();
    let data = bytes(21, 20 * MIB + 777);
    let id = mac(21);
    put(client, StorageResource::Packfile, &id, &data, MIB)
        .await
        .unwrap();

    // Consecutive 60 KiB ranges over the whole object, the last one ending at its last byte;
    // then larger ranges across a block boundary (8 MiB), and the object's last bytes.
    let mut wanted: Vec<(usize, usize)> = (0..data.len())
        .step_by(60 * 1024)
        .map(|offset| (offset, (60 * 1024).min(data.len() - offset)))
        .collect();
    wanted.extend([(7 * MIB, 3 * MIB), (8 * MIB - 1, 2), (20 * MIB, 777)]);
    for &(offset, length) in &wanted {
        let (got, _) = get(
            client,
            StorageResource::Packfile,
            &id,
            Some((offset as u64, length as u32)),
        )
        .await
        .unwrap();
        assert!(
            got == data[offset..offset + length],
            "range {offset}+{length}"
        );
    }
    let ranges = wanted.len() as u64;
    let past = get(
        client,
        StorageResource::Packfile,
        &id,
        Some((data.len() as u64 - 10, 11)),
    )
    .await
    .expect_err("past the end");
    assert_eq!(past.code(), Code::OutOfRange, "{past:?}");
    client.close(CloseRequest {}).await.unwrap();
    let usage = std::fs::read_dir(stats.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let usage: serde_json::Value = serde_json::from_slice(&std::fs::read(usage).unwrap()).unwrap();
    let gets = &usage["gets"];
    assert_eq!(gets["calls"], ranges, "{usage}"); // the one past the end failed: not counted
    let requests = gets["requests"].as_u64().unwrap();
    println!("{ranges} ranges, {requests} registry requests");
    assert!(
        requests * 8 < ranges,
        "{requests} requests for {ranges} ranges"
    );

    delete_packfile(client, &id).await;
    let gone = get(client, StorageResource::Packfile, &id, Some((0, 100)))
        .await
        .expect_err("deleted");
    assert_eq!(gone.code(), Code::NotFound, "{gone:?}");
}
