//! Recording outcomes off the send path: a thread of its own owns the run's writing
//! connection, enters the run's scope, and appends the outcomes the collector hands it (never
//! waiting: an unbounded channel) in one transaction per wake-up, batching whatever gathered
//! meanwhile; at the end it merges them into the remembered rows.
//!
//! A state locked by another process (a `sqlite3` holding `BEGIN EXCLUSIVE`, say) delays only
//! this thread: after 2 s of waiting it says so, and after [`wait_budget`] of waiting in all
//! (30 s, or `CUSTIMPORT_STATE_WAIT` seconds when shorter) it gives up for the rest of the run
//! and only counts what it was given; the run then warns that those outcomes were not recorded
//! (their rows are sent again by the next run). Sending never waits for the state.

use std::borrow::Cow;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{Fingerprint, ScopeSpec, State, StateError};

/// The longest a run waits, in all, for a state another process holds.
pub(crate) const MAX_WAIT: Duration = Duration::from_secs(30);

/// Waiting longer than this is said (once).
const SAY_AFTER: Duration = Duration::from_secs(2);

/// How long one attempt waits for the lock before the thread looks at its queue again.
const ATTEMPT_WAIT: Duration = Duration::from_millis(100);

/// The run's wait budget: [`MAX_WAIT`], or `CUSTIMPORT_STATE_WAIT` (whole seconds) when it is
/// shorter (for runs that must not wait that long, and for tests).
pub(crate) fn wait_budget() -> Duration {
    std::env::var("CUSTIMPORT_STATE_WAIT")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(MAX_WAIT, |s| Duration::from_secs(s).min(MAX_WAIT))
}

/// Final outcomes to record: keys that succeeded, with the fingerprint of what was sent, and
/// keys to forget.
#[derive(Debug, Default)]
pub(crate) struct Outcomes {
    pub succeeded: Vec<(Cow<'static, str>, Fingerprint)>,
    pub forget: Vec<Cow<'static, str>>,
}

impl Outcomes {
    fn rows(&self) -> u64 {
        (self.succeeded.len() + self.forget.len()) as u64
    }

    fn is_empty(&self) -> bool {
        self.succeeded.is_empty() && self.forget.is_empty()
    }

    fn extend(&mut self, more: Outcomes) {
        self.succeeded.extend(more.succeeded);
        self.forget.extend(more.forget);
    }
}

/// The handle the collector holds.
#[derive(Debug)]
pub(crate) struct Writer {
    tx: Option<Sender<Outcomes>>,
    thread: Option<JoinHandle<Option<String>>>,
}

impl Writer {
    /// Start the thread: it enters the run's scope (`spec`, its last run now `at`) at once,
    /// then records what it is sent, waiting at most `budget` in all for a locked state.
    pub(crate) fn start(mut state: State, spec: ScopeSpec, at: i64, budget: Duration) -> Writer {
        let (tx, rx) = mpsc::channel();
        state.set_busy_timeout(ATTEMPT_WAIT.min(budget));
        let worker = Worker {
            state,
            spec,
            at,
            scope: None,
            budget,
            waited: Duration::ZERO,
            said: false,
            gave_up: false,
            unrecorded: 0,
            error: None,
        };
        let thread = std::thread::Builder::new()
            .name("state".into())
            .spawn(move || worker.run(&rx));
        match thread {
            Ok(t) => Writer {
                tx: Some(tx),
                thread: Some(t),
            },
            Err(e) => {
                crate::messages::warn(format_args!(
                    "cannot start recording outcomes in the state, rows will be sent again next time: {e}"
                ));
                Writer {
                    tx: None,
                    thread: None,
                }
            }
        }
    }

    /// Hand outcomes to the thread; never waits.
    pub(crate) fn send(&self, outcomes: Outcomes) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(outcomes);
        }
    }

    /// Let the thread write what is left and merge (within what is left of the budget), and
    /// wait for it. Returns the warning to show when outcomes could not be recorded.
    pub(crate) fn finish(&mut self) -> Option<String> {
        self.tx = None;
        match self.thread.take()?.join() {
            Ok(warning) => warning,
            Err(_) => Some(
                "recording outcomes in the state stopped: rows of this run will be sent again next time".into(),
            ),
        }
    }
}

/// The thread's side.
struct Worker {
    state: State,
    spec: ScopeSpec,
    at: i64,
    /// The run's scope, once entered.
    scope: Option<i64>,
    budget: Duration,
    /// Time spent waiting for the lock so far.
    waited: Duration,
    said: bool,
    /// The budget is spent: nothing more is written.
    gave_up: bool,
    /// Rows whose outcome was not recorded.
    unrecorded: u64,
    error: Option<String>,
}

impl Worker {
    fn run(mut self, rx: &Receiver<Outcomes>) -> Option<String> {
        let mut pending = Outcomes::default();
        self.write(&mut pending, rx);
        while let Ok(first) = rx.recv() {
            pending.extend(first);
            while let Ok(more) = rx.try_recv() {
                pending.extend(more);
            }
            self.write(&mut pending, rx);
        }
        if !self.gave_up {
            if let Err(e) = self.state.merge() {
                // Recorded, only not merged yet: the next run (or `custimport state`) merges them.
                tracing::warn!("{e}");
            }
        }
        let e = self.error?;
        Some(format!(
            "the outcomes of {} row(s) were not recorded in the state; the next --skip-unchanged run sends those rows again: {e}",
            self.unrecorded
        ))
    }

    /// Write `pending` (and what arrives while waiting for the lock), then empty it.
    fn write(&mut self, pending: &mut Outcomes, rx: &Receiver<Outcomes>) {
        while !self.gave_up {
            let started = Instant::now();
            match self.try_write(pending) {
                Ok(()) => {
                    *pending = Outcomes::default();
                    return;
                }
                Err(e) if e.is_busy() => {
                    self.waited += started.elapsed();
                    self.waiting();
                    while let Ok(more) = rx.try_recv() {
                        pending.extend(more);
                    }
                }
                Err(e) => {
                    self.unrecorded += pending.rows();
                    self.error.get_or_insert_with(|| e.to_string());
                    *pending = Outcomes::default();
                    return;
                }
            }
        }
        self.unrecorded += pending.rows();
        *pending = Outcomes::default();
    }

    /// After a failed attempt: say so once past [`SAY_AFTER`], give up past the budget.
    fn waiting(&mut self) {
        let path = self.state.path.display().to_string();
        if self.waited >= SAY_AFTER && !self.said {
            self.said = true;
            crate::messages::note(format_args!(
                "custimport: the state database {path} is locked by another process; sending goes on, outcomes are recorded when it is free (waiting {} s at most)",
                self.budget.as_secs()
            ));
        }
        if self.waited >= self.budget {
            self.gave_up = true;
            self.error = Some(format!(
                "{path} stayed locked by another process ({} s waited)",
                self.budget.as_secs()
            ));
        } else {
            // SQLite waited ATTEMPT_WAIT already; a pause keeps a budget of 0 from spinning.
            let pause = Duration::from_millis(10);
            std::thread::sleep(pause);
            self.waited += pause;
        }
    }

    fn try_write(&mut self, pending: &Outcomes) -> Result<(), StateError> {
        let scope = match self.scope {
            Some(s) => s,
            None => {
                let s = self.state.enter_scope(&self.spec, self.at)?;
                self.scope = Some(s);
                s
            }
        };
        if pending.is_empty() {
            return Ok(());
        }
        self.state
            .record(scope, &pending.succeeded, &pending.forget, self.at)
    }
}
