//! The reading stage: records from the input, mapped and prepared by the provider, checked
//! for in-file duplicates, grouped into batches. Runs on its own thread.
//!
//! Invariant: each record leaves this stage exactly once, either inside a batch or as an
//! event (rejected, or unread when the run stops early).

use std::sync::Arc;

use tokio::sync::mpsc::Sender;

use super::seen::{First, Seen};
use super::{Batch, Event, Item};
use crate::input::{place, Input, InputError, Record, RecordData};
use crate::mapping::{KeyPlan, Plan, PlanLine, Schema};
use crate::provider::Provider;
use crate::stop::Stop;

/// How records are mapped: by column position (CSV/TSV) or by key (JSONL).
pub enum Mapper {
    Csv { plan: Plan, header: Vec<String> },
    Json(KeyPlan),
}

/// Rows already done in the run being resumed (skipped here, reported by the collector).
pub trait Skip: Send + Sync {
    fn done(&self, row: u64) -> bool;
}

/// What the reader saw.
#[derive(Debug, Default)]
pub struct ReadStats {
    pub records: u64,
    pub batches: u64,
    /// The mapping as applied (for JSONL: over the keys seen).
    pub plan: Vec<PlanLine>,
    /// JSONL keys that fed nothing (for the warning CSV headers get up front).
    pub ignored_keys: Vec<String>,
}

pub struct Reader<P: Provider> {
    pub provider: Arc<P>,
    pub mapper: Mapper,
    pub batch_size: usize,
    pub stop: Stop,
    pub skip: Option<Arc<dyn Skip>>,
    /// About how many records the input holds (a file's line count), to size the duplicate
    /// check once; `None` for a stream.
    pub expected_rows: Option<u64>,
}

