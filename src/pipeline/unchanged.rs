//! Incremental imports in the pipeline (`--skip-unchanged`): the filter stage between the
//! reader and the dispatcher, and the recorder the collector feeds with final outcomes.
//!
//! The filter decides, batch by batch, which rows the state remembers with the same
//! fingerprint (see `crate::state` for how: an in-memory index of the scope, or one prepared
//! `SELECT … IN` per batch for a very large scope), hands those to the collector as
//! `unchanged`, and packs the others into full batches again, so that 1 % of changed rows
//! still go 100 to a request. It runs on its own thread (SQLite blocks), keeping the reader's
//! hot path as it is; only rows whose key is remembered are hashed.
//!
//! The recorder hands the state's writer thread, after the journal recorded them,
//! `succeeded` rows (key and fingerprint) and the keys to forget: `unknown` rows, and
//! `succeeded` rows answered "already exists" (`already_present`: the provider holds the key,
//! maybe with older data), once per collector wake-up. `failed` rows leave their key's record
//! as it was: the provider refused them, so it still holds what the record describes, and a
//! changed row differs from it anyway, so it is sent again; `unknown` rows may have been
//! applied, so no record may claim what the provider holds. `pending` and `rejected` rows were
//! not sent.
//!
//! Invariant: every row the filter receives leaves it exactly once: in a batch to the
//! dispatcher, in an `Unchanged` event, or as pending when the dispatcher is gone.

use std::borrow::Cow;
use std::sync::Arc;

use tokio::sync::mpsc::{Receiver, Sender};

use super::{Batch, Event, Item, Outcome};
use crate::provider::Provider;
use crate::state::writer::{Outcomes, Writer};
use crate::state::{fingerprint, Remembered, State, MAX_INDEX_ROWS};

/// The filter stage.
pub(crate) struct Filter<P: Provider> {
    pub provider: Arc<P>,
    /// The state and the run's scope in it; `None` when nothing is remembered yet (a dry run
    /// before any state exists, or for this account): every row is new.
    pub state: Option<(State, i64)>,
    pub batch_size: usize,
}

impl<P: Provider> Filter<P> {
    /// Filter batches from `input` until it closes.
    pub(crate) fn run(
        self,
        mut input: Receiver<Batch<P::Customer>>,
        batches: Sender<Batch<P::Customer>>,
        events: Sender<Event<P::Customer>>,
    ) {
        let salt = self.provider.state_salt();
        let mut buf = Vec::new();
        let mut next_id = 0u64;
        let mut pending: Vec<Item<P::Customer>> = Vec::with_capacity(self.batch_size);
        let mut said = false;
        // What the scope remembers is loaded here, while the reader already reads.
        let state = self.state.as_ref().and_then(|(state, scope)| {
            match state.remembered(*scope, MAX_INDEX_ROWS) {
                Ok(r) => Some((state, r)),
                Err(e) => {
                    crate::messages::warn(format_args!(
                        "cannot read the state, sending every row: {e}"
                    ));
                    None
                }
            }
        });
        let forward = |items: Vec<Item<P::Customer>>, next_id: &mut u64| {
            *next_id += 1;
            if let Err(e) = batches.blocking_send(Batch {
                id: *next_id,
                items,
            }) {
                // The dispatcher is gone: these rows were never sent.
                let _ = events.blocking_send(Event::pending(e.0.items));
            }
        };
        while let Some(batch) = input.blocking_recv() {
            let unchanged = match &state {
                Some((state, remembered)) => {
                    match self.unchanged(state, remembered, &salt, &batch.items, &mut buf) {
                        Ok(u) => u,
                        Err(e) => {
                            if !said {
                                crate::messages::warn(format_args!(
                                    "cannot read the state, sending these rows: {e}"
                                ));
                            }
                            said = true;
                            vec![false; batch.items.len()]
                        }
                    }
                }
                None => vec![false; batch.items.len()],
            };
            let mut same = Vec::new();
            for (item, unchanged) in batch.items.into_iter().zip(unchanged) {
                if unchanged {
                    same.push(item);
                } else {
                    pending.push(item);
                    if pending.len() >= self.batch_size {
                        let full =
                            std::mem::replace(&mut pending, Vec::with_capacity(self.batch_size));
                        forward(full, &mut next_id);
                    }
                }
            }
            if !same.is_empty() && events.blocking_send(Event::Unchanged(same)).is_err() {
                break;
            }
        }
        if !pending.is_empty() {
            forward(pending, &mut next_id);
        }
    }

    /// Which rows of a batch are unchanged.
    fn unchanged(
        &self,
        state: &State,
        remembered: &Remembered,
        salt: &str,
        items: &[Item<P::Customer>],
        buf: &mut Vec<u8>,
    ) -> Result<Vec<bool>, crate::state::StateError> {
        let keys: Vec<Option<Cow<'_, str>>> = items
            .iter()
            .map(|it| self.provider.state_key(&it.customer))
            .collect();
        let refs: Vec<Option<&str>> = keys.iter().map(|k| k.as_deref()).collect();
        state.unchanged(remembered, &refs, |i| {
            fingerprint(
                salt.as_bytes(),
                self.provider.sent_bytes(&items[i].customer, buf),
            )
        })
    }
}

/// Notes final outcomes for the state, for the collector, and hands them to the state's
/// writer thread (`crate::state::writer`) once per collector wake-up, without waiting.
pub(crate) struct Recorder {
    writer: Writer,
    salt: String,
    buf: Vec<u8>,
    noted: Outcomes,
}

impl Recorder {
    pub(crate) fn new(writer: Writer, salt: String) -> Recorder {
        Recorder {
            writer,
            salt,
            buf: Vec::new(),
            noted: Outcomes::default(),
        }
    }

    /// Note a row's final outcome (handed over by the next [`Recorder::flush`]). A row the
    /// provider answered "already exists" (`already_present`) is forgotten, not remembered:
    /// what the provider holds for it may be older data than this row.
    pub(crate) fn note<P: Provider>(
        &mut self,
        provider: &P,
        customer: &P::Customer,
        outcome: &Outcome,
    ) {
        match outcome {
            Outcome::Succeeded {
                already_present: false,
                ..
            } => {
                if let Some(key) = provider.state_key(customer) {
                    let sent = provider.sent_bytes(customer, &mut self.buf);
                    let fp = fingerprint(self.salt.as_bytes(), sent);
                    self.noted
                        .succeeded
                        .push((Cow::Owned(key.into_owned()), fp));
                }
            }
            Outcome::Succeeded {
                already_present: true,
                ..
            }
            | Outcome::Unknown { .. } => {
                if let Some(key) = provider.state_key(customer) {
                    self.noted.forget.push(Cow::Owned(key.into_owned()));
                }
            }
            Outcome::Failed { .. } | Outcome::Pending => {}
        }
    }

    /// At the end of the run: hand over what is left and wait for the writer to record and
    /// merge it. Returns a warning to show when something could not be recorded.
    pub(crate) fn finish(&mut self) -> Option<String> {
        self.flush();
        self.writer.finish()
    }

    /// Hand what was noted to the writer (it never waits).
    pub(crate) fn flush(&mut self) {
        if !self.noted.succeeded.is_empty() || !self.noted.forget.is_empty() {
            self.writer.send(std::mem::take(&mut self.noted));
        }
    }
}

#[cfg(test)]
mod tests;
