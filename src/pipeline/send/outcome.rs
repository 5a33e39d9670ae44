//! What each row of a part ends with once the part is over (answered, refused whole, given
//! up, stopped), and the watch for a configuration error dressed as a parameter error: the
//! first batches of a run refused whole, each of their rows refused alone with one code.

use super::*;

/// Watch for a configuration error dressed as a parameter error: the first batches of the run
/// refused whole, and every single row of them refused alone with the same code.
#[derive(Debug)]
pub(super) struct Suspect {
    /// Still watching: no batch has had a row through yet.
    armed: bool,
    /// Consecutive batches that ended this way, and their code.
    batches: u32,
    code: String,
}

impl Default for Suspect {
    /// Watching, from the run's first batch.
    fn default() -> Suspect {
        Suspect {
            armed: true,
            batches: 0,
            code: String::new(),
        }
    }
}

/// After this many such batches in a row at the start of a run, the run stops.
pub(super) const SUSPECT_BATCHES: u32 = 3;

/// Each row's outcome, as a part of a batch ended (not split further).
pub(super) async fn outcomes<P: Provider>(
    ctx: &SendStage<P>,
    fin: PartEnd,
    items: &[Item<P::Customer>],
) -> Vec<Outcome> {
    match fin {
        PartEnd::Rows {
            rows,
            unattributed,
            maybe_applied,
        } => {
            if !unattributed.is_empty() {
                let _ = ctx.events.send(Event::Unattributed(unattributed)).await;
            }
            rows.into_iter()
                .zip(items)
                .map(|(r, item)| row_outcome(ctx, r, maybe_applied, item.row))
                .collect()
        }
        PartEnd::Refused { code, message, .. } => {
            vec![Outcome::Failed { code, message }; items.len()]
        }
        PartEnd::GaveUp {
            code,
            message,
            maybe_applied,
        } => {
            let o = if maybe_applied {
                Outcome::Unknown { code, message }
            } else {
                Outcome::Failed { code, message }
            };
            vec![o; items.len()]
        }
        PartEnd::Stopped { maybe_applied } => {
            let o = if maybe_applied {
                Outcome::Unknown {
                    code: "interrupted".into(),
                    message: "sent, but the run stopped before a definite answer came back".into(),
                }
            } else {
                Outcome::Pending
            };
            vec![o; items.len()]
        }
    }
}

/// How the parts of one batch ended, for the configuration-error watch.
#[derive(Debug, Default)]
pub(super) struct Leaves {
    /// The code and message every single-row part was refused with, while they agree.
    refused: Option<(String, String)>,
    /// Something else happened (a row answered, a retry ran out, codes differ, a stop).
    pub(super) other: bool,
}

impl Leaves {
    /// One more part of the batch ended so.
    pub(super) fn see(&mut self, fin: &PartEnd, rows: usize) {
        match fin {
            PartEnd::Refused {
                bisect: true,
                code,
                message,
            } if rows == 1 => match &self.refused {
                None => self.refused = Some((code.clone(), message.clone())),
                Some((c, _)) if c == code => {}
                Some(_) => self.other = true,
            },
            // A part that will be split further says nothing yet.
            PartEnd::Refused { bisect: true, .. } if rows > 1 => {}
            _ => self.other = true,
        }
    }
}

/// Stop the run when the first batches were refused whole and bisection found every single
/// row refused alone with the same code: no row is at fault, the configuration is.
pub(super) fn judge_suspect<P: Provider>(ctx: &SendStage<P>, leaves: Leaves) {
    let Ok(mut s) = ctx.suspect.lock() else {
        return;
    };
    if !s.armed {
        return;
    }
    match leaves {
        Leaves {
            refused: Some((code, message)),
            other: false,
        } => {
            if s.batches > 0 && s.code != code {
                s.batches = 0;
            }
            s.batches += 1;
            s.code = code.clone();
            if s.batches >= SUSPECT_BATCHES {
                s.armed = false;
                ctx.stop.fatal_advising(
                    format!(
                        "the provider refused every row of the first {SUSPECT_BATCHES} batches with code {code} even one row at a time ({message}): this is a configuration error (account, app, job or endpoint), not bad rows. Fix it, then import failed.csv again for the rows refused so far"
                    ),
                    ", and run again with --resume for the rows not yet sent",
                );
            }
        }
        _ => s.armed = false,
    }
}

pub(super) fn row_outcome<P: Provider>(
    ctx: &SendStage<P>,
    r: RowAnswer,
    maybe_applied: bool,
    row: u64,
) -> Outcome {
    match r {
        RowAnswer::Accepted { id } => Outcome::Succeeded {
            id,
            already_present: false,
        },
        RowAnswer::Refused { code, message } => Outcome::Failed { code, message },
        RowAnswer::Unknown { code, message } => Outcome::Unknown { code, message },
        RowAnswer::AlreadyExists { code, message } => {
            let earlier =
                maybe_applied || ctx.resume.as_ref().is_some_and(|r| r.was_in_flight(row));
            if earlier {
                Outcome::Succeeded {
                    id: None,
                    already_present: true,
                }
            } else {
                Outcome::Failed { code, message }
            }
        }
    }
}
