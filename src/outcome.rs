//! The final outcome of a row that reached the sender: what the pipeline decides, the
//! journal records and reads back, and the reports show. Its own module so that the journal
//! and the pipeline both depend on it and not on each other.

use std::collections::BTreeMap;

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

/// How many rows ended in each outcome: the collector tallies them, the summary and the
/// dry run's plan view report them.
#[derive(Debug, Default, Clone)]
pub(crate) struct Counts {
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
    /// `failed` rows by code (this run's and, on `--resume`, the resumed run's).
    pub failures: BTreeMap<String, u64>,
    /// `unknown` rows by code (likewise).
    pub unknowns: BTreeMap<String, u64>,
}

impl Counts {
    /// One more `failed` row with this code.
    pub(crate) fn failed_with(&mut self, code: &str) {
        self.failed += 1;
        *self.failures.entry(code.to_owned()).or_default() += 1;
    }

    /// One more `unknown` row with this code.
    pub(crate) fn unknown_with(&mut self, code: &str) {
        self.unknown += 1;
        *self.unknowns.entry(code.to_owned()).or_default() += 1;
    }
}
