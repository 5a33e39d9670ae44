//! The collecting stage: the single writer of the reports and the journal's outcomes. It
//! counts every outcome, drives the progress bar per batch, and asks the run to stop when
//! `--max-failures` is exceeded. Runs on its own thread.
//!
//! Invariant: each event's rows are written to exactly one report (success, failed or, with
//! `--skip-unchanged`, unchanged) and counted exactly once; the state hears of an outcome
//! only after the journal recorded it.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{self, BufWriter};
use std::sync::Arc;

use indicatif::ProgressBar;
use tokio::sync::mpsc::Receiver;

use super::unchanged::Recorder;
use super::{Event, Outcome};
use crate::config::MaxFailures;
use crate::journal::{Journal, Previous};
use crate::provider::Provider;
use crate::report::{FailedWriter, ReportFile, SuccessWriter};
use crate::stop::{Reason, Stop};

/// How often recorded outcomes are synced to disk.
const SYNC_EVERY: std::time::Duration = std::time::Duration::from_millis(100);
/// After writing what was queued, the collector lets events gather this long before it looks
/// again: it wakes once per interval instead of once per batch (fewer thread switches, the
/// main cost of a writer that is otherwise idle most of the time). Senders never wait for it
/// unless the event channel fills. Not with `--max-failures`, which is judged here after every
/// batch so that the run stops as soon as the limit is passed.
const LINGER: std::time::Duration = std::time::Duration::from_millis(2);
/// Rejections echoed to stderr before the rest are only counted.
const SHOWN_REJECTIONS: u64 = 10;
/// `--max-failures P%` is judged once at least this many rows were answered.
const PERCENT_MIN_SAMPLE: u64 = 100;

/// Outcome counts.
#[derive(Debug, Default, Clone)]
pub struct Counts {
    pub total: u64,
    pub succeeded: u64,
    pub rejected: u64,
    pub failed: u64,
    pub unknown: u64,
    pub pending: u64,
    pub already_present: u64,
    pub unattributed: u64,
    pub valid: u64,
    pub planned_requests: u64,
    /// `--skip-unchanged`: rows not sent, the state remembering them unchanged.
    pub unchanged: u64,
    /// Rejections by code: count and the first few row numbers.
    pub rejections: BTreeMap<String, (u64, Vec<u64>)>,
}

/// Row numbers kept per rejection code for the plan view.
const EXAMPLE_ROWS: usize = 5;

/// The report files being written.
pub struct Reports {
    pub success: Option<(ReportFile, SuccessWriter<BufWriter<File>>)>,
    pub failed: (ReportFile, FailedWriter<BufWriter<File>>),
    /// `unchanged.csv`, with `--skip-unchanged`.
    pub unchanged: Option<(ReportFile, SuccessWriter<BufWriter<File>>)>,
}

pub struct Collector<P: Provider> {
    pub provider: Arc<P>,
    pub reports: Reports,
    pub journal: Option<Arc<Journal>>,
    pub previous: Option<Arc<HashMap<u64, Previous>>>,
    pub progress: ProgressBar,
    pub stop: Stop,
    pub max_failures: Option<MaxFailures>,
    pub quiet: bool,
    pub input_name: String,
    pub counts: Counts,
    /// `--skip-unchanged` (not in a dry run): records final outcomes in the state, after the
    /// journal.
    pub recorder: Option<Recorder>,
}

