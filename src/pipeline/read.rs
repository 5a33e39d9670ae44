//! The reading stage: records from the input, mapped and prepared by the provider, checked
//! for in-file duplicates, grouped into batches. Runs on its own thread.
//!
//! Invariant: each record leaves this stage exactly once, either inside a batch or as an
//! event (rejected, or unread when the run stops early).

use std::sync::Arc;

use tokio::sync::mpsc::Sender;

use super::seen::{First, Seen};
use super::{Batch, EarlierRow, Event, Item, Shared};
use crate::input::{place, Input, InputError, Record, RecordData};
use crate::mapping::{KeyPlan, Plan, PlanLine, Schema};
use crate::provider::{Observed, Provider};
use crate::resume::Resume;
use crate::stop::Stop;

/// How records are mapped: by column position (CSV/TSV) or by key (JSONL).
pub(crate) enum Mapper {
    Csv { plan: Plan, header: Vec<String> },
    Json(KeyPlan),
}

/// What the reader saw.
#[derive(Debug, Default)]
pub(crate) struct ReadStats {
    pub records: u64,
    pub batches: u64,
    /// The mapping as applied (for JSONL: over the keys seen).
    pub plan: Vec<PlanLine>,
    /// JSONL keys that fed nothing (for the warning CSV headers get up front).
    pub ignored_keys: Vec<String>,
    /// What the provider's reading saw of the values (for the closing warnings).
    pub observed: Observed,
}

/// Reading stopped on an error of the input; the rows read before it are all accounted for.
#[derive(Debug)]
pub(crate) struct ReadFailed {
    pub error: InputError,
    /// What the provider's reading saw of the rows read (their warnings are still said).
    pub observed: Observed,
}

pub(crate) struct Reader<P: Provider> {
    provider: Arc<P>,
    mapper: Mapper,
    batch_size: usize,
    stop: Stop,
    /// The run being resumed: rows with a final outcome are not sent again.
    resume: Option<Arc<Resume>>,
    /// About how many records the input holds (a file's line count), to size the duplicate
    /// check once; `None` for a stream or a workbook.
    expected_rows: Option<u64>,
}

impl<P: Provider> Reader<P> {
    /// The reader of this input, mapping with `mapper` into batches of `batch_size`.
    pub(crate) fn new(
        provider: Arc<P>,
        mapper: Mapper,
        batch_size: usize,
        input: &Input,
        shared: &Shared,
    ) -> Reader<P> {
        Reader {
            provider,
            mapper,
            batch_size,
            stop: shared.stop.clone(),
            resume: shared.resume.clone(),
            // A text file's lines; a workbook's bytes say nothing of its rows.
            expected_rows: (!input.format.is_sheet())
                .then(|| input.origin.line_count())
                .flatten(),
        }
    }
}

/// The collector is gone: reading stops.
struct Gone;

/// What one pass over the input carries from record to record.
struct Pass<C> {
    batches: Sender<Batch<C>>,
    events: Sender<Event<C>>,
    stats: ReadStats,
    seen: Seen,
    batch: Vec<Item<C>>,
    unread: Vec<(u64, RecordData)>,
    resumed: Vec<EarlierRow<C>>,
}

/// Rows told to the collector together (unread, or finished by the resumed run).
const GROUP: usize = 1024;

impl<C> Pass<C> {
    fn event(&self, ev: Event<C>) -> Result<(), Gone> {
        self.events.blocking_send(ev).map_err(|_| Gone)
    }

    /// Send the batch gathered so far (if any) to the dispatcher.
    fn send_batch(&mut self, capacity: usize) {
        if self.batch.is_empty() {
            return;
        }
        self.stats.batches += 1;
        let items = std::mem::replace(&mut self.batch, Vec::with_capacity(capacity));
        if let Err(e) = self.batches.blocking_send(Batch {
            id: self.stats.batches,
            items,
        }) {
            // The dispatcher is gone: these rows were never sent.
            let _ = self.events.blocking_send(Event::pending(e.0.items));
        }
    }

    /// Records not read because the run stopped: told in groups.
    fn unread(&mut self, row: u64, data: RecordData) {
        self.unread.push((row, data));
        if self.unread.len() >= GROUP {
            let _ = self
                .events
                .blocking_send(Event::Unread(std::mem::take(&mut self.unread)));
        }
    }

    /// A row the resumed run finished: told in groups.
    fn resumed(&mut self, row: EarlierRow<C>) -> Result<(), Gone> {
        self.resumed.push(row);
        if self.resumed.len() >= GROUP {
            let rows = std::mem::take(&mut self.resumed);
            return self.event(Event::Resumed(rows));
        }
        Ok(())
    }
}

