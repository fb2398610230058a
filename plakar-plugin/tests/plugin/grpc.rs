//! The plugin driven as Plakar drives it (gRPC over its stdin and stdout) on a real registry:
//! the store calls, Put in chunks, Get whole and by range, calls at once, a Put cut
//! mid-stream, shutdown at EOF, and the messages of failures.

use std::time::Duration;

use crate::common::calls::{delete_packfile, get, list, put};
use crate::common::{bytes, mac, registry, start, start_with_env, Plugin};
use bytes::Bytes;
use kloset_oci_plakar::proto::*;
use tonic::Code;

const MIB: usize = 1 << 20;
const LIMIT: Duration = Duration::from_secs(120);

#[tokio::test]
async fn init_create_open_and_the_stores_description() {
    let location = crate::common::fresh_location(registry());
    let mut plugin = start().await;
    let init = plugin.init(&[("location", &location)]).await.unwrap();
    assert_eq!(init.origin, registry().authority());
    assert_eq!(init.r#type, "oci");
    assert!(
        location.ends_with(&init.root),
        "{} / {}",
        init.root,
        location
    );
    assert_eq!(init.flags, 0);

    let client = &mut plugin.client;
    let missing = client.open(OpenRequest {}).await.expect_err("no store yet");
    assert_eq!(missing.code(), Code::NotFound);
    assert!(
        missing
            .message()
            .contains(&format!("plakar at {location} create")),
        "{missing:?}"
    );
    client
        .create(CreateRequest {
            config: b"the config".to_vec(),
        })
        .await
        .unwrap();
    let again = client
        .create(CreateRequest {
            config: b"another".to_vec(),
        })
        .await
        .expect_err("a second create");
    assert_eq!(again.code(), Code::AlreadyExists, "{again:?}");
    let opened = client.open(OpenRequest {}).await.unwrap().into_inner();
    assert_eq!(opened.config, b"the config");
    client.ping(PingRequest {}).await.unwrap();
    let mode = client.mode(ModeRequest {}).await.unwrap().into_inner().mode;
    assert_eq!(mode, 6, "read (4) and write (2)");
    client.size(SizeRequest {}).await.unwrap();
    client.close(CloseRequest {}).await.unwrap();
}

#[tokio::test]
async fn put_in_chunks_then_get_whole_and_by_range() {
    let (mut plugin, _) = Plugin::created(&[]).await;
    let client = &mut plugin.client;
    let data = bytes(1, 5 * MIB + 12_345);
    let id = mac(1);
    // Chunks as Plakar sends them (1 MiB), and odd ones.
    let written = put(client, StorageResource::Packfile, &id, &data, MIB)
        .await
        .unwrap();
    assert_eq!(written, data.len() as i64);
    let (back, largest) = get(client, StorageResource::Packfile, &id, None)
        .await
        .unwrap();
    assert!(back == data, "the object read back differs");
    assert!(largest <= MIB, "a chunk of {largest} bytes");

    let id2 = mac(2);
    put(
        client,
        StorageResource::Packfile,
        &id2,
        &data[..777_777],
        4096 + 7,
    )
    .await
    .unwrap();
    let (back, _) = get(client, StorageResource::Packfile, &id2, None)
        .await
        .unwrap();
    assert!(back == data[..777_777]);

    for (offset, length) in [
        (0u64, 1u32),
        (1, 4096),
        (MIB as u64 - 3, 10),
        (3 * MIB as u64, 2 * MIB as u32 + 12_345),
    ] {
        let (got, largest) = get(
            client,
            StorageResource::Packfile,
            &id,
            Some((offset, length)),
        )
        .await
        .unwrap();
        let want = &data[offset as usize..offset as usize + length as usize];
        assert!(got == want, "range {offset}+{length}");
        assert!(largest <= MIB);
    }
    let past = get(
        client,
        StorageResource::Packfile,
        &id,
        Some((data.len() as u64, 10)),
    )
    .await
    .expect_err("a range past the end");
    assert!(past.message().contains("kloset-oci"), "{past:?}");

    assert_eq!(list(client, StorageResource::Packfile).await, {
        let mut both = vec![id.clone(), id2.clone()];
        both.sort();
        both
    });
    assert!(list(client, StorageResource::State).await.is_empty());
    delete_packfile(client, &id).await;
    assert_eq!(
        list(client, StorageResource::Packfile).await,
        vec![id2.clone()]
    );
    let gone = get(client, StorageResource::Packfile, &id, None)
        .await
        .expect_err("deleted");
    assert_eq!(gone.code(), Code::NotFound, "{gone:?}");
}

#[tokio::test]
async fn an_empty_object_and_a_chunk_in_the_first_message() {
    let (mut plugin, _) = Plugin::created(&[]).await;
    let client = &mut plugin.client;
    assert_eq!(
        put(client, StorageResource::State, &mac(3), b"", MIB)
            .await
            .unwrap(),
        0
    );
    let (back, _) = get(client, StorageResource::State, &mac(3), None)
        .await
        .unwrap();
    assert!(back.is_empty());
    let first = PutRequest {
        mac: mac(4),
        r#type: StorageResource::State as i32,
        chunk: Bytes::from_static(b"head-"),
    };
    let rest = PutRequest {
        chunk: Bytes::from_static(b"tail"),
        ..PutRequest::default()
    };
    let written = client
        .put(tokio_stream::iter(vec![first, rest]))
        .await
        .unwrap()
        .into_inner()
        .bytes_written;
    assert_eq!(written, 9);
    let (back, _) = get(client, StorageResource::State, &mac(4), None)
        .await
        .unwrap();
    assert_eq!(back, b"head-tail");
}

#[tokio::test]
async fn a_lock_put_again_is_overwritten() {
    let (mut plugin, _) = Plugin::created(&[]).await;
    let client = &mut plugin.client;
    put(client, StorageResource::Lock, &mac(5), b"first holder", MIB)
        .await
        .unwrap();
    put(client, StorageResource::Lock, &mac(5), b"refreshed", MIB)
        .await
        .unwrap();
    let (back, _) = get(client, StorageResource::Lock, &mac(5), None)
        .await
        .unwrap();
    assert_eq!(back, b"refreshed");
    assert_eq!(list(client, StorageResource::Lock).await, vec![mac(5)]);
}

/// Plakar's packer: many Puts, then many ranged Gets, at once on the one connection; more
/// calls than the pool has instances, so some wait for one.
#[tokio::test]
async fn many_calls_at_once_on_one_connection() {
    let (plugin, _) = Plugin::created(&[("concurrency", "3")]).await;
    const N: u64 = 12;
    let mut puts = tokio::task::JoinSet::new();
    for i in 0..N {
        let mut client = plugin.client.clone();
        puts.spawn(async move {
            let data = bytes(100 + i, MIB + 1000 * i as usize);
            put(
                &mut client,
                StorageResource::Packfile,
                &mac(100 + i),
                &data,
                MIB,
            )
            .await
        });
    }
    let results = tokio::time::timeout(LIMIT, puts.join_all())
        .await
        .expect("puts finish");
    for result in results {
        result.expect("put");
    }
    let mut gets = tokio::task::JoinSet::new();
    for i in 0..N {
        let mut client = plugin.client.clone();
        gets.spawn(async move {
            let want = bytes(100 + i, MIB + 1000 * i as usize);
            let range = (1000 * i, 300_000 + i as u32);
            let packfile = StorageResource::Packfile;
            let (got, _) = get(&mut client, packfile, &mac(100 + i), Some(range))
                .await
                .expect("get");
            let want = &want[range.0 as usize..range.0 as usize + range.1 as usize];
            assert!(got == want, "object {i}");
        });
    }
    tokio::time::timeout(LIMIT, gets.join_all())
        .await
        .expect("gets finish");
    let mut client = plugin.client.clone();
    assert_eq!(
        list(&mut client, StorageResource::Packfile).await.len(),
        N as usize
    );
}

/// A Put whose client goes away mid-stream (Plakar interrupted) stores nothing, and its
/// instance serves the next call (one instance only: a leaked one would hang it).
#[tokio::test]
async fn a_put_cut_mid_stream_stores_nothing() {
    let (plugin, _) = Plugin::created(&[("concurrency", "1")]).await;
    let id = mac(7);
    let first = PutRequest {
        mac: id.clone(),
        r#type: StorageResource::Packfile as i32,
        chunk: Bytes::new(),
    };
    let chunk = PutRequest {
        chunk: Bytes::from(bytes(7, MIB)),
        ..PutRequest::default()
    };
    // Two chunks, then the stream neither ends nor sends: the call is abandoned (RST_STREAM).
    let messages = tokio_stream::StreamExt::chain(
        tokio_stream::iter(vec![first, chunk.clone(), chunk]),
        tokio_stream::pending(),
    );
    let mut client = plugin.client.clone();
    let call = tokio::spawn(async move { client.put(messages).await });
    tokio::time::sleep(Duration::from_millis(500)).await;
    call.abort();
    assert!(call.await.unwrap_err().is_cancelled());

    let mut client = plugin.client.clone();
    let listed = tokio::time::timeout(LIMIT, list(&mut client, StorageResource::Packfile))
        .await
        .expect("the instance came back");
    assert!(listed.is_empty(), "a cut put left {listed:?}");
    let absent = get(&mut client, StorageResource::Packfile, &id, None)
        .await
        .expect_err("nothing stored");
    assert_eq!(absent.code(), Code::NotFound);
    // The same object, put whole, is stored.
    let data = bytes(8, 2 * MIB);
    put(&mut client, StorageResource::Packfile, &id, &data, MIB)
        .await
        .unwrap();
    let (back, _) = get(&mut client, StorageResource::Packfile, &id, None)
        .await
        .unwrap();
    assert!(back == data);
}

/// Plakar may never send Close: the plugin exits 0 when its stdin ends.
#[tokio::test]
async fn the_plugin_exits_when_the_connection_ends() {
    exits_by_itself(Plugin::created(&[]).await.0).await;
    // Also before Init, while the component may still be loading.
    exits_by_itself(start().await).await;
}

async fn exits_by_itself(plugin: Plugin) {
    let Plugin { mut child, client } = plugin;
    drop(client);
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .expect("the plugin exits by itself")
        .unwrap();
    assert!(status.success(), "{status}");
}

#[tokio::test]
async fn failures_say_what_happened_and_never_show_a_secret() {
    let secret = "pl41n-s3cret-in-config";
    let location = crate::common::fresh_location(registry());
    // An unknown key.
    let mut plugin = start().await;
    let err = plugin
        .init(&[("location", &location), ("colour", "blue")])
        .await
        .expect_err("unknown key");
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    assert!(err.message().contains("colour"), "{err:?}");
    // Credentials in the location.
    let with_userinfo = location.replace("oci://", &format!("oci://alice:{secret}@"));
    let err = plugin
        .init(&[("location", &with_userinfo)])
        .await
        .expect_err("userinfo");
    assert!(!err.message().contains(secret), "{err:?}");
    // A password and a token at once.
    let err = plugin
        .init(&[
            ("location", &location),
            ("username", "a"),
            ("password", secret),
            ("token", secret),
        ])
        .await
        .expect_err("both");
    assert!(!err.message().contains(secret), "{err:?}");
    // Calls before Init.
    let mut fresh = start().await;
    let err = fresh
        .client
        .ping(PingRequest {})
        .await
        .expect_err("no init");
    assert_eq!(err.code(), Code::FailedPrecondition);

    // A registry that does not answer: Unavailable (Plakar: "I/O error communicating with
    // the integration"), saying what to do.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let mut plugin = start().await;
    plugin
        .init(&[
            ("location", &format!("oci://127.0.0.1:{port}/nothing-here")),
            ("connect_timeout", "2"),
        ])
        .await
        .unwrap();
    let err = tokio::time::timeout(LIMIT, plugin.client.open(OpenRequest {}))
        .await
        .expect("bounded")
        .expect_err("nobody listens");
    assert_eq!(err.code(), Code::Unavailable, "{err:?}");
    assert!(err.message().contains("try again"), "{err:?}");

    // The ECC kinds are not supported.
    let (mut plugin, _) = Plugin::created(&[]).await;
    let err = put(
        &mut plugin.client,
        StorageResource::EccPackfile,
        &mac(9),
        b"x",
        MIB,
    )
    .await
    .expect_err("ecc");
    assert_eq!(err.code(), Code::Unimplemented, "{err:?}");
    // A MAC of the wrong size.
    let err = get(
        &mut plugin.client,
        StorageResource::Packfile,
        &[1, 2, 3],
        None,
    )
    .await
    .expect_err("short mac");
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
}

#[tokio::test]
async fn a_missing_component_is_named_at_init() {
    let mut plugin = start_with_env(&[(
        kloset_oci_host::COMPONENT_ENV,
        "/nonexistent/kloset_oci.wasm",
    )])
    .await;
    let location = crate::common::fresh_location(registry());
    let err = plugin
        .init(&[("location", &location)])
        .await
        .expect_err("no component");
    assert!(
        err.message().contains("/nonexistent/kloset_oci.wasm"),
        "{err:?}"
    );
    assert!(err.message().contains("plakar pkg add"), "{err:?}");
}
