//! The runtime a test that is not a suite case runs its async body on.

/// Runs `body` to its end on a multi-thread runtime of two workers, as the suites' cases run.
pub fn block_on<F: std::future::Future>(body: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("build a tokio runtime")
        .block_on(body)
}
