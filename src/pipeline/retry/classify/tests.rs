//! Tests of `classify`: what each kind of reply means for its (sub-)batch.

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
        let Step::Retry(Retry {
            maybe_applied,
            code,
            ..
        }) = &step
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
        Step::Retry(Retry { cause: Cause::Throttle, maybe_applied: false, at_least: Some(d), .. }) if d == Duration::from_secs(2)
    ));
    assert!(matches!(
        classify(answered(503, None), URL, never),
        Step::Retry(Retry {
            cause: Cause::ServerError,
            maybe_applied: true,
            ..
        })
    ));
    assert!(matches!(
        classify(answered(404, None), URL, never),
        Step::Stop { .. }
    ));
    for status in [201, 202, 204] {
        assert!(matches!(
            classify(answered(status, None), URL, never),
            Step::Retry(Retry {
                cause: Cause::Unparsable,
                maybe_applied: true,
                ..
            })
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
        Step::Retry(Retry {
            cause: Cause::Unparsable,
            maybe_applied: true,
            ..
        })
    ));
    let step = classify(answered(200, None), URL, |_| Answer::Retry {
        kind: RetryKind::Clock,
        message: "ts".into(),
    });
    assert!(matches!(
        step,
        Step::Retry(Retry {
            cause: Cause::Clock { date: None },
            maybe_applied: false,
            ..
        })
    ));
}
