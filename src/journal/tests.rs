//! Unit tests of the journal.

use super::*;

fn header() -> Header {
    Header {
        version: VERSION,
        provider: "nxlink".into(),
        input: "a.csv".into(),
        fingerprint: "1:x".into(),
        sheet: None,
        options: None,
    }
}

fn lines(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join(FILE))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn failed(code: &str, message: &str) -> EarlierOutcome {
    EarlierOutcome::Failed {
        code: code.into(),
        message: message.into(),
    }
}

const OK: EarlierOutcome = EarlierOutcome::Succeeded {
    already_present: false,
};

#[test]
fn overlapping_entries_keep_each_rows_first_outcome_in_disjoint_ranges() {
    let dir = tempfile::tempdir().unwrap();
    let j = Journal::create(dir.path(), &header()).unwrap();
    let ok = |rows: std::ops::RangeInclusive<u64>| -> Vec<(u64, Outcome)> {
        rows.map(|r| {
            (
                r,
                Outcome::Succeeded {
                    id: None,
                    already_present: false,
                },
            )
        })
        .collect()
    };
    for rows in [ok(1..=100), ok(1..=100), ok(50..=150)] {
        let refs: Vec<(u64, &Outcome)> = rows.iter().map(|(r, o)| (*r, o)).collect();
        j.done(&refs).unwrap();
    }
    let bad = Outcome::Failed {
        code: "c".into(),
        message: "m".into(),
    };
    j.done(&[(120, &bad), (200, &bad)]).unwrap();
    j.sync().unwrap();
    let l = Journal::load(dir.path()).unwrap();
    assert_eq!(l.done, vec![((1, 150), OK), ((200, 200), failed("c", "m"))]);
}

#[test]
fn ranges_round_trip_and_a_torn_tail_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let h = header();
    let j = Journal::create(dir.path(), &h).unwrap();
    j.sent(&[3, 1, 2, 4, 5, 8], true).unwrap();
    let ok = Outcome::Succeeded {
        id: Some("9".into()),
        already_present: false,
    };
    let present = Outcome::Succeeded {
        id: None,
        already_present: true,
    };
    let seat = Outcome::Failed {
        code: "12148".into(),
        message: "seat".into(),
    };
    let lost = Outcome::Unknown {
        code: "timeout".into(),
        message: "no answer".into(),
    };
    j.done(&[
        (1, &ok),
        (2, &seat),
        (3, &ok),
        (4, &seat),
        (5, &present),
        (8, &Outcome::Pending),
    ])
    .unwrap();
    j.done(&[(6, &lost), (7, &Outcome::Pending)]).unwrap();
    j.done(&[(9, &Outcome::Pending)]).unwrap();
    j.unchanged(&[10, 11, 13]).unwrap();
    j.sync().unwrap();
    drop(j);
    assert_eq!(
        lines(dir.path())[1..],
        [
            r#"{"sent":[[1,5],[8,8]]}"#,
            r#"{"done":{"ok":[[1,1],[3,3]],"present":[[5,5]],"failed":[["12148","seat",[[2,2],[4,4]]]]}}"#,
            r#"{"done":{"unknown":[["timeout","no answer",[[6,6]]]]}}"#,
            r#"{"done":{"unchanged":[[10,11],[13,13]]}}"#,
        ]
    );
    // A crash mid-line leaves a torn tail.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(dir.path().join(FILE))
        .unwrap();
    f.write_all(b"{\"done\":{\"ok\":[[8,").unwrap();
    let l = Journal::load(dir.path()).unwrap();
    assert_eq!(l.header, Some(h));
    assert_eq!(l.sent, vec![(1, 5), (8, 8)]);
    let unknown = EarlierOutcome::Unknown {
        code: "timeout".into(),
        message: "no answer".into(),
    };
    assert_eq!(
        l.done,
        vec![
            ((1, 1), OK),
            ((2, 2), failed("12148", "seat")),
            ((3, 3), OK),
            ((4, 4), failed("12148", "seat")),
            (
                (5, 5),
                EarlierOutcome::Succeeded {
                    already_present: true
                }
            ),
            ((6, 6), unknown),
            ((10, 11), EarlierOutcome::Unchanged),
            ((13, 13), EarlierOutcome::Unchanged),
        ]
    );
    assert!(l.cells.is_empty());
}