impl<P: Provider> Collector<P> {
    /// Consume events until every sender is gone, then commit the reports.
    pub fn run(mut self, mut rx: Receiver<Event<P::Customer>>) -> io::Result<Counts> {
        let mut synced = std::time::Instant::now();
        while let Some(ev) = rx.blocking_recv() {
            self.handle(ev)?;
            // Group commit: write what is already queued, then sync the journal (outcomes and,
            // for nxlink, the dispatcher's batch records) at most every SYNC_EVERY. Written
            // entries survive any crash of the process; what a power failure loses only means
            // its batch is sent again on --resume, which both providers deduplicate (itnio's
            // batch records are synced before sending, see Provider::resend_needs_history).
            while let Ok(ev) = rx.try_recv() {
                self.handle(ev)?;
            }
            // The journal has these outcomes (written, synced below within 100 ms): now the
            // state, in one transaction.
            if let Some(r) = &mut self.recorder {
                r.flush();
            }
            if let Some(j) = &self.journal {
                if synced.elapsed() >= SYNC_EVERY {
                    j.sync()?;
                    synced = std::time::Instant::now();
                }
            }
            self.tick();
            if self.max_failures.is_none() {
                std::thread::sleep(LINGER);
            }
        }
        if let Some(j) = &self.journal {
            j.sync()?;
        }
        if let Some(warning) = self.recorder.as_mut().and_then(Recorder::finish) {
            if !self.quiet {
                eprintln!("warning: {warning}");
            }
        }
        let c = &self.counts;
        let shown = c.rejected.min(SHOWN_REJECTIONS);
        if !self.quiet && c.rejected > shown {
            eprintln!(
                "warning: {} more rejected rows not shown (see failed report)",
                c.rejected - shown
            );
        }
        if !self.quiet && c.unattributed > 0 {
            eprintln!(
                "warning: the provider answered {} line(s) that match no row sent; each is logged above (phone masked)",
                c.unattributed
            );
        }
        self.progress.finish_and_clear();
        if let Some((rf, w)) = self.reports.success.take() {
            rf.commit(w.into_inner()?)?;
        }
        if let Some((rf, w)) = self.reports.unchanged.take() {
            rf.commit(w.into_inner()?)?;
        }
        let (rf, w) = self.reports.failed;
        rf.commit(w.into_inner()?)?;
        Ok(self.counts)
    }

