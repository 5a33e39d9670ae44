//! What one attempt's reply means for its (sub-)batch, as pure code: rows, a refusal, a
//! [`Retry`] (handed to the policy), or a stop.
//!
//! Invariants: nothing but an HTTP 200 answer that the provider's `interpret` reads as rows
//! yields rows; a redirect is never followed and stops the run; a TLS failure stops the run at
//! once; a failure that may have reached the provider says so (`maybe_applied`), so rows whose
//! retries run out are `unknown`, not `failed`.

use std::time::{Duration, SystemTime};

use crate::http::{Reply, TransportKind};
use crate::provider::answer::escape_control;
use crate::provider::{Answer, RetryKind, RowAnswer};

/// Why an attempt is worth repeating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cause {
    /// No complete answer came back.
    Transport(TransportKind),
    /// The provider refused the timestamp; `date` is its clock, when it said.
    Clock { date: Option<SystemTime> },
    /// The provider asks us to slow down.
    Throttle,
    /// An answer came back but could not be read (it may have been applied).
    Unparsable,
    /// An HTTP 5xx (it may have been applied).
    ServerError,
}

/// A retryable failure of one attempt, as the policy ([`super::RetryPolicy`]) reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Retry {
    pub(crate) cause: Cause,
    /// The outcome code of rows whose retries run out on it.
    pub(crate) code: String,
    pub(crate) message: String,
    /// The request may have reached the provider and been applied.
    pub(crate) maybe_applied: bool,
    /// The least wait the provider asked for (`Retry-After`).
    pub(crate) at_least: Option<Duration>,
}

/// What to do after one attempt.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// A definite answer for each row.
    Rows {
        rows: Vec<RowAnswer>,
        unattributed: Vec<String>,
    },
    /// The whole (sub-)batch was refused; `bisect` when some rows may be the cause.
    Refused {
        code: String,
        message: String,
        bisect: bool,
    },
    /// Worth trying again: the policy says after how long, or gives up.
    Retry(Retry),
    /// The run cannot go on: stop it with this message.
    Stop { message: String },
}

impl Step {
    /// Whether the attempt reached a server at all (anything but a failed connection).
    pub(crate) fn reached_server(&self) -> bool {
        !matches!(
            self,
            Step::Retry(Retry {
                cause: Cause::Transport(TransportKind::Connect | TransportKind::Tls),
                ..
            })
        )
    }
}

/// Classify one attempt's reply. `interpret` reads an HTTP 200 body (the provider's rules).
pub(crate) fn classify(reply: Reply, url: &str, interpret: impl FnOnce(&[u8]) -> Answer) -> Step {
    match reply {
        Reply::Transport {
            kind: TransportKind::Tls,
            message,
        } => Step::Stop {
            message: format!(
                "{url}: {message}. The server's certificate is not trusted by this system: check --base-url; nothing more is sent"
            ),
        },
        Reply::Transport { kind, message } => Step::Retry(Retry {
            cause: Cause::Transport(kind),
            code: kind.code().to_owned(),
            message,
            maybe_applied: kind.maybe_applied(),
            at_least: None,
        }),
        Reply::Answered {
            status: 200,
            body,
            date,
            ..
        } => of_answer(interpret(&body), date),
        Reply::Answered {
            status,
            body,
            date,
            retry_after,
            location,
        } => provider_refusal(status, || interpret(&body), date)
            .unwrap_or_else(|| of_status(status, url, retry_after, location.as_deref())),
    }
}

/// The step for an HTTP 4xx whose body is the provider's own refusal (nxlink `code` and
/// `message`, itnio `status` and `reason`): the provider's code and message, as for the same
/// answer over HTTP 200. `None` for other statuses (throttling and the statuses that mean a
/// wrong URL or credentials keep their own handling) and for bodies that are no refusal: a 4xx
/// never confirms a row.
fn provider_refusal(
    status: u16,
    interpret: impl FnOnce() -> Answer,
    date: Option<SystemTime>,
) -> Option<Step> {
    if !(400..=499).contains(&status) || matches!(status, 401 | 403 | 404 | 405 | 429) {
        return None;
    }
    match interpret() {
        Answer::Rows { .. }
        | Answer::Retry {
            kind: RetryKind::Unparsable,
            ..
        } => None,
        answer => Some(of_answer(answer, date)),
    }
}

/// The step for the provider's reading of an HTTP 200 answer.
fn of_answer(answer: Answer, date: Option<SystemTime>) -> Step {
    match answer {
        Answer::Rows { rows, unattributed } => Step::Rows { rows, unattributed },
        Answer::BatchRefused {
            code,
            message,
            bisect,
        } => Step::Refused {
            code,
            message,
            bisect,
        },
        Answer::Fatal { message, .. } => Step::Stop { message },
        Answer::Retry { kind, message } => Step::Retry(Retry {
            cause: match kind {
                RetryKind::Clock => Cause::Clock { date },
                RetryKind::Throttle => Cause::Throttle,
                RetryKind::Unparsable => Cause::Unparsable,
            },
            code: "retry".into(),
            message,
            // An unreadable answer may stand for an applied request.
            maybe_applied: kind == RetryKind::Unparsable,
            at_least: None,
        }),
    }
}

/// The step for an HTTP status other than 200.
fn of_status(
    status: u16,
    url: &str,
    retry_after: Option<Duration>,
    location: Option<&str>,
) -> Step {
    match status {
        // Some other success status: the request may have been processed, but no answer says
        // how each row fared.
        201..=299 => Step::Retry(Retry {
            cause: Cause::Unparsable,
            code: format!("http_{status}"),
            message: format!("the provider answered HTTP {status} instead of 200 with per-row results"),
            maybe_applied: true,
            at_least: None,
        }),
        300..=399 => Step::Stop {
            message: format!(
                "{url} answered HTTP {status}, a redirect to {}; redirects are never followed (they could send customer data elsewhere): check --base-url",
                location
                    .map_or_else(|| "nowhere (no Location)".into(), |l| format!("\"{}\"", escape_control(l)))
            ),
        },
        429 => Step::Retry(Retry {
            cause: Cause::Throttle,
            code: "http_429".into(),
            message: "the provider answered 429 Too Many Requests".into(),
            maybe_applied: false,
            at_least: retry_after,
        }),
        500..=599 => Step::Retry(Retry {
            cause: Cause::ServerError,
            code: format!("http_{status}"),
            message: format!("the provider answered HTTP {status}"),
            maybe_applied: true,
            at_least: retry_after,
        }),
        401 | 403 | 404 | 405 => Step::Stop {
            message: format!("{url} answered HTTP {status}: check --base-url (and credentials)"),
        },
        _ => Step::Refused {
            code: format!("http_{status}"),
            message: format!("the provider answered HTTP {status}"),
            bisect: false,
        },
    }
}

#[cfg(test)]
mod tests;
