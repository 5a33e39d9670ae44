//! The retry policy, as pure code: what one attempt's reply means for its (sub-)batch. The
//! sender (`send.rs`) only waits, signs, posts and applies the [`Step`] this returns.
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
    /// Try again, after the backoff and at least `at_least`.
    Retry {
        cause: Cause,
        code: String,
        message: String,
        maybe_applied: bool,
        at_least: Option<Duration>,
    },
    /// The run cannot go on: stop it with this message.
    Stop { message: String },
}

impl Step {
    /// Whether the attempt reached a server at all (anything but a failed connection).
    pub(crate) fn reached_server(&self) -> bool {
        !matches!(
            self,
            Step::Retry {
                cause: Cause::Transport(TransportKind::Connect | TransportKind::Tls),
                ..
            }
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
        Reply::Transport { kind, message } => Step::Retry {
            cause: Cause::Transport(kind),
            code: kind.code().to_owned(),
            message,
            maybe_applied: kind.maybe_applied(),
            at_least: None,
        },
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
        Answer::Retry { kind, message } => Step::Retry {
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
        },
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
        201..=299 => Step::Retry {
            cause: Cause::Unparsable,
            code: format!("http_{status}"),
            message: format!("the provider answered HTTP {status} instead of 200 with per-row results"),
            maybe_applied: true,
            at_least: None,
        },
        300..=399 => Step::Stop {
            message: format!(
                "{url} answered HTTP {status}, a redirect to {}; redirects are never followed (they could send customer data elsewhere): check --base-url",
                location
                    .map_or_else(|| "nowhere (no Location)".into(), |l| format!("\"{}\"", escape_control(l)))
            ),
        },
        429 => Step::Retry {
            cause: Cause::Throttle,
            code: "http_429".into(),
            message: "the provider answered 429 Too Many Requests".into(),
            maybe_applied: false,
            at_least: retry_after,
        },
        500..=599 => Step::Retry {
            cause: Cause::ServerError,
            code: format!("http_{status}"),
            message: format!("the provider answered HTTP {status}"),
            maybe_applied: true,
            at_least: retry_after,
        },
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
mod tests {
    use super::*;
    use bytes::Bytes;

    const URL: &str = "https://api.example/x";

    fn answered(status: u16, location: Option<&str>) -> Reply {
        Reply::Answered {
            status,
            body: Bytes::from_static(b"{}"),
            date: None,
            retry_after: Some(Duration::from_secs(2)),
            location: location.map(str::to_owned),
        }
    }

    fn never(_: &[u8]) -> Answer {
        panic!("only an HTTP 200 answer is interpreted")
    }

    #[test]
    fn redirects_stop_and_name_the_location() {
        for status in [301, 302, 303, 307, 308] {
            let step = classify(
                answered(status, Some("http://evil.example/\x1b[2J")),
                URL,
                never,
            );
            let Step::Stop { message } = step else {
                panic!("{status}: {step:?}")
            };
            assert!(
                message.contains("http://evil.example/\\x1b[2J"),
                "{message}"
            );
            assert!(message.contains(&format!("HTTP {status}")), "{message}");
        }
    }

    #[test]
    fn transport_failures_say_whether_they_may_have_applied() {
        let table = [
            (TransportKind::Connect, false, "connect_error"),
            (TransportKind::Timeout, true, "timeout"),
            (TransportKind::Cut, true, "connection_error"),
            (TransportKind::TooLarge, true, "answer_too_large"),
        ];
        for (kind, applied, want) in table {
            let step = classify(
                Reply::Transport {
                    kind,
                    message: "x".into(),
                },
                URL,
                never,
            );
            let Step::Retry {
                maybe_applied,
                code,
                ..
            } = &step
            else {
                panic!("{kind:?}: {step:?}")
            };
            assert_eq!((*maybe_applied, code.as_str()), (applied, want), "{kind:?}");
            assert_eq!(step.reached_server(), kind != TransportKind::Connect);
        }
        let tls = classify(
            Reply::Transport {
                kind: TransportKind::Tls,
                message: "invalid peer certificate".into(),
            },
            URL,
            never,
        );
        assert!(matches!(tls, Step::Stop { ref message } if message.contains("not trusted")));
    }

    #[test]
    fn statuses() {
        assert!(matches!(
            classify(answered(429, None), URL, never),
            Step::Retry { cause: Cause::Throttle, maybe_applied: false, at_least: Some(d), .. } if d == Duration::from_secs(2)
        ));
        assert!(matches!(
            classify(answered(503, None), URL, never),
            Step::Retry {
                cause: Cause::ServerError,
                maybe_applied: true,
                ..
            }
        ));
        assert!(matches!(
            classify(answered(404, None), URL, never),
            Step::Stop { .. }
        ));
        for status in [201, 202, 204] {
            assert!(matches!(
                classify(answered(status, None), URL, never),
                Step::Retry {
                    cause: Cause::Unparsable,
                    maybe_applied: true,
                    ..
                }
            ));
        }
        let generic = |status: u16| Step::Refused {
            code: format!("http_{status}"),
            message: format!("the provider answered HTTP {status}"),
            bisect: false,
        };
        // A 4xx body that is no refusal of the provider's: the status alone.
        for status in [400, 409, 413, 422, 499] {
            for unread in [
                Answer::Retry {
                    kind: RetryKind::Unparsable,
                    message: "not JSON".into(),
                },
                Answer::Rows {
                    rows: vec![RowAnswer::Accepted { id: None }],
                    unattributed: vec![],
                },
            ] {
                assert_eq!(
                    classify(answered(status, None), URL, |_| unread.clone()),
                    generic(status)
                );
            }
        }
    }

    /// What a provider's `interpret` makes of a refusal: code 1002, "… birthday".
    fn refusal(_: &[u8]) -> Answer {
        Answer::BatchRefused {
            code: "1002".into(),
            message: "param error: birthday".into(),
            bisect: true,
        }
    }

    #[test]
    fn a_4xx_refusal_of_the_provider_keeps_its_code_and_message() {
        for status in [400, 409, 422, 499] {
            assert_eq!(
                classify(answered(status, None), URL, refusal),
                Step::Refused {
                    code: "1002".into(),
                    message: "param error: birthday".into(),
                    bisect: true
                },
                "{status}"
            );
        }
        let fatal = classify(answered(400, None), URL, |_| Answer::Fatal {
            code: "1003".into(),
            message: "the signature was refused".into(),
        });
        assert_eq!(
            fatal,
            Step::Stop {
                message: "the signature was refused".into()
            }
        );
        // Throttling, a wrong URL or credentials, and statuses outside 4xx keep their rules;
        // the body is not read for them.
        for status in [401, 403, 404, 405, 429, 399, 500, 503, 300] {
            let step = classify(answered(status, None), URL, never);
            assert!(
                !matches!(step, Step::Refused { ref code, .. } if code == "1002"),
                "{status}: {step:?}"
            );
        }
    }

    #[test]
    fn a_200_is_what_the_provider_reads() {
        let rows = vec![RowAnswer::Accepted { id: None }];
        let step = classify(answered(200, None), URL, |_| Answer::Rows {
            rows: rows.clone(),
            unattributed: vec![],
        });
        assert_eq!(
            step,
            Step::Rows {
                rows,
                unattributed: vec![]
            }
        );
        let step = classify(answered(200, None), URL, |_| Answer::Retry {
            kind: RetryKind::Unparsable,
            message: "cut".into(),
        });
        assert!(matches!(
            step,
            Step::Retry {
                cause: Cause::Unparsable,
                maybe_applied: true,
                ..
            }
        ));
        let step = classify(answered(200, None), URL, |_| Answer::Retry {
            kind: RetryKind::Clock,
            message: "ts".into(),
        });
        assert!(matches!(
            step,
            Step::Retry {
                cause: Cause::Clock { date: None },
                maybe_applied: false,
                ..
            }
        ));
    }
}
