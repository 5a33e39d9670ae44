//! The run's helpers around threads: the collector's thread (a panic there stops the run
//! first), and joining a stage's thread.

use super::*;

/// The collector's thread. A panic there is a bug: the run is stopped first (no row goes out
/// unrecorded), then the panic goes on to the run, which ends with exit 101.
pub(super) fn start_collector<P: Provider>(
    collector: Collector<P>,
    events: mpsc::Receiver<Event<P::Customer>>,
    shared: &Shared,
) -> Result<JoinHandle<Collected>, Fatal> {
    let stop = shared.stop.clone();
    std::thread::Builder::new()
        .name("custimport-report".into())
        .spawn(move || {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| collector.run(events)))
                .unwrap_or_else(|panic| {
                    stop.fatal("internal error in the report writer");
                    std::panic::resume_unwind(panic)
                })
        })
        .map_err(|e| Fatal::stopped(anyhow!("cannot start the report writer: {e}")))
}

/// Wait for a stage's thread off the async runtime; its panic goes on unwinding here.
pub(super) async fn join_thread<T: Send + 'static>(
    handle: JoinHandle<T>,
    what: &str,
) -> Result<T, Fatal> {
    let joined = tokio::task::spawn_blocking(move || handle.join())
        .await
        .map_err(|e| Fatal::stopped(anyhow!("{what} task failed: {e}")))?;
    Ok(joined.unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
}
