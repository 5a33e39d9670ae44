//! The collecting stage: the single writer of the reports and the journal's outcomes. It
//! counts every outcome, drives the progress bar per batch, and asks the run to stop when
//! `--max-failures` is exceeded. Runs on its own thread.
//!
//! Invariant: each event's rows are written to exactly one report (success, failed or, with
//! `--skip-unchanged`, unchanged) and counted exactly once; the state hears of an outcome only
//! after the journal recorded it. When writing fails (a full disk), the run is stopped, nothing more is
//! written, and every row is still counted, so that the summary tells what happened; the
//! journal then holds what was recorded before, for `--resume`.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter};
use std::sync::Arc;

use indicatif::ProgressBar;
use tokio::sync::mpsc::Receiver;

use super::unchanged::Recorder;
use super::{Event, Outcome, WriteFailure};
use crate::journal::{EarlierOutcome, Journal};
use crate::messages;
use crate::outcome::Counts;
use crate::provider::Provider;
use crate::report::{FailedWriter, ReportFile, SuccessWriter};
use crate::stop::{Reason, Stop};

/// How often recorded outcomes are synced to disk.
const SYNC_EVERY: std::time::Duration = std::time::Duration::from_millis(100);
/// After writing what was queued, the collector lets events gather this long before it looks
/// again: it wakes once per interval instead of once per batch (fewer thread switches, the
/// main cost of a writer that is otherwise idle most of the time). Senders never wait for it
/// unless the event channel fills (`--max-failures` is judged by the sender, see `budget.rs`).
const LINGER: std::time::Duration = std::time::Duration::from_millis(2);
/// Rejections echoed to stderr before the rest are only counted.
const SHOWN_REJECTIONS: u64 = 10;

/// Row numbers kept per rejection code for the plan view.
const EXAMPLE_ROWS: usize = 5;

/// The report files being written.
pub struct Reports {
    pub success: Option<(ReportFile, SuccessWriter<BufWriter<File>>)>,
    pub failed: (ReportFile, FailedWriter<BufWriter<File>>),
    /// `unchanged.csv`, with `--skip-unchanged`.
    pub unchanged: Option<(ReportFile, SuccessWriter<BufWriter<File>>)>,
}

impl Reports {
    /// Flush the reports and rename them into place.
    fn commit(self) -> io::Result<()> {
        if let Some((rf, w)) = self.success {
            rf.commit(w.into_inner()?)?;
        }
        if let Some((rf, w)) = self.unchanged {
            rf.commit(w.into_inner()?)?;
        }
        let (rf, w) = self.failed;
        rf.commit(w.into_inner()?)
    }
}

/// Debug builds only, for the tests of the panic hook: `CUSTIMPORT_DEBUG_PANIC=collector`
/// makes the collector panic on the first rows with an outcome, as a bug would.
#[cfg(debug_assertions)]
fn debug_panic() {
    if std::env::var_os("CUSTIMPORT_DEBUG_PANIC").is_some_and(|v| v == "collector") {
        panic!("a panic asked for by CUSTIMPORT_DEBUG_PANIC");
    }
}

/// Writing failed: record it (the first failure only) and stop the run.
fn broke(failure: &WriteFailure, stop: &Stop, what: &str, e: &io::Error) {
    if failure.set(what, e) {
        stop.set(Reason::Fatal, format!("cannot write {what}: {e}"));
    }
}

pub struct Collector<P: Provider> {
    pub provider: Arc<P>,
    pub reports: Reports,
    pub journal: Option<Arc<Journal>>,
    pub previous: Option<Arc<HashMap<u64, EarlierOutcome>>>,
    pub progress: ProgressBar,
    pub stop: Stop,
    pub input_name: String,
    pub counts: Counts,
    /// The first failure to write the journal or a report, shared with the dispatcher.
    pub write_failure: WriteFailure,
    /// Rows whose final outcome the journal holds (recorded by this run or the resumed one).
    pub journaled: u64,
    /// `--skip-unchanged` (not in a dry run): records final outcomes in the state, after the
    /// journal.
    pub recorder: Option<Recorder>,
}

/// What the collector ends with.
#[derive(Debug, Default)]
pub struct Collected {
    pub counts: Counts,
    /// Rows whose final outcome the journal holds.
    pub journaled: u64,
}

