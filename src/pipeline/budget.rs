//! `--max-failures`: the failure budget. Judged by the sender as soon as a (sub-)batch's rows
//! have their outcomes, before its slot is released, so the run stops as soon as the limit is
//! passed, however far behind the report writer is.

use std::sync::Mutex;

use super::Outcome;
use crate::config::MaxFailures;

/// `--max-failures P%` is judged once at least this many rows were answered.
const PERCENT_MIN_SAMPLE: u64 = 100;

/// Rows answered and failed (or unknown) so far in this run, against the limit.
#[derive(Debug, Default)]
pub(crate) struct Budget {
    limit: Option<MaxFailures>,
    tally: Mutex<(u64, u64)>,
}

impl Budget {
    pub(crate) fn new(limit: Option<MaxFailures>) -> Budget {
        Budget {
            limit,
            tally: Mutex::new((0, 0)),
        }
    }

    /// Count these outcomes; the stop message when the limit is now passed.
    pub(crate) fn record(&self, outcomes: &[Outcome]) -> Option<String> {
        let limit = self.limit?;
        let mut tally = self.tally.lock().ok()?;
        for o in outcomes {
            match o {
                Outcome::Succeeded { .. } => tally.0 += 1,
                Outcome::Failed { .. } | Outcome::Unknown { .. } => {
                    tally.0 += 1;
                    tally.1 += 1;
                }
                Outcome::Pending => {}
            }
        }
        let (answered, failures) = *tally;
        let exceeded = match limit {
            MaxFailures::Count(n) => failures > n,
            MaxFailures::Percent(p) => {
                answered >= PERCENT_MIN_SAMPLE && (failures as f64) * 100.0 > p * answered as f64
            }
        };
        exceeded.then(|| {
            format!(
                "--max-failures reached: {failures} of {answered} rows sent have failed; fix the cause, then continue with --resume"
            )
        })
    }
}

#[cfg(test)]
mod tests;
