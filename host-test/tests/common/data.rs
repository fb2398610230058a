//! Deterministic test data: the library's seeded xorshift generator, and streams that produce or check
//! its bytes without holding them, for objects too large to keep twice.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

pub use kloset_oci_host::testkit::xorshift::XorShift;

/// The byte stream of a seed: byte `i` is the same whichever chunks it is read in.
struct ByteStream {
    rng: XorShift,
    word: [u8; 8],
    used: usize,
}

impl ByteStream {
    fn new(seed: u64) -> Self {
        ByteStream {
            rng: XorShift::new(seed),
            word: [0; 8],
            used: 8,
        }
    }

    fn next_byte(&mut self) -> u8 {
        if self.used == 8 {
            self.word = self.rng.next_u64().to_le_bytes();
            self.used = 0;
        }
        self.used += 1;
        self.word[self.used - 1]
    }
}

/// Reads `len` bytes of the stream of `seed`.
pub struct SeededReader {
    stream: ByteStream,
    remaining: u64,
}

impl SeededReader {
    pub fn new(seed: u64, len: u64) -> Self {
        SeededReader {
            stream: ByteStream::new(seed),
            remaining: len,
        }
    }
}

impl AsyncRead for SeededReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let n = (buf.remaining() as u64).min(self.remaining) as usize;
        let mut chunk = vec![0u8; n];
        for b in chunk.iter_mut() {
            *b = self.stream.next_byte();
        }
        buf.put_slice(&chunk);
        self.remaining -= n as u64;
        Poll::Ready(Ok(()))
    }
}

/// Checks written bytes against the stream of `seed`; records the first mismatch.
pub struct SeededVerifier {
    stream: ByteStream,
    pub written: u64,
    pub first_mismatch: Option<u64>,
}

impl SeededVerifier {
    pub fn new(seed: u64) -> Self {
        SeededVerifier {
            stream: ByteStream::new(seed),
            written: 0,
            first_mismatch: None,
        }
    }
}

impl AsyncWrite for SeededVerifier {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        for &b in buf {
            let expected = self.stream.next_byte();
            if b != expected && self.first_mismatch.is_none() {
                self.first_mismatch = Some(self.written);
            }
            self.written += 1;
        }
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