impl<P: Provider> Reader<P> {
    /// Drain `input` into `batches` and `events`. Returns an error only when reading itself
    /// fails (I/O); records read before that are all accounted for.
    pub fn run(
        mut self,
        input: Input,
        batches: Sender<Batch<P::Customer>>,
        events: Sender<Event<P::Customer>>,
    ) -> Result<ReadStats, InputError> {
        let mut stats = ReadStats::default();
        // Sized once for the rows to come (a file's lines).
        let mut seen = self
            .expected_rows
            .map_or_else(Seen::default, Seen::with_capacity);
        let mut batch: Vec<Item<P::Customer>> = Vec::with_capacity(self.batch_size);
        let mut unread: Vec<(u64, RecordData)> = Vec::new();
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
            stats.records += 1;
            if self.stop.is_set() {
                if self.skip.as_ref().is_some_and(|s| s.done(rec.row)) {
                    // Resumed run: its final outcome is known, stopping does not make it pending.
                    let ev = Event::Resumed {
                        row: rec.row,
                        data: rec.data,
                    };
                    if events.blocking_send(ev).is_err() {
                        break;
                    }
                    continue;
                }
                unread.push((rec.row, rec.data));
                if unread.len() >= 1024 {
                    let _ = events.blocking_send(Event::Unread(std::mem::take(&mut unread)));
                }
                continue;
            }
            let prepared = self.prepare(&rec, sheet);
            let already = self.skip.as_ref().is_some_and(|s| s.done(rec.row));
            match prepared {
                Err((code, message)) => {
                    let ev = Event::Rejected {
                        row: rec.row,
                        data: rec.data,
                        code,
                        message,
                    };
                    if events.blocking_send(ev).is_err() {
                        break;
                    }
                }
                Ok(customer) => {
                    let first = self
                        .provider
                        .dedup_key(&customer)
                        .map(|key| seen.first(key, rec.row));
                    if let Some(First::At(first)) = first {
                        let first =
                            first.map_or_else(|| "an earlier row".into(), |r| format!("row {r}"));
                        let ev = Event::Rejected {
                            row: rec.row,
                            data: rec.data,
                            code: "duplicate_in_file".into(),
                            message: format!(
                                "{}: the same {} as {first} (sent once, from {first})",
                                place(sheet, rec.line),
                                self.provider.dedup_noun()
                            ),
                        };
                        if events.blocking_send(ev).is_err() {
                            break;
                        }
                        continue;
                    }
                    if already {
                        // Resumed run: this row has its final outcome already.
                        if events
                            .blocking_send(Event::Resumed {
                                row: rec.row,
                                data: rec.data,
                            })
                            .is_err()
                        {
                            break;
                        }
                        continue;
                    }
                    batch.push(Item {
                        row: rec.row,
                        line: rec.line,
                        customer,
                        data: rec.data,
                    });
                    if batch.len() >= self.batch_size {
                        stats.batches += 1;
                        let full =
                            std::mem::replace(&mut batch, Vec::with_capacity(self.batch_size));
                        if let Err(e) = batches.blocking_send(Batch {
                            id: stats.batches,
                            items: full,
                        }) {
                            // The dispatcher is gone: these rows were never sent.
                            let _ = events.blocking_send(Event::pending(e.0.items));
                        }
                    }
                }
            }
        }
        if !batch.is_empty() {
            stats.batches += 1;
            if let Err(e) = batches.blocking_send(Batch {
                id: stats.batches,
                items: batch,
            }) {
                let _ = events.blocking_send(Event::pending(e.0.items));
            }
        }
        if !unread.is_empty() {
            let _ = events.blocking_send(Event::Unread(unread));
        }
        let schema = Schema::of(&*self.provider);
        stats.plan = match &self.mapper {
            Mapper::Csv { plan, header } => plan.lines(&schema, header),
            Mapper::Json(kp) => {
                stats.ignored_keys = kp.ignored_keys();
                kp.lines()
            }
        };
        result.map(|()| stats)
    }

    /// Map and validate one record; rejection as (code, message naming the line, or the sheet
    /// and row).
    fn prepare(
        &mut self,
        rec: &Record,
        sheet: Option<&str>,
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
            .prepare(&mapped)
            .map_err(|r| (r.code, format!("{}: {}", place(sheet, rec.line), r.message)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::{Format, InputOptions};
    use crate::provider::nxlink::Nxlink;
    use crate::secret::Secret;
    use crate::stop::Reason;

    struct Done(Vec<u64>);
    impl Skip for Done {
        fn done(&self, row: u64) -> bool {
            self.0.contains(&row)
        }
    }

    #[test]
    fn after_a_stop_done_rows_stay_done_and_the_rest_is_unread() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.csv");
        std::fs::write(&path, "name,phone\nA,6281\nB,6282\nC,6283\n").unwrap();
        let input = Input::open(&InputOptions {
            path,
            format: Format::Csv,
            delimiter: None,
            encoding: None,
            max_field_bytes: 1 << 20,
            sheet: None,
        })
        .unwrap();
        let provider = Arc::new(Nxlink {
            access_key: "k".into(),
            access_secret: Secret::new("s"),
            tenant_id: 1,
            app_key: "a".into(),
            mode: 1,
            strict_binding: false,
            algorithm: crate::sign::Algorithm::Md5,
            phones: Default::default(),
        });
        let schema = Schema::of(&*provider);
        let header: Vec<String> = vec!["name".into(), "phone".into()];
        let (plan, _) = Plan::for_header(&schema, &header, &[]).unwrap();
        let stop = Stop::default();
        stop.set(Reason::Fatal, "stopped");
        let reader = Reader {
            provider,
            mapper: Mapper::Csv { plan, header },
            batch_size: 100,
            stop,
            skip: Some(Arc::new(Done(vec![1, 2]))),
            expected_rows: None,
        };
        let (btx, mut brx) = tokio::sync::mpsc::channel(4);
        let (etx, mut erx) = tokio::sync::mpsc::channel(16);
        reader.run(input, btx, etx).unwrap();
        assert!(brx.try_recv().is_err(), "nothing is batched after a stop");
        let mut resumed = vec![];
        let mut unread = vec![];
        while let Ok(ev) = erx.try_recv() {
            match ev {
                Event::Resumed { row, .. } => resumed.push(row),
                Event::Unread(rows) => unread.extend(rows.into_iter().map(|(r, _)| r)),
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(resumed, vec![1, 2]);
        assert_eq!(unread, vec![3]);
    }
}
