//! Cases on ranged reads.

use kloset_oci_host::{ByteRange, ErrorKind, Kind};

use super::objects::{expect_error, put};
use super::Fixture;
use crate::common::data::XorShift;

const MIB: usize = 1024 * 1024;

/// 200 random ranges (and the edge ones) over a 5 MiB object, each compared with the source.
pub async fn random_ranges(fx: &Fixture) {
    let mut store = fx.fresh_store().await;
    let mut rng = XorShift::new(31);
    let mac = rng.mac();
    let size = 5 * MIB + 123;
    let bytes = rng.bytes(size);
    put(&mut store, Kind::Packfile, &mac, &bytes).await;

    let mut ranges = vec![
        (0, 1),
        (size - 1, 1),
        (0, size),
        (1, size - 1),
        (0, size - 1),
        (MIB - 1, 2),
        (MIB, MIB),
    ];
    while ranges.len() < 200 {
        let offset = rng.between(0, size as u64 - 1) as usize;
        let max_len = (size - offset).min(4 * MIB);
        let length = if rng.next_u64().is_multiple_of(4) {
            rng.between(1, 64) as usize
        } else {
            rng.between(1, max_len as u64) as usize
        };
        ranges.push((offset, length.min(max_len)));
    }
    for (offset, length) in ranges {
        let range = ByteRange::new(offset as u64, length as u32);
        let got = store
            .get_bytes(Kind::Packfile, &mac, Some(range))
            .await
            .unwrap_or_else(|e| panic!("range {offset}+{length}: {e}"));
        assert_eq!(got.len(), length, "range {offset}+{length}: wrong length");
        assert!(
            got == bytes[offset..offset + length],
            "range {offset}+{length}: wrong bytes"
        );
    }
}

pub async fn out_of_range_reads(fx: &Fixture) {
    let mut store = fx.fresh_store().await;
    let mut rng = XorShift::new(32);
    let mac = rng.mac();
    let size = 10_000u64;
    put(&mut store, Kind::Packfile, &mac, &rng.bytes(size as usize)).await;
    for (offset, length) in [
        (size, 1),
        (size - 10, 11),
        (0, size as u32 + 1),
        (size * 1000, 1),
        (u64::MAX - 1, 1),
    ] {
        let range = Some(ByteRange::new(offset, length));
        let what = format!("range {offset}+{length} of {size}");
        expect_error(
            store.get_bytes(Kind::Packfile, &mac, range).await,
            ErrorKind::OutOfRange,
            &what,
        );
    }
    // The object is still whole and readable afterwards.
    let last = store
        .get_bytes(Kind::Packfile, &mac, Some(ByteRange::new(size - 10, 10)))
        .await
        .expect("the last 10 bytes");
    assert_eq!(last.len(), 10);
}

/// After a put, a ranged get of the packfile costs exactly one HTTP request, plus one for
/// each redirect it followed (a registry may send blob reads to storage or a CDN).
pub async fn range_get_is_one_request(fx: &Fixture) {
    let mut store = fx.fresh_store().await;
    let mut rng = XorShift::new(33);
    let mac = rng.mac();
    let bytes = rng.bytes(2 * MIB);
    put(&mut store, Kind::Packfile, &mac, &bytes).await;
    for (offset, length) in [(1000usize, 5000usize), (MIB + 7, 64 * 1024)] {
        let before = store.stats();
        let redirects_before = store.layer_stats().await.expect("layer stats").redirects;
        let got = store
            .get_bytes(
                Kind::Packfile,
                &mac,
                Some(ByteRange::new(offset as u64, length as u32)),
            )
            .await
            .expect("range get");
        let cost = store.stats().since(&before);
        let redirects =
            store.layer_stats().await.expect("layer stats").redirects - redirects_before;
        assert!(
            got == bytes[offset..offset + length],
            "range {offset}+{length}: wrong bytes"
        );
        let what = format!("range {offset}+{length} cost {cost:?}, {redirects} redirects");
        assert_eq!(cost.requests(), 1 + redirects, "{what}");
        assert_eq!(cost.get, 1 + redirects, "{what}");
        assert!(cost.bytes_received >= length as u64, "received {cost:?}");
    }
}
