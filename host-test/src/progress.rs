//! Progress of a long transfer of the `kloset-oci` command (`put`, `get`) on a terminal:
//! bytes so far, rate and time left (where the size is known) on stderr, redrawn in place by
//! indicatif and cleared at the end. Nothing at all when stderr is not a terminal (a pipe, a
//! log file, a test), so scripts see exactly what they saw before.

use std::io::IsTerminal;
use std::pin::Pin;
use std::task::{Context, Poll};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The progress of one transfer, shown or not.
pub struct Progress(Option<ProgressBar>);

impl Progress {
    /// Progress of `what` (`put`, `get`) over `total` bytes where known, on stderr if it is a
    /// terminal.
    pub fn on_terminal(what: &str, total: Option<u64>) -> Progress {
        match std::io::stderr().is_terminal() {
            true => Progress(Some(bar(what, total))),
            false => Progress(None),
        }
    }

    /// `inner`, counting the bytes read from it.
    pub fn reader<R>(&self, inner: R) -> Counted<R> {
        Counted {
            inner,
            bar: self.0.clone(),
        }
    }

    /// `inner`, counting the bytes written to it.
    pub fn writer<W>(&self, inner: W) -> Counted<W> {
        self.reader(inner)
    }

    /// Clears the bar, whatever the outcome: the command's own output follows.
    pub fn finish(self) {
        if let Some(bar) = self.0 {
            bar.finish_and_clear();
        }
    }
}

fn bar(what: &str, total: Option<u64>) -> ProgressBar {
    let (bar, template) = match total {
        Some(total) => (
            ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr()),
            "{prefix} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec}, {eta} left",
        ),
        None => (
            ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
            "{prefix} {spinner} {bytes} {binary_bytes_per_sec}, {elapsed}",
        ),
    };
    let style = ProgressStyle::with_template(template)
        .expect("a valid progress template")
        .progress_chars("=> ");
    bar.set_style(style);
    bar.set_prefix(what.to_string());
    bar
}

/// A reader or writer whose bytes move the bar.
pub struct Counted<T> {
    inner: T,
    bar: Option<ProgressBar>,
}

impl<T> Counted<T> {
    fn count(&self, n: usize) {
        if let Some(bar) = &self.bar {
            bar.inc(n as u64);
        }
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for Counted<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            self.count(buf.filled().len() - before);
        }
        polled
    }
}

impl<W: AsyncWrite + Unpin> AsyncWrite for Counted<W> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, data);
        if let Poll::Ready(Ok(n)) = polled {
            self.count(n);
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
