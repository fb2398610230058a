//! Deterministic test data: a seeded xorshift generator, and streams that produce or check
//! its bytes without holding them, for objects too large to keep twice.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// xorshift64*: small, fast, and good enough for test bytes and random ranges.
#[derive(Clone)]
pub struct XorShift(u64);

impl XorShift {
    pub fn new(seed: u64) -> Self {
        XorShift(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `lo..=hi`.
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        assert!(lo <= hi);
        lo + self.next_u64() % (hi - lo + 1)
    }

    pub fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let word = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
    }

    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        let mut out = vec![0u8; len];
        self.fill(&mut out);
        out
    }

    pub fn mac(&mut self) -> [u8; 32] {
        let mut mac = [0u8; 32];
        self.fill(&mut mac);
        mac
    }
}

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
