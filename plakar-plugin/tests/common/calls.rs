//! The store calls as Plakar makes them, through the generated client.

use bytes::Bytes;
use kloset_oci_plakar::proto::store_client::StoreClient;
use kloset_oci_plakar::proto::*;
use tonic::transport::Channel;
use tonic::Status;

pub async fn put(
    client: &mut StoreClient<Channel>,
    kind: StorageResource,
    mac: &[u8],
    data: &[u8],
    chunk: usize,
) -> Result<i64, Status> {
    let mut messages = vec![PutRequest {
        mac: mac.to_vec(),
        r#type: kind as i32,
        chunk: Bytes::new(),
    }];
    for piece in data.chunks(chunk) {
        messages.push(PutRequest {
            chunk: Bytes::copy_from_slice(piece),
            ..PutRequest::default()
        });
    }
    let response = client.put(tokio_stream::iter(messages)).await?;
    Ok(response.into_inner().bytes_written)
}

/// The object (or range), and the largest chunk it came in.
pub async fn get(
    client: &mut StoreClient<Channel>,
    kind: StorageResource,
    mac: &[u8],
    range: Option<(u64, u32)>,
) -> Result<(Vec<u8>, usize), Status> {
    let request = GetRequest {
        mac: mac.to_vec(),
        r#type: kind as i32,
        range: range.map(|(offset, length)| get_request::Range { offset, length }),
    };
    let mut stream = client.get(request).await?.into_inner();
    let (mut all, mut largest) = (Vec::new(), 0);
    while let Some(message) = stream.message().await? {
        largest = largest.max(message.chunk.len());
        all.extend_from_slice(&message.chunk);
    }
    Ok((all, largest))
}

pub async fn delete_packfile(client: &mut StoreClient<Channel>, mac: &[u8]) {
    let request = DeleteRequest {
        mac: mac.to_vec(),
        r#type: StorageResource::Packfile as i32,
    };
    client.delete(request).await.unwrap();
}

pub async fn list(client: &mut StoreClient<Channel>, kind: StorageResource) -> Vec<Vec<u8>> {
    let request = ListRequest {
        r#type: kind as i32,
    };
    let mut macs = client.list(request).await.expect("list").into_inner().macs;
    macs.sort();
    macs
}
