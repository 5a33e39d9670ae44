//! The import pipeline: read → map → prepare → batch → send → collect.
//!
//! Stages run concurrently and pass owned data: the reader (a blocking thread) sends whole
//! batches, never single rows, to the dispatcher, which sends each batch under the concurrency
//! bound; every row's final outcome goes, as an event, to the single collector that writes the
//! reports. Invariant: every record read produces exactly one outcome event (`rejected`,
//! `succeeded`, `failed`, `unknown`, `pending` or, with `--skip-unchanged`, `unchanged`),
//! whatever the faults.

use std::sync::{Arc, OnceLock};

use crate::input::RecordData;
use crate::journal::Journal;
use crate::resume::Resume;
use crate::stop::Stop;

pub(crate) mod budget;
pub(crate) mod clock;
pub(crate) mod collect;
pub(crate) mod limiter;
pub(crate) mod read;
pub(crate) mod retry;
pub(crate) mod seen;
pub(crate) mod send;
pub(crate) mod unchanged;

/// A prepared row travelling through the pipeline with its original content.
#[derive(Debug)]
pub(crate) struct Item<C> {
    pub row: u64,
    pub customer: C,
    pub data: RecordData,
}

/// Up to `--batch-size` prepared rows, sent as one request.
#[derive(Debug)]
pub(crate) struct Batch<C> {
    pub id: u64,
    pub items: Vec<Item<C>>,
}

pub(crate) use crate::outcome::Outcome;

/// A row the run being resumed finished, read again: reported as it ended then.
#[derive(Debug)]
pub(crate) struct EarlierRow<C> {
    pub row: u64,
    pub data: RecordData,
    /// The row as prepared now, when it could be (`unchanged.csv` cells are computed from it).
    pub customer: Option<C>,
}

/// What the collector hears about.
#[derive(Debug)]
pub(crate) enum Event<C> {
    /// Refused locally (never sent).
    Rejected {
        row: u64,
        data: RecordData,
        code: String,
        message: String,
    },
    /// Rows with their final outcome.
    Done(Vec<(Item<C>, Outcome)>),
    /// Records never prepared because the run stopped early.
    Unread(Vec<(u64, RecordData)>),
    /// Answer lines that matched no row.
    Unattributed(Vec<String>),
    /// Resumed run: rows whose final outcome the journal already holds.
    Resumed(Vec<EarlierRow<C>>),
    /// Dry run: a batch that would have been sent.
    Valid { rows: u64 },
    /// `--skip-unchanged`: rows the state remembers as sent with the same content; not sent.
    Unchanged(Vec<Item<C>>),
}

impl<C> Event<C> {
    /// Every item of a batch as pending.
    pub(crate) fn pending(items: Vec<Item<C>>) -> Event<C> {
        Event::Done(items.into_iter().map(|i| (i, Outcome::Pending)).collect())
    }
}

/// What the stages of one run share: the stop, the first failure to write, the journal, the
/// run being resumed and the sender's pace (shown by the collector's progress bar). Each
/// stage's constructor takes what it needs from it.
#[derive(Default)]
pub(crate) struct Shared {
    pub(crate) stop: Stop,
    pub(crate) write_failure: WriteFailure,
    pub(crate) journal: Option<Arc<Journal>>,
    pub(crate) resume: Option<Arc<Resume>>,
    pub(crate) load: Arc<limiter::LoadView>,
}

impl Shared {
    /// What the stages of a run share, the stop set by an interrupt (Ctrl-C, SIGTERM) too.
    pub(crate) fn for_run(journal: Option<Arc<Journal>>, resume: Option<Arc<Resume>>) -> Shared {
        let shared = Shared {
            journal,
            resume,
            ..Shared::default()
        };
        crate::stop::listen_for_signals(shared.stop.clone());
        shared
    }
}

/// The first failure to write in the report directory (the journal or a report), shared by
/// the dispatcher and the collector: after it the run stops and writes nothing more, and the
/// end of the run says what the journal holds and that `--resume` continues.
#[derive(Debug, Clone, Default)]
pub(crate) struct WriteFailure(Arc<OnceLock<String>>);

impl WriteFailure {
    /// Record a failure to write `what`; true if it is the first.
    pub(crate) fn set(&self, what: &str, e: &std::io::Error) -> bool {
        self.0.set(format!("cannot write {what}: {e}")).is_ok()
    }

    pub(crate) fn is_set(&self) -> bool {
        self.0.get().is_some()
    }

    /// What failed, and why.
    pub(crate) fn get(&self) -> Option<&str> {
        self.0.get().map(String::as_str)
    }
}
