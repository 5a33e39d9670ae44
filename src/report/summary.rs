//! `summary.json`: what a run's counts, its stop and its facts make of it ([`Summary::of`]),
//! written atomically beside the other reports.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;

use super::PendingReport;
use crate::exit::Exit;
use crate::outcome::Counts;
use crate::report::outdir::ReportFile;
use crate::stop::{Reason, Stop};

/// `summary.json`.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub(crate) struct Summary {
    pub provider: String,
    pub input: String,
    pub out_dir: String,
    pub total: u64,
    pub succeeded: u64,
    pub rejected: u64,
    pub failed: u64,
    pub unknown: u64,
    pub pending: u64,
    pub requests: u64,
    pub retries: u64,
    pub elapsed_secs: f64,
    pub interrupted: bool,
    pub exit_code: i32,
    /// Succeeded rows the provider already held from an earlier attempt or run.
    pub already_present: u64,
    /// Answer lines that matched no row of their request (itnio).
    pub unattributed: u64,
    /// Blank lines skipped (JSONL).
    pub blank_lines: u64,
    /// Rows not sent because the state remembers them as sent with the same content
    /// (`--skip-unchanged`; listed in `unchanged.csv`).
    pub unchanged: u64,
    /// Why rows did not succeed: per outcome, code -> rows.
    pub by_code: ByCode,
    pub dry_run: bool,
    /// Dry run: rows that passed validation, and the requests they would take.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub planned_requests: Option<u64>,
    /// Why the run stopped early, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
    /// How the input file changed while it was read (shrank, grew, other bytes), if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_changed: Option<String>,
}

/// `summary.json`'s `by_code`: for `rejected`, `failed` and `unknown`, each code and how many
/// rows ended with it. Codes are listed in order; each object's counts add up to its outcome's.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub(crate) struct ByCode {
    pub rejected: BTreeMap<String, u64>,
    pub failed: BTreeMap<String, u64>,
    pub unknown: BTreeMap<String, u64>,
}

impl ByCode {
    fn of(counts: &Counts) -> ByCode {
        ByCode {
            rejected: counts
                .rejections
                .iter()
                .map(|(code, (n, _))| (code.clone(), *n))
                .collect(),
            failed: counts.failures.clone(),
            unknown: counts.unknowns.clone(),
        }
    }

    /// The `n` most frequent codes of the three outcomes together, most frequent first (ties in
    /// code order).
    pub(crate) fn top(&self, n: usize) -> Vec<(&str, u64)> {
        let mut merged: BTreeMap<&str, u64> = BTreeMap::new();
        for m in [&self.rejected, &self.failed, &self.unknown] {
            for (code, k) in m {
                *merged.entry(code.as_str()).or_default() += k;
            }
        }
        let mut all: Vec<(&str, u64)> = merged.into_iter().collect();
        all.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        all.truncate(n);
        all
    }
}

/// What the summary tells besides the counts.
pub(crate) struct RunFacts<'a> {
    pub provider: &'a str,
    pub input: String,
    pub out: &'a Path,
    pub dry_run: bool,
    pub requests: u64,
    pub retries: u64,
    /// Blank lines skipped (JSONL).
    pub blank_lines: u64,
    pub started: std::time::Instant,
    /// `--rejected-ok`: rejected rows alone do not make the exit code 1.
    pub rejected_ok: bool,
}

impl Summary {
    /// The summary of a run stopped before it sent anything, with `exit`'s code: `why` says
    /// what stopped it.
    pub(crate) fn never_started(facts: RunFacts<'_>, why: &str, exit: Exit) -> Summary {
        let stop = Stop::default();
        stop.set(Reason::Fatal, format!("{why}; nothing was sent"));
        let (mut summary, _) = Summary::of(facts, &Counts::default(), &stop);
        summary.exit_code = exit.code();
        summary
    }

    /// The run's summary and exit code: a stop decides the code, else any row not succeeded.
    pub(crate) fn of(facts: RunFacts<'_>, counts: &Counts, stop: &Stop) -> (Summary, Exit) {
        let reason = stop.reason();
        let exit = match reason {
            Some(r) => r.exit(),
            // An answer line that named no row leaves doubt even where every row is accounted
            // for.
            None if counts.failed + counts.unknown + counts.unattributed > 0 => Exit::Incomplete,
            None if counts.rejected > 0 && !facts.rejected_ok => Exit::Incomplete,
            None => Exit::Success,
        };
        let dry_run = facts.dry_run;
        let summary = Summary {
            provider: facts.provider.into(),
            input: facts.input,
            out_dir: facts.out.display().to_string(),
            total: counts.total,
            succeeded: counts.succeeded,
            rejected: counts.rejected,
            failed: counts.failed,
            unknown: counts.unknown,
            pending: counts.pending + if dry_run { counts.valid } else { 0 },
            requests: facts.requests,
            retries: facts.retries,
            elapsed_secs: (facts.started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
            interrupted: matches!(reason, Some(Reason::Interrupt | Reason::Terminate)),
            exit_code: exit.code(),
            already_present: counts.already_present,
            unattributed: counts.unattributed,
            blank_lines: facts.blank_lines,
            unchanged: counts.unchanged,
            by_code: ByCode::of(counts),
            dry_run,
            valid: dry_run.then_some(counts.valid),
            planned_requests: dry_run.then_some(counts.planned_requests),
            stopped: stop.message_for(counts.pending),
            input_changed: None,
        };
        (summary, exit)
    }

    /// The input changed while it was read: the rows read are accounted for, but they are not
    /// the input as it was, so the run is not a success.
    pub(crate) fn input_changed(&mut self, exit: Exit, why: String) -> Exit {
        let exit = if exit == Exit::Success {
            Exit::Incomplete
        } else {
            exit
        };
        self.exit_code = exit.code();
        self.input_changed = Some(why);
        exit
    }

    /// Writing in the report directory failed (a full disk): the run stopped (exit 3, unless a
    /// signal stopped it first). The message says what the journal holds and that `--resume`
    /// continues; the summary carries it, for `--json`.
    pub(crate) fn write_failed(&mut self, exit: Exit, what: &str, journaled: u64) -> Exit {
        let exit = match exit {
            Exit::Interrupted | Exit::Terminated => exit,
            _ => Exit::Stopped,
        };
        let out = Path::new(&self.out_dir);
        let message = if self.dry_run {
            format!("{what}; nothing was sent (dry run): free some space and run it again")
        } else {
            format!(
                "{what}. The journal {} records which rows were sent, and the outcome of {journaled} of them; \
                 free some space, then run the same command with --resume --out {} to continue: rows with an outcome are skipped, the others are sent",
                out.join(ReportFile::Journal.name()).display(),
                out.display()
            )
        };
        self.stopped = Some(message);
        self.exit_code = exit.code();
        exit
    }
}

/// Write `summary.json` atomically.
pub(crate) fn write_summary(dir: &Path, s: &Summary) -> io::Result<()> {
    let (rf, mut w) = PendingReport::create(dir, ReportFile::Summary)?;
    serde_json::to_writer_pretty(&mut w, s)?;
    w.write_all(b"\n")?;
    rf.commit(w)
}
