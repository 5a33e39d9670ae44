//! Unit tests of `provider::answer`.
use super::*;

fn acc() -> RowAnswer {
    RowAnswer::Accepted { id: None }
}
fn refused() -> RowAnswer {
    RowAnswer::Refused {
        code: "1".into(),
        message: "no".into(),
    }
}

#[test]
fn each_row_once_or_unknown() {
    let mut l = Ledger::new(5);
    assert!(l.name(0, acc()));
    assert!(l.name(1, refused()));
    assert!(l.name(2, acc()));
    assert!(l.name(2, acc()));
    assert!(l.name(3, acc()));
    assert!(l.name(3, refused()));
    assert!(!l.name(5, acc()));
    let rows = l.finish(|| unknown(UNCONFIRMED, "left out"), None);
    assert_eq!(rows[0], acc());
    assert_eq!(rows[1], refused());
    assert_eq!(
        rows[2],
        unknown(CONTRADICTORY, "the answer named this row 2 times")
    );
    assert_eq!(
        rows[3],
        unknown(
            CONTRADICTORY,
            "the answer named this row 2 times, as accepted and as refused"
        )
    );
    assert_eq!(rows[4], unknown(UNCONFIRMED, "left out"));
}

#[test]
fn doubt_keeps_only_confirmed_rows() {
    let mut l = Ledger::new(2);
    l.name(0, acc());
    l.name(1, refused());
    let rows = l.finish(acc, Some((MISCOUNTED, "counts disagree")));
    assert_eq!(rows[0], acc());
    assert!(matches!(&rows[1], RowAnswer::Unknown { code, .. } if code == MISCOUNTED));
}

#[test]
fn escapes_terminal_control() {
    assert_eq!(escape_control("plain 中文"), "plain 中文");
    assert_eq!(
        escape_control("a\x1b[2Jb\r\x07\u{9b}c\u{202e}"),
        "a\\x1b[2Jb\\x0d\\x07\\x9bc\\u{202e}"
    );
    assert!(matches!(escape_control("ok"), Cow::Borrowed(_)));
}