    fn handle(&mut self, ev: Event<P::Customer>) -> io::Result<()> {
        match ev {
            Event::Rejected {
                row,
                data,
                code,
                message,
            } => {
                self.counts.total += 1;
                self.counts.rejected += 1;
                let entry = self.counts.rejections.entry(code.clone()).or_default();
                entry.0 += 1;
                if entry.1.len() < EXAMPLE_ROWS {
                    entry.1.push(row);
                }
                if !self.quiet && self.counts.rejected <= SHOWN_REJECTIONS {
                    self.progress.suspend(|| {
                        eprintln!(
                            "warning: {}: row {row} rejected: {message}",
                            self.input_name
                        )
                    });
                }
                self.reports
                    .failed
                    .1
                    .write(row, &data, "rejected", &code, &message)?;
            }
            Event::Unread(rows) => {
                for (row, data) in rows {
                    self.pending(row, &data)?;
                }
            }
            Event::Done(items) => {
                // Success cells are computed once, for the journal and the report.
                let cells: Vec<Option<Vec<Cow<'_, str>>>> = items
                    .iter()
                    .map(|(it, o)| match o {
                        Outcome::Succeeded { id, .. } => {
                            Some(self.provider.success_cells(&it.customer, id.as_deref()))
                        }
                        _ => None,
                    })
                    .collect();
                if let Some(j) = &self.journal {
                    let rows: Vec<crate::journal::DoneRow<'_>> = items
                        .iter()
                        .zip(&cells)
                        .map(|((it, o), c)| (it.row, o, c.as_deref()))
                        .collect();
                    j.done(&rows)?;
                }
                if let Some(r) = &mut self.recorder {
                    for (it, o) in &items {
                        r.note(&*self.provider, &it.customer, o);
                    }
                }
                for ((item, outcome), cells) in items.iter().zip(&cells) {
                    match outcome {
                        Outcome::Succeeded {
                            already_present, ..
                        } => {
                            self.counts.total += 1;
                            self.counts.succeeded += 1;
                            self.counts.already_present += u64::from(*already_present);
                            tracing::debug!(row = item.row, "succeeded");
                            if let Some((_, w)) = &mut self.reports.success {
                                w.write(item.row, cells.as_deref().unwrap_or_default())?;
                            }
                        }
                        Outcome::Failed { code, message } => {
                            self.counts.total += 1;
                            self.counts.failed += 1;
                            tracing::debug!(row = item.row, code = %code, "failed: {message}");
                            self.reports
                                .failed
                                .1
                                .write(item.row, &item.data, "failed", code, message)?;
                        }
                        Outcome::Unknown { code, message } => {
                            self.counts.total += 1;
                            self.counts.unknown += 1;
                            tracing::debug!(row = item.row, code = %code, "unknown: {message}");
                            self.reports
                                .failed
                                .1
                                .write(item.row, &item.data, "unknown", code, message)?;
                        }
                        Outcome::Pending => self.pending(item.row, &item.data)?,
                    }
                }
                self.check_max_failures();
            }
            Event::Resumed { row, data } => {
                self.counts.total += 1;
                let prev = self.previous.as_ref().and_then(|p| p.get(&row)).cloned();
                match prev {
                    Some(Previous::Succeeded {
                        cells,
                        already_present,
                    }) => {
                        self.counts.succeeded += 1;
                        self.counts.already_present += u64::from(already_present);
                        if let Some((_, w)) = &mut self.reports.success {
                            w.write(row, &cells)?;
                        }
                    }
                    Some(Previous::Failed { code, message }) => {
                        self.counts.failed += 1;
                        self.reports
                            .failed
                            .1
                            .write(row, &data, "failed", &code, &message)?;
                    }
                    Some(Previous::Unknown { code, message }) => {
                        self.counts.unknown += 1;
                        self.reports
                            .failed
                            .1
                            .write(row, &data, "unknown", &code, &message)?;
                    }
                    Some(Previous::Unchanged { cells }) => {
                        self.counts.unchanged += 1;
                        if let Some((_, w)) = &mut self.reports.unchanged {
                            w.write(row, &cells)?;
                        }
                    }
                    None => {
                        self.counts.total -= 1;
                        self.pending(row, &data)?;
                    }
                }
            }
            Event::Unchanged(items) => {
                let cells: Vec<Vec<Cow<'_, str>>> = items
                    .iter()
                    .map(|it| self.provider.unchanged_cells(&it.customer))
                    .collect();
                if let Some(j) = &self.journal {
                    let rows: Vec<(u64, &[Cow<'_, str>])> = items
                        .iter()
                        .zip(&cells)
                        .map(|(it, c)| (it.row, c.as_slice()))
                        .collect();
                    j.unchanged(&rows)?;
                }
                self.counts.total += items.len() as u64;
                self.counts.unchanged += items.len() as u64;
                if let Some((_, w)) = &mut self.reports.unchanged {
                    for (it, c) in items.iter().zip(&cells) {
                        w.write(it.row, c)?;
                    }
                }
            }
            Event::Unattributed(lines) => {
                self.counts.unattributed += lines.len() as u64;
                for l in lines {
                    // Never log a phone number in full.
                    let masked = match l.rsplit_once(':') {
                        Some((head, phone)) => {
                            format!("{head}:{}", crate::report::mask_phone(phone.trim()))
                        }
                        None => l,
                    };
                    tracing::warn!("answer line matching no row of its request: {masked}");
                }
            }
            Event::Valid { rows } => {
                self.counts.total += rows;
                self.counts.valid += rows;
                self.counts.planned_requests += 1;
            }
        }
        Ok(())
    }

    fn pending(&mut self, row: u64, data: &crate::input::RecordData) -> io::Result<()> {
        self.counts.total += 1;
        self.counts.pending += 1;
        self.reports.failed.1.write(
            row,
            data,
            "pending",
            "not_sent",
            "not sent: the run stopped early; continue with --resume",
        )
    }

    fn check_max_failures(&self) {
        let Some(limit) = self.max_failures else {
            return;
        };
        let c = &self.counts;
        let failures = c.failed + c.unknown;
        let answered = c.succeeded + failures;
        let exceeded = match limit {
            MaxFailures::Count(n) => failures > n,
            MaxFailures::Percent(p) => {
                answered >= PERCENT_MIN_SAMPLE && (failures as f64) * 100.0 > p * answered as f64
            }
        };
        if exceeded {
            self.stop.set(
                Reason::MaxFailures,
                format!(
                    "--max-failures reached: {failures} of {answered} rows sent have failed; fix the cause, then continue with --resume"
                ),
            );
        }
    }

    fn tick(&self) {
        let c = &self.counts;
        self.progress.set_position(c.total);
        if c.unchanged > 0 {
            self.progress.set_message(format!(
                "{} ok, {} unchanged, {} rejected, {} failed, {} unknown",
                c.succeeded, c.unchanged, c.rejected, c.failed, c.unknown
            ));
        } else {
            self.progress.set_message(format!(
                "{} ok, {} rejected, {} failed, {} unknown",
                c.succeeded, c.rejected, c.failed, c.unknown
            ));
        }
    }
}
