//! The collecting stage: the single writer of the reports and the journal's outcomes. It
//! counts every outcome and drives the progress bar per batch (`--max-failures` is judged by
//! the sender, as each batch ends: `budget.rs`). Runs on its own thread.
//!
//! Invariant: each event's rows are written to exactly one report (success, failed or, with
//! `--skip-unchanged`, unchanged) and counted exactly once; a row's success line is in the
//! report's file (flushed; synced before the journal is) before the journal records that it
//! succeeded, so that `--resume` of a killed run finds it there (see `crate::journal`); the
//! state hears of an outcome only after the journal recorded it. When writing fails (a full
//! disk), the run is stopped, nothing more is written, and every row is still counted, so that
//! the summary tells what happened; the journal then holds what was recorded before, for
//! `--resume`.

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, BufWriter};
use std::sync::Arc;

use indicatif::ProgressBar;
use tokio::sync::mpsc::Receiver;

use super::unchanged::Recorder;
use super::{Event, Outcome, Shared, WriteFailure};
use crate::config::Settings;
use crate::input::Input;
use crate::journal::{EarlierOutcome, Journal};
use crate::messages;
use crate::outcome::Counts;
use crate::provider::Provider;
use crate::report::outdir::ReportFile;
use crate::report::{FailedWriter, FailedXlsx, PendingReport, Provenance, SuccessWriter};
use crate::resume::Resume;
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
pub(crate) struct Reports {
    pub success: Option<(PendingReport, SuccessWriter<BufWriter<File>>)>,
    pub failed: (PendingReport, FailedWriter<BufWriter<File>>),
    /// `unchanged.csv`, with `--skip-unchanged`.
    pub unchanged: Option<(PendingReport, SuccessWriter<BufWriter<File>>)>,
    /// `failed.xlsx`, for a spreadsheet input.
    pub failed_xlsx: Option<(PendingReport, BufWriter<File>, FailedXlsx)>,
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
        if let Some((rf, mut w, x)) = self.failed_xlsx {
            if x.left_out > 0 || x.cut_cells > 0 {
                messages::warn(format_args!(
                    "{xlsx} holds {} fewer row(s) and {} shortened cell(s) than {csv}: a sheet holds at most 1,048,576 rows of cells of at most 32,767 characters; {csv} has every row whole",
                    x.left_out,
                    x.cut_cells,
                    xlsx = ReportFile::FailedXlsx,
                    csv = ReportFile::Failed,
                ));
            }
            x.save(&mut w)?;
            rf.commit(w)?;
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

/// The committed `success.csv` holds `reported` of the resumed run's success lines, written
/// again: once it holds them all, the copy kept of them goes.
fn earlier_reported(resume: Option<&Resume>, reported: u64) {
    if let Some(Err(e)) = resume.map(|r| r.reported(reported)) {
        messages::warn(format_args!("cannot remove {}: {e}", ReportFile::Earlier));
    }
}

pub(crate) struct Collector<P: Provider> {
    provider: Arc<P>,
    reports: Reports,
    journal: Option<Arc<Journal>>,
    /// The run being resumed: what to report for the rows it finished.
    resume: Option<Arc<Resume>>,
    progress: ProgressBar,
    stop: Stop,
    input_name: String,
    counts: Counts,
    /// The first failure to write the journal or a report, shared with the dispatcher.
    write_failure: WriteFailure,
    /// Rows whose final outcome the journal holds (recorded by this run or the resumed one).
    journaled: u64,
    /// `--skip-unchanged` (not in a dry run): records final outcomes in the state, after the
    /// journal.
    recorder: Option<Recorder>,
    /// What the journal and `--resume` depend on in the success report.
    written: Written,
    /// Where a fed-back report's rows say which row of the first file they are.
    provenance: Provenance,
    /// The send stage's pace (requests in flight, requests per second), for the progress bar.
    load: Arc<super::limiter::LoadView>,
}

/// What the collector wrote to the success report that others depend on.
#[derive(Debug, Default)]
pub(crate) struct Written {
    /// Rows recorded as succeeded in the journal since the success report was last synced.
    unsynced: bool,
    /// Success lines of the resumed run written again to this run's `success.csv`.
    earlier: u64,
}

/// What the collector ends with.
#[derive(Debug, Default)]
pub(crate) struct Collected {
    pub counts: Counts,
    /// Rows whose final outcome the journal holds.
    pub journaled: u64,
}

impl<P: Provider> Collector<P> {
    /// The collector of a run reading `input`: it writes `reports` (and, with
    /// `--skip-unchanged`, records in the state through `recorder`) and shows the progress
    /// the settings ask for.
    pub(crate) fn new(
        provider: Arc<P>,
        reports: Reports,
        recorder: Option<Recorder>,
        input: &Input,
        settings: &Settings,
        shared: &Shared,
    ) -> Collector<P> {
        let rows = input.sheet.as_ref().and_then(|sh| sh.rows);
        Collector {
            provider,
            reports,
            journal: shared.journal.clone(),
            resume: shared.resume.clone(),
            progress: crate::progress::progress_bar(settings, !input.is_stream(), rows),
            stop: shared.stop.clone(),
            input_name: settings.input.path.display().to_string(),
            counts: Counts::default(),
            write_failure: shared.write_failure.clone(),
            journaled: 0,
            recorder,
            written: Written::default(),
            provenance: Provenance::of(input.original_headers.as_deref()),
            load: shared.load.clone(),
        }
    }

    /// Consume events until every sender is gone, then commit the reports. A failure to write
    /// is recorded in `write_failure` (and stops the run); the reports are then not committed.
    pub(crate) fn run(mut self, mut rx: Receiver<Event<P::Customer>>) -> Collected {
        let mut synced = std::time::Instant::now();
        while let Some(ev) = rx.blocking_recv() {
            self.handle(ev);
            // Group commit: write what is already queued, then sync the journal (outcomes and,
            // for nxlink, the dispatcher's batch records) at most every SYNC_EVERY. Written
            // entries survive any crash of the process; what a power failure loses only means
            // its batch is sent again on --resume, which both providers deduplicate (itnio's
            // batch records are synced before sending, see ProviderSpec::resend_needs_history).
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
            // Once every sender is gone there is nothing to gather: the run ends at once.
            if !rx.is_closed() {
                std::thread::sleep(LINGER);
            }
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
            let success = self.reports.success.is_some();
            match self.reports.commit() {
                Ok(()) if success => earlier_reported(self.resume.as_deref(), self.written.earlier),
                Ok(()) => {}
                Err(e) => broke(&self.write_failure, &self.stop, "the reports", &e),
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

    /// Sync the success report, then the journal, and mark that point in the journal: outcomes
    /// above the mark have their success lines on disk (see [`Journal::checkpoint`]).
    fn sync_journal(&mut self) {
        if self.write_failure.is_set() {
            return;
        }
        let Some(j) = &self.journal else {
            return;
        };
        if let (Some((_, w)), true) = (&mut self.reports.success, self.written.unsynced) {
            if let Err(e) = w.sync() {
                return self.broke(ReportFile::Success.name(), &e);
            }
            self.written.unsynced = false;
        }
        if let Err(e) = j.checkpoint() {
            self.broke("the journal", &e);
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
            return self.broke("the failure report", &e);
        }
        if let Some((_, _, x)) = &mut self.reports.failed_xlsx {
            if let Err(e) = x.write(row, data, outcome, code, message) {
                self.broke(ReportFile::FailedXlsx.name(), &e);
            }
        }
    }

    /// Write one row to `success.csv` (unless writing already failed), with its first file's
    /// row number when `data` carries one.
    fn write_success<S: AsRef<str>>(
        &mut self,
        row: u64,
        cells: &[S],
        data: &crate::input::RecordData,
    ) {
        if self.write_failure.is_set() {
            return;
        }
        if let Some((_, w)) = &mut self.reports.success {
            let source = self.provenance.source(data);
            if let Err(e) = w.write_sourced(row, cells, source.as_deref()) {
                self.broke(ReportFile::Success.name(), &e);
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
                self.broke(ReportFile::Unchanged.name(), &e);
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
            } => self.rejected(row, &data, &code, &message),
            Event::Unread(rows) => {
                for (row, data) in rows {
                    self.pending(row, &data);
                }
            }
            Event::Done(items) => self.done(items),
            Event::Resumed(rows) => {
                for r in rows {
                    self.resumed(r.row, &r.data, r.customer.as_ref());
                }
            }
            Event::Unchanged(items) => self.unchanged(items),
            Event::Unattributed(lines) => self.unattributed(lines),
            Event::Valid { rows } => {
                self.counts.total += rows;
                self.counts.valid += rows;
                self.counts.planned_requests += 1;
            }
        }
    }

    fn rejected(&mut self, row: u64, data: &crate::input::RecordData, code: &str, message: &str) {
        self.counts.total += 1;
        self.counts.rejected += 1;
        let entry = self.counts.rejections.entry(code.to_owned()).or_default();
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
        self.write_failed(row, data, "rejected", code, message);
    }

    /// Rows with their outcome: into the reports first (success lines flushed to the file),
    /// then into the journal, then (noted for) the state.
    fn done(&mut self, items: Vec<(super::Item<P::Customer>, Outcome)>) {
        #[cfg(debug_assertions)]
        debug_panic();
        let mut succeeded = false;
        for (item, outcome) in &items {
            match outcome {
                Outcome::Succeeded {
                    id,
                    already_present,
                } => {
                    self.counts.total += 1;
                    self.counts.succeeded += 1;
                    self.counts.already_present += u64::from(*already_present);
                    tracing::debug!(row = item.row, "succeeded");
                    let cells = self.provider.success_cells(&item.customer, id.as_deref());
                    self.write_success(item.row, &cells, &item.data);
                    succeeded = true;
                }
                Outcome::Failed { code, message } => {
                    self.counts.total += 1;
                    self.counts.failed_with(code);
                    tracing::debug!(row = item.row, code = %code, "failed: {message}");
                    self.write_failed(item.row, &item.data, "failed", code, message);
                }
                Outcome::Unknown { code, message } => {
                    self.counts.total += 1;
                    self.counts.unknown_with(code);
                    tracing::debug!(row = item.row, code = %code, "unknown: {message}");
                    self.write_failed(item.row, &item.data, "unknown", code, message);
                }
                Outcome::Pending => self.pending(item.row, &item.data),
            }
        }
        if succeeded {
            self.flush_success();
        }
        self.journal_done(&items, succeeded);
    }

    /// Hand the success lines written so far to the file, before the journal mentions them.
    fn flush_success(&mut self) {
        if self.write_failure.is_set() {
            return;
        }
        if let Some((_, w)) = &mut self.reports.success {
            if let Err(e) = w.flush() {
                self.broke(ReportFile::Success.name(), &e);
            }
        }
    }

    /// Record final outcomes in the journal (unless writing failed), then note them for the
    /// state. `succeeded`: some of them did (their lines are to be synced before the journal).
    fn journal_done(&mut self, items: &[(super::Item<P::Customer>, Outcome)], succeeded: bool) {
        let Some(j) = self
            .journal
            .as_ref()
            .filter(|_| !self.write_failure.is_set())
        else {
            return;
        };
        let rows: Vec<(u64, &Outcome)> = items.iter().map(|(it, o)| (it.row, o)).collect();
        match j.done(&rows) {
            Ok(()) => {
                self.written.unsynced |= succeeded;
                self.journaled += items
                    .iter()
                    .filter(|(_, o)| !matches!(o, Outcome::Pending))
                    .count() as u64;
                // Only what the journal holds goes into the state.
                if let Some(r) = &mut self.recorder {
                    for (it, o) in items {
                        r.note(&*self.provider, &it.customer, o);
                    }
                }
            }
            Err(e) => self.broke("the journal", &e),
        }
    }

    /// A row the resumed run finished: reported again as it ended then.
    fn resumed(
        &mut self,
        row: u64,
        data: &crate::input::RecordData,
        customer: Option<&P::Customer>,
    ) {
        let Some(resume) = self.resume.clone() else {
            return self.pending(row, data);
        };
        let Some(earlier) = resume.earlier(row) else {
            return self.pending(row, data);
        };
        self.counts.total += 1;
        self.journaled += 1;
        match earlier {
            EarlierOutcome::Succeeded { already_present } => {
                self.counts.succeeded += 1;
                self.counts.already_present += u64::from(*already_present);
                // Resume::load made sure that every row that succeeded has its line.
                let cells = resume.success_cells(row).unwrap_or_default();
                self.write_success(row, &cells, data);
                self.written.earlier += 1;
            }
            EarlierOutcome::Failed { code, message } => {
                self.counts.failed_with(code);
                self.write_failed(row, data, "failed", code, message);
            }
            EarlierOutcome::Unknown { code, message } => {
                self.counts.unknown_with(code);
                self.write_failed(row, data, "unknown", code, message);
            }
            EarlierOutcome::Unchanged => {
                self.counts.unchanged += 1;
                let cells = customer
                    .map(|c| self.provider.unchanged_cells(c))
                    .unwrap_or_default();
                self.write_unchanged(row, &cells);
            }
        }
    }

    /// Rows not sent, the state remembering them unchanged: journaled, then reported.
    fn unchanged(&mut self, items: Vec<super::Item<P::Customer>>) {
        if let (Some(j), false) = (&self.journal, self.write_failure.is_set()) {
            let rows: Vec<u64> = items.iter().map(|it| it.row).collect();
            match j.unchanged(&rows) {
                Ok(()) => self.journaled += items.len() as u64,
                Err(e) => self.broke("the journal", &e),
            }
        }
        self.counts.total += items.len() as u64;
        self.counts.unchanged += items.len() as u64;
        for it in &items {
            let cells: Vec<Cow<'_, str>> = self.provider.unchanged_cells(&it.customer);
            self.write_unchanged(it.row, &cells);
        }
    }

    /// Answer lines that name no row: counted, and logged with the phone masked.
    fn unattributed(&mut self, lines: Vec<String>) {
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
        let load = self.load.describe();
        let load = if load.is_empty() {
            load
        } else {
            format!(" · {load}")
        };
        if c.unchanged > 0 {
            self.progress.set_message(format!(
                "{} ok, {} unchanged, {} rejected, {} failed, {} unknown{load}",
                c.succeeded, c.unchanged, c.rejected, c.failed, c.unknown
            ));
        } else {
            self.progress.set_message(format!(
                "{} ok, {} rejected, {} failed, {} unknown{load}",
                c.succeeded, c.rejected, c.failed, c.unknown
            ));
        }
    }
}