#[test]
fn a_clean_batch_takes_two_short_lines() {
    let dir = tempfile::tempdir().unwrap();
    let j = Journal::create(dir.path(), &header()).unwrap();
    let ok = Outcome::Succeeded {
        id: Some("123456789012345678".into()),
        already_present: false,
    };
    let rows: Vec<u64> = (101..=200).collect();
    j.sent(&rows, false).unwrap();
    let done: Vec<(u64, &Outcome)> = rows.iter().map(|r| (*r, &ok)).collect();
    j.done(&done).unwrap();
    drop(j);
    assert_eq!(
        lines(dir.path())[1..],
        [r#"{"sent":[[101,200]]}"#, r#"{"done":{"ok":[[101,200]]}}"#]
    );
    let l = Journal::load(dir.path()).unwrap();
    assert_eq!(l.done, vec![((101, 200), OK)]);
}

#[test]
fn a_checkpoint_marks_the_outcomes_on_disk_once() {
    let dir = tempfile::tempdir().unwrap();
    let j = Journal::create(dir.path(), &header()).unwrap();
    let ok = Outcome::Succeeded {
        id: None,
        already_present: false,
    };
    let present = Outcome::Succeeded {
        id: None,
        already_present: true,
    };
    let refused = Outcome::Failed {
        code: "1002".into(),
        message: "bad".into(),
    };
    j.sent(&(1..=30).collect::<Vec<_>>(), false).unwrap();
    j.done(&[(1, &ok), (2, &ok)]).unwrap();
    j.checkpoint().unwrap();
    j.checkpoint().unwrap();
    j.done(&[(11, &ok), (12, &present), (13, &refused)])
        .unwrap();
    assert_eq!(
        lines(dir.path())[1..],
        [
            r#"{"sent":[[1,30]]}"#,
            r#"{"done":{"ok":[[1,2]]}}"#,
            r#"{"synced":true}"#,
            r#"{"done":{"ok":[[11,11]],"present":[[12,12]],"failed":[["1002","bad",[[13,13]]]]}}"#,
        ],
        "one mark, and none without new outcomes"
    );
    let l = Journal::load(dir.path()).unwrap();
    assert_eq!(
        l.unmarked,
        vec![(11, 11), (12, 12)],
        "succeeded after the mark"
    );
    j.checkpoint().unwrap();
    assert!(Journal::load(dir.path()).unwrap().unmarked.is_empty());
}

#[test]
fn version_2_entries_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let v2 = [
        r#"{"start":{"version":2,"provider":"nxlink","input":"a.csv","fingerprint":"1:x"}}"#,
        r#"{"sent":{"batch":1,"rows":[1,2,3,4]}}"#,
        r#"{"sent":{"batch":2,"rows":[5,6]}}"#,
        r#"{"done":[[1,"succeeded",false,["9","628","A"]],[2,"failed","12148","seat"],[3,"succeeded",true,["","629","B"]]]}"#,
        r#"{"done":[[4,"unknown","timeout","no answer"],[7,"unchanged",["630","",""]]]}"#,
        // A resumed version 2 journal goes on in version 3.
        r#"{"sent":[[5,6]]}"#,
        r#"{"done":{"ok":[[5,5]]}}"#,
    ];
    std::fs::write(dir.path().join(FILE), v2.join("\n") + "\n").unwrap();
    let l = Journal::load(dir.path()).unwrap();
    assert_eq!(l.header.as_ref().map(|h| h.version), Some(2));
    assert_eq!(l.sent, vec![(1, 6)]);
    assert_eq!(
        l.done,
        vec![
            ((1, 1), OK),
            ((2, 2), failed("12148", "seat")),
            (
                (3, 3),
                EarlierOutcome::Succeeded {
                    already_present: true
                }
            ),
            (
                (4, 4),
                EarlierOutcome::Unknown {
                    code: "timeout".into(),
                    message: "no answer".into()
                }
            ),
            ((5, 5), OK),
            ((7, 7), EarlierOutcome::Unchanged),
        ]
    );
    let cells = |c: [&str; 3]| c.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        l.cells,
        vec![(1, cells(["9", "628", "A"])), (3, cells(["", "629", "B"]))]
    );
}

#[test]
fn the_input_must_be_the_same_bytes() {
    let id = |len, b| Identity { len, hash: [b; 32] };
    let o = Path::new("out");
    let h = Header::new("nxlink", "a.csv", Some(&id(8, 1)));
    assert_eq!(h.version, VERSION);
    assert_eq!(h.same_input("a.csv", Some(&id(8, 1)), o), Ok(()));
    let e = h.same_input("b.csv", Some(&id(8, 2)), o).unwrap_err();
    assert!(e.starts_with("b.csv is not the input of the run in out (that was a.csv): the input changed since (same size, different bytes)"), "{e}");
    let e = h.same_input("a.csv", Some(&id(9, 1)), o).unwrap_err();
    assert!(e.contains("(it had 8 bytes, it now has 9)"), "{e}");
    let e = h.same_input("standard input", None, o).unwrap_err();
    assert!(e.contains("save the input to a file"), "{e}");
    let from_stream = Header::new("nxlink", "standard input", None);
    assert_eq!(from_stream.fingerprint, "stream");
    let e = from_stream
        .same_input("a.csv", Some(&id(8, 1)), o)
        .unwrap_err();
    assert!(
        e.starts_with("the run in out read its input from a stream"),
        "{e}"
    );
    let v2 = Header {
        version: 2,
        ..h.clone()
    };
    assert_eq!(v2.same_input("a.csv", Some(&id(8, 1)), o), Ok(()));
    let old = Header {
        version: 1,
        fingerprint: "8:0123".into(),
        ..h.clone()
    };
    let e = old.same_input("a.csv", Some(&id(8, 1)), o).unwrap_err();
    assert!(
        e.starts_with("the journal in out was written by an older version"),
        "{e}"
    );
    let newer = Header {
        version: VERSION + 1,
        ..h.clone()
    };
    let e = newer.same_input("a.csv", Some(&id(8, 1)), o).unwrap_err();
    assert!(e.contains("written by a newer version"), "{e}");
}
