//! The calls under way, so that the plugin ends none half-way when Plakar is done with it.
//!
//! Plakar ends a command by sending `Close`, then kills the plugin; some of its last calls are
//! sent from goroutines of their own just before (the Delete of a `maintenance` lock is sent
//! while `Close` is on its way). So `Close`, and the end of the connection, wait for the
//! calls already received to finish (at most [`SETTLE`]): a lock delete that reaches the
//! plugin reaches the registry, and no lock is left behind to block the next command.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

/// The longest `Close` or the end of the connection waits for calls under way.
pub const SETTLE: Duration = Duration::from_secs(30);

#[derive(Default)]
pub struct InFlight {
    calls: AtomicUsize,
    ended: Notify,
}

/// One call under way, until dropped.
pub struct Call(Arc<InFlight>);

impl InFlight {
    pub fn begin(self: &Arc<Self>) -> Call {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Call(self.clone())
    }

    /// Waits until no call is under way, or `limit`; whether none is.
    pub async fn settle(&self, limit: Duration) -> bool {
        let wait = async {
            loop {
                let ended = self.ended.notified();
                tokio::pin!(ended);
                ended.as_mut().enable();
                if self.calls.load(Ordering::SeqCst) == 0 {
                    return;
                }
                ended.await;
            }
        };
        tokio::time::timeout(limit, wait).await.is_ok()
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        self.0.calls.fetch_sub(1, Ordering::SeqCst);
        self.0.ended.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn settle_waits_for_the_calls_under_way_and_no_longer_than_asked() {
        let in_flight = Arc::new(InFlight::default());
        assert!(in_flight.settle(Duration::ZERO).await, "none under way");
        let call = in_flight.begin();
        assert!(
            !in_flight.settle(Duration::from_millis(20)).await,
            "one under way"
        );
        let ends = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            drop(call);
        });
        assert!(in_flight.settle(Duration::from_secs(10)).await);
        ends.await.unwrap();
    }
}
