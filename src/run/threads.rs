//! The run's helpers around threads and the emulator: the collector's thread (a panic there
//! stops the run first), joining a stage's thread, and the built-in sandbox for `--sandbox`.

use super::*;

/// The collector's thread. A panic there is a bug: the run is stopped first (no row goes out
/// unrecorded), then the panic goes on to the run, which ends with exit 101.
pub(super) fn start_collector<P: Provider>(
    collector: Collector<P>,
    events: mpsc::Receiver<Event<P::Customer>>,
    stop: &Stop,
) -> Result<JoinHandle<Collected>, Fatal> {
    let stop = stop.clone();
    std::thread::Builder::new()
        .name("custimport-report".into())
        .spawn(move || {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| collector.run(events)))
                .unwrap_or_else(|panic| {
                    stop.set(stop::Reason::Fatal, "internal error in the report writer");
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

/// The in-process emulator for `--sandbox`. Numbers read with a region are E.164: the
/// sandbox then checks that they are.
pub(super) async fn start_sandbox(settings: &Settings) -> Result<Emulator, Fatal> {
    let phones = match &settings.provider {
        ProviderChoice::Nxlink(p) => p.phones(),
        ProviderChoice::Itnio(p) => p.phones(),
    };
    let strict_phones = phones.is_some_and(|p| p.region().is_some() && !p.encrypted());
    let sb = Emulator::start(strict_phones)
        .await
        .map_err(|e| Fatal::usage(anyhow!("cannot start the sandbox: {e}")))?;
    // Said on a terminal only: off a terminal stderr carries warnings and the summary.
    if std::io::stderr().is_terminal() {
        messages::note(format_args!(
            "custimport: sending to the built-in sandbox at {}",
            sb.base_url()
        ));
    }
    tracing::info!("sending to the built-in sandbox at {}", sb.base_url());
    Ok(sb)
}
