//! Stopping a run early: a fatal answer, `--max-failures`, or a signal. One shared flag that
//! every stage checks between units of work; the first reason to stop wins.
//!
//! Invariant: once set, no new request is started; rows not yet sent end as `pending`.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use crate::exit::Exit;

/// Why a run stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reason {
    Fatal = 1,
    MaxFailures = 2,
    Interrupt = 3,
    Terminate = 4,
}

impl Reason {
    pub(crate) fn exit(self) -> Exit {
        match self {
            Reason::Fatal | Reason::MaxFailures => Exit::Stopped,
            Reason::Interrupt => Exit::Interrupted,
            Reason::Terminate => Exit::Terminated,
        }
    }
}

/// The shared stop flag.
#[derive(Debug, Clone, Default)]
pub(crate) struct Stop {
    reason: Arc<AtomicU8>,
    message: Arc<Mutex<Option<String>>>,
    /// What to do about rows not yet sent, said only when some are pending at the end.
    pending_advice: Arc<Mutex<Option<String>>>,
    notify: Arc<tokio::sync::Notify>,
}

impl Stop {
    /// Request a stop; returns true if this call was the first.
    pub(crate) fn set(&self, reason: Reason, message: impl Into<String>) -> bool {
        let first = self
            .reason
            .compare_exchange(0, reason as u8, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok();
        if first {
            if let Ok(mut m) = self.message.lock() {
                *m = Some(message.into());
            }
            self.notify.notify_waiters();
        }
        first
    }

    /// Stop the run for an error, with advice for the rows not yet sent (`run again with
    /// --resume …`) that [`Stop::message_for`] gives only when some rows are pending; true if
    /// this call was the first.
    pub(crate) fn fatal_advising(
        &self,
        message: impl Into<String>,
        pending_advice: impl Into<String>,
    ) -> bool {
        let first = self.fatal(message);
        if first {
            if let Ok(mut a) = self.pending_advice.lock() {
                *a = Some(pending_advice.into());
            }
        }
        first
    }

    /// Stop the run for an error (exit 3 or the error's own code); true if this call was the
    /// first.
    pub(crate) fn fatal(&self, message: impl Into<String>) -> bool {
        self.set(Reason::Fatal, message)
    }

    pub(crate) fn is_set(&self) -> bool {
        self.reason.load(Ordering::Relaxed) != 0
    }

    pub(crate) fn reason(&self) -> Option<Reason> {
        match self.reason.load(Ordering::SeqCst) {
            1 => Some(Reason::Fatal),
            2 => Some(Reason::MaxFailures),
            3 => Some(Reason::Interrupt),
            4 => Some(Reason::Terminate),
            _ => None,
        }
    }

    pub(crate) fn message(&self) -> Option<String> {
        self.message.lock().ok().and_then(|m| m.clone())
    }

    /// The message as the run's end tells it: with the advice for rows not yet sent when
    /// `pending` rows are left, without it when none are.
    pub(crate) fn message_for(&self, pending: u64) -> Option<String> {
        let message = self.message()?;
        let advice = self.pending_advice.lock().ok().and_then(|a| a.clone());
        Some(match advice {
            Some(advice) if pending > 0 => format!("{message}{advice}"),
            _ => message,
        })
    }

    /// Wait until a stop is requested.
    pub(crate) async fn wait(&self) {
        loop {
            let notified = self.notify.notified();
            if self.is_set() {
                return;
            }
            notified.await;
        }
    }
}

/// Listen for SIGINT/SIGTERM: the first asks for a graceful stop, a second one exits at once
/// (the journal still allows `--resume`).
#[cfg(unix)]
pub(crate) fn listen_for_signals(stop: Stop) {
    use tokio::signal::unix::{signal, SignalKind};
    tokio::spawn(async move {
        let (Ok(mut int), Ok(mut term)) = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) else {
            return;
        };
        let mut seen = false;
        loop {
            let reason = tokio::select! {
                _ = int.recv() => Reason::Interrupt,
                _ = term.recv() => Reason::Terminate,
            };
            if seen {
                match crate::rerun::line() {
                    Some(line) => crate::messages::always(format_args!(
                        "custimport: second signal, exiting now; continue the run with:\n{line}"
                    )),
                    None => crate::messages::always(
                        "custimport: second signal, exiting now; continue later with --resume",
                    ),
                }
                crate::report::outdir::remove_lock_now();
                std::process::exit(reason.exit().code());
            }
            seen = true;
            crate::messages::note("custimport: stopping: finishing requests in flight, then writing reports (signal again to exit at once)");
            stop.set(reason, "interrupted by a signal");
        }
    });
}

#[cfg(not(unix))]
pub fn listen_for_signals(stop: Stop) {
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            stop.set(Reason::Interrupt, "interrupted");
        }
    });
}

#[cfg(test)]
mod tests;
