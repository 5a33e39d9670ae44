//! The import pipeline: read → map → prepare → batch → send → collect.
//!
//! Stages run concurrently and pass owned data: the reader (a blocking thread) sends whole
//! batches, never single rows, to the dispatcher, which sends each batch under the concurrency
//! bound; every row's final outcome goes, as an event, to the single collector that writes the
//! reports. Invariant: every record read produces exactly one outcome event (`rejected`,
//! `succeeded`, `failed`, `unknown` or `pending`), whatever the faults.

use crate::input::RecordData;

pub mod clock;
pub mod collect;
pub mod limiter;
pub mod read;
pub mod retry;
pub mod send;

/// A prepared row travelling through the pipeline with its original content.
#[derive(Debug)]
pub struct Item<C> {
    pub row: u64,
    pub line: u64,
    pub customer: C,
    pub data: RecordData,
}

/// Up to `--batch-size` prepared rows, sent as one request.
#[derive(Debug)]
pub struct Batch<C> {
    pub id: u64,
    pub items: Vec<Item<C>>,
}

/// The final outcome of a row that reached the sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Succeeded {
        id: Option<String>,
        already_present: bool,
    },
    Failed {
        code: String,
        message: String,
    },
    Unknown {
        code: String,
        message: String,
    },
    /// Never sent because the run stopped early.
    Pending,
}

/// What the collector hears about.
#[derive(Debug)]
pub enum Event<C> {
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
    /// Resumed run: a row whose final outcome the journal already holds.
    Resumed { row: u64, data: RecordData },
    /// Dry run: a batch that would have been sent.
    Valid { rows: u64 },
}

impl<C> Event<C> {
    /// Every item of a batch as pending.
    pub fn pending(items: Vec<Item<C>>) -> Event<C> {
        Event::Done(items.into_iter().map(|i| (i, Outcome::Pending)).collect())
    }
}