impl<P: Provider> Collector<P> {
    /// Consume events until every sender is gone, then commit the reports. A failure to write
    /// is recorded in `write_failure` (and stops the run); the reports are then not committed.
    pub fn run(mut self, mut rx: Receiver<Event<P::Customer>>) -> Collected {
        let mut synced = std::time::Instant::now();
        while let Some(ev) = rx.blocking_recv() {
            self.handle(ev);
            // Group commit: write what is already queued, then sync the journal (outcomes and,
            // for nxlink, the dispatcher's batch records) at most every SYNC_EVERY. Written
            // entries survive any crash of the process; what a power failure loses only means
            // its batch is sent again on --resume, which both providers deduplicate (itnio's
            // batch records are synced before sending, see Provider::resend_needs_history).
            while let Ok(ev) = rx.try_recv() {
                self.handle(ev);
            }
            // The journal has these outcomes (written, synced below within 100 ms): now the
            // state, in one transaction.
            if let Some(r) = &mut self.recorder {
                r.flush();
            }
            if synced.elapsed() >= SYNC_EVERY {
                self.sync_journal();
                synced = std::time::Instant::now();
            }
            self.tick();
            std::thread::sleep(LINGER);
        }
        self.sync_journal();
        if let Some(warning) = self.recorder.as_mut().and_then(Recorder::finish) {
            messages::warn(warning);
        }
        let c = &self.counts;
        let shown = c.rejected.min(SHOWN_REJECTIONS);
        if c.rejected > shown {
            messages::warn(format_args!(
                "{} more rejected rows not shown (see failed report)",
                c.rejected - shown
            ));
        }
        if c.unattributed > 0 {
            messages::warn(format_args!(
                "the provider answered {} line(s) that match no row sent; each is logged above (phone masked)",
                c.unattributed
            ));
        }
        self.progress.finish_and_clear();
        if !self.write_failure.is_set() {
            if let Err(e) = self.reports.commit() {
                broke(&self.write_failure, &self.stop, "the reports", &e);
            }
        }
        Collected {
            counts: self.counts,
            journaled: self.journaled,
        }
    }

    /// Writing failed: say so once, stop the run, write nothing more.
    fn broke(&self, what: &str, e: &io::Error) {
        broke(&self.write_failure, &self.stop, what, e);
    }

    fn sync_journal(&self) {
        if self.write_failure.is_set() {
            return;
        }
        if let Some(j) = &self.journal {
            if let Err(e) = j.sync() {
                self.broke("the journal", &e);
            }
        }
    }

    /// Write one row to the failure report (unless writing already failed).
    fn write_failed(
        &mut self,
        row: u64,
        data: &crate::input::RecordData,
        outcome: &str,
        code: &str,
        message: &str,
    ) {
        if self.write_failure.is_set() {
            return;
        }
        if let Err(e) = self
            .reports
            .failed
            .1
            .write(row, data, outcome, code, message)
        {
            self.broke("the failure report", &e);
        }
    }

    /// Write one row to `success.csv` (unless writing already failed).
    fn write_success<S: AsRef<str>>(&mut self, row: u64, cells: &[S]) {
        if self.write_failure.is_set() {
            return;
        }
        if let Some((_, w)) = &mut self.reports.success {
            if let Err(e) = w.write(row, cells) {
                self.broke("success.csv", &e);
            }
        }
    }

    /// Write one row to `unchanged.csv` (unless writing already failed).
    fn write_unchanged<S: AsRef<str>>(&mut self, row: u64, cells: &[S]) {
        if self.write_failure.is_set() {
            return;
        }
        if let Some((_, w)) = &mut self.reports.unchanged {
            if let Err(e) = w.write(row, cells) {
                self.broke("unchanged.csv", &e);
            }
        }
    }