impl<P: Provider> Reader<P> {
    /// Drain `input` into `batches` and `events`. Returns an error only when reading itself
    /// fails (I/O); records read before that are all accounted for.
    pub(crate) fn run(
        mut self,
        input: Input,
        batches: Sender<Batch<P::Customer>>,
        events: Sender<Event<P::Customer>>,
    ) -> Result<ReadStats, Box<ReadFailed>> {
        let mut pass = Pass {
            batches,
            events,
            stats: ReadStats::default(),
            // Sized once for the rows to come (a file's lines).
            seen: self
                .expected_rows
                .map_or_else(Seen::default, Seen::with_capacity),
            batch: Vec::with_capacity(self.batch_size),
            unread: Vec::new(),
            resumed: Vec::new(),
        };
        let mut result = Ok(());
        let sheet = input.sheet.as_ref().map(|s| s.name.clone());
        let sheet = sheet.as_deref();
        for rec in input {
            let rec = match rec {
                Ok(r) => r,
                Err(e) => {
                    result = Err(e);
                    break;
                }
            };
            pass.stats.records += 1;
            let went = if self.stop.is_set() {
                self.after_stop(rec, sheet, &mut pass)
            } else {
                self.take(rec, sheet, &mut pass)
            };
            if went.is_err() {
                break;
            }
        }
        pass.send_batch(0);
        if !pass.resumed.is_empty() {
            let _ = pass.events.blocking_send(Event::Resumed(pass.resumed));
        }
        if !pass.unread.is_empty() {
            let _ = pass.events.blocking_send(Event::Unread(pass.unread));
        }
        let mut stats = pass.stats;
        if let Err(error) = result {
            let observed = stats.observed;
            return Err(Box::new(ReadFailed { error, observed }));
        }
        let schema = Schema::of(&*self.provider);
        stats.plan = match &self.mapper {
            Mapper::Csv { plan, header } => plan.lines(&schema, header),
            Mapper::Json(kp) => {
                stats.ignored_keys = kp.ignored_keys();
                kp.lines()
            }
        };
        Ok(stats)
    }

    fn is_done(&self, row: u64) -> bool {
        self.resume.as_ref().is_some_and(|r| r.is_done(row))
    }

    /// A record read after the run was stopped: unread, unless its final outcome is known
    /// (stopping does not make it pending).
    fn after_stop(
        &mut self,
        rec: Record,
        sheet: Option<&str>,
        pass: &mut Pass<P::Customer>,
    ) -> Result<(), Gone> {
        if self.is_done(rec.row) {
            let customer = self.prepare(&rec, sheet, &mut pass.stats.observed).ok();
            return pass.resumed(EarlierRow {
                row: rec.row,
                data: rec.data,
                customer,
            });
        }
        pass.unread(rec.row, rec.data);
        Ok(())
    }

    /// A record of a running import: rejected, a duplicate, done in the resumed run, or
    /// into the batch.
    fn take(
        &mut self,
        rec: Record,
        sheet: Option<&str>,
        pass: &mut Pass<P::Customer>,
    ) -> Result<(), Gone> {
        let customer = match self.prepare(&rec, sheet, &mut pass.stats.observed) {
            Ok(c) => c,
            Err((code, message)) => {
                return pass.event(Event::Rejected {
                    row: rec.row,
                    data: rec.data,
                    code,
                    message,
                })
            }
        };
        let first = self
            .provider
            .dedup_key(&customer)
            .map(|key| pass.seen.first(key, rec.row));
        if let Some(First::At(first)) = first {
            let first = first.map_or_else(|| "an earlier row".into(), |r| format!("row {r}"));
            return pass.event(Event::Rejected {
                row: rec.row,
                data: rec.data,
                code: "duplicate_in_file".into(),
                message: format!(
                    "{}: the same {} as {first} (sent once, from {first})",
                    place(sheet, rec.line),
                    self.provider.spec().dedup_noun
                ),
            });
        }
        if self.is_done(rec.row) {
            // Resumed run: this row has its final outcome already.
            return pass.resumed(EarlierRow {
                row: rec.row,
                data: rec.data,
                customer: Some(customer),
            });
        }
        pass.batch.push(Item {
            row: rec.row,
            customer,
            data: rec.data,
        });
        if pass.batch.len() >= self.batch_size {
            pass.send_batch(self.batch_size);
        }
        Ok(())
    }

    /// Map and validate one record, noting in `seen` what the provider saw; rejection as (code,
    /// message naming the line, or the sheet and row).
    fn prepare(
        &mut self,
        rec: &Record,
        sheet: Option<&str>,
        seen: &mut Observed,
    ) -> Result<P::Customer, (String, String)> {
        if let Some(p) = &rec.problem {
            return Err((p.code.to_owned(), p.message.clone()));
        }
        let mapped = match (&mut self.mapper, &rec.data) {
            (Mapper::Csv { plan, header }, RecordData::Cells(cells)) => {
                plan.apply(header, cells.iter())
            }
            (Mapper::Json(kp), RecordData::Object(obj)) => kp.apply(obj),
            _ => {
                return Err((
                    "unreadable".into(),
                    format!("{}: the record could not be read", place(sheet, rec.line)),
                ))
            }
        };
        self.provider
            .prepare(&mapped, seen)
            .map_err(|r| (r.code, format!("{}: {}", place(sheet, rec.line), r.message)))
    }
}

#[cfg(test)]
mod tests;