    fn handle(&mut self, ev: Event<P::Customer>) {
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
                if self.counts.rejected <= SHOWN_REJECTIONS {
                    self.progress.suspend(|| {
                        messages::warn(format_args!(
                            "{}: row {row} rejected: {message}",
                            self.input_name
                        ))
                    });
                }
                self.write_failed(row, &data, "rejected", &code, &message);
            }
            Event::Unread(rows) => {
                for (row, data) in rows {
                    self.pending(row, &data);
                }
            }
            Event::Done(items) => {
                #[cfg(debug_assertions)]
                debug_panic();
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
                if let (Some(j), false) = (&self.journal, self.write_failure.is_set()) {
                    let rows: Vec<crate::journal::DoneRow<'_>> = items
                        .iter()
                        .zip(&cells)
                        .map(|((it, o), c)| (it.row, o, c.as_deref()))
                        .collect();
                    match j.done(&rows) {
                        Ok(()) => {
                            self.journaled += items
                                .iter()
                                .filter(|(_, o)| !matches!(o, Outcome::Pending))
                                .count() as u64;
                            // Only what the journal holds goes into the state.
                            if let Some(r) = &mut self.recorder {
                                for (it, o) in &items {
                                    r.note(&*self.provider, &it.customer, o);
                                }
                            }
                        }
                        Err(e) => self.broke("the journal", &e),
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
                            self.write_success(item.row, cells.as_deref().unwrap_or_default());
                        }
                        Outcome::Failed { code, message } => {
                            self.counts.total += 1;
                            self.counts.failed += 1;
                            tracing::debug!(row = item.row, code = %code, "failed: {message}");
                            self.write_failed(item.row, &item.data, "failed", code, message);
                        }
                        Outcome::Unknown { code, message } => {
                            self.counts.total += 1;
                            self.counts.unknown += 1;
                            tracing::debug!(row = item.row, code = %code, "unknown: {message}");
                            self.write_failed(item.row, &item.data, "unknown", code, message);
                        }
                        Outcome::Pending => self.pending(item.row, &item.data),
                    }
                }
            }
            Event::Resumed { row, data } => {
                self.counts.total += 1;
                self.journaled += 1;
                let prev = self.previous.as_ref().and_then(|p| p.get(&row)).cloned();
                match prev {
                    Some(EarlierOutcome::Succeeded {
                        cells,
                        already_present,
                    }) => {
                        self.counts.succeeded += 1;
                        self.counts.already_present += u64::from(already_present);
                        self.write_success(row, &cells);
                    }
                    Some(EarlierOutcome::Failed { code, message }) => {
                        self.counts.failed += 1;
                        self.write_failed(row, &data, "failed", &code, &message);
                    }
                    Some(EarlierOutcome::Unknown { code, message }) => {
                        self.counts.unknown += 1;
                        self.write_failed(row, &data, "unknown", &code, &message);
                    }
                    Some(EarlierOutcome::Unchanged { cells }) => {
                        self.counts.unchanged += 1;
                        self.write_unchanged(row, &cells);
                    }
                    None => {
                        self.counts.total -= 1;
                        self.journaled -= 1;
                        self.pending(row, &data);
                    }
                }
            }
            Event::Unchanged(items) => {
                let cells: Vec<Vec<Cow<'_, str>>> = items
                    .iter()
                    .map(|it| self.provider.unchanged_cells(&it.customer))
                    .collect();
                if let (Some(j), false) = (&self.journal, self.write_failure.is_set()) {
                    let rows: Vec<(u64, &[Cow<'_, str>])> = items
                        .iter()
                        .zip(&cells)
                        .map(|(it, c)| (it.row, c.as_slice()))
                        .collect();
                    match j.unchanged(&rows) {
                        Ok(()) => self.journaled += items.len() as u64,
                        Err(e) => self.broke("the journal", &e),
                    }
                }
                self.counts.total += items.len() as u64;
                self.counts.unchanged += items.len() as u64;
                for (it, c) in items.iter().zip(&cells) {
                    self.write_unchanged(it.row, c);
                }
            }
            Event::Unattributed(lines) => {
                self.counts.unattributed += lines.len() as u64;
                for l in lines {
                    // Never log a phone number in full.
                    let masked = match l.rsplit_once(':') {
                        Some((head, phone)) => {
                            format!(
                                "{head}:{}",
                                crate::provider::rules::mask_phone(phone.trim())
                            )
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
    }

    fn pending(&mut self, row: u64, data: &crate::input::RecordData) {
        self.counts.total += 1;
        self.counts.pending += 1;
        self.write_failed(
            row,
            data,
            "pending",
            "not_sent",
            "not sent: the run stopped early; continue with --resume",
        );
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
