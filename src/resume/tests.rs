//! Unit tests of `resume`.
use super::*;
use crate::journal::Header;

const HEADER: [&str; 3] = ["customer_id", "whats_app_phone", "full_name"];

fn ok() -> EarlierOutcome {
    EarlierOutcome::Succeeded {
        already_present: false,
    }
}

/// Rows 1-4 and 6 succeeded (5 failed), 1-8 sent.
fn loaded() -> Loaded {
    Loaded {
        header: Some(Header::new("nxlink", "a.csv", None)),
        done: vec![
            ((1, 4), ok()),
            (
                (5, 5),
                EarlierOutcome::Failed {
                    code: "12148".into(),
                    message: "seat".into(),
                },
            ),
            (
                (6, 6),
                EarlierOutcome::Succeeded {
                    already_present: true,
                },
            ),
            ((9, 10), EarlierOutcome::Unchanged),
        ],
        sent: vec![(1, 8)],
        cells: vec![],
        unmarked: vec![],
    }
}

#[test]
fn rows_are_looked_up_in_the_ranges() {
    let dir = tempfile::tempdir().unwrap();
    let r = Resume::new(dir.path(), loaded(), 3);
    assert!(r.is_done(1) && r.is_done(4) && r.is_done(5) && r.is_done(10));
    assert!(!r.is_done(0) && !r.is_done(7) && !r.is_done(11));
    assert_eq!(r.earlier(3), Some(&ok()));
    assert!(
        matches!(r.earlier(5), Some(EarlierOutcome::Failed { code, .. }) if &**code == "12148")
    );
    assert_eq!(r.earlier(9), Some(&EarlierOutcome::Unchanged));
    assert!(r.was_in_flight(7) && r.was_in_flight(8));
    assert!(!r.was_in_flight(6) && !r.was_in_flight(9) && !r.was_in_flight(11));
    assert!(r.has_unchanged());
    assert_eq!(r.succeeded(), 5);
}

#[test]
fn success_lines_come_from_the_reports_and_a_torn_or_unrecorded_line_is_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    // The finished part of an earlier run, then the killed run's part file: row 7 was written
    // but its outcome never reached the journal; the last line is torn.
    std::fs::write(
        out.join("success.csv"),
        "row,customer_id,whats_app_phone,full_name\n1,101,6281,A\n2,102,6282,\"B, b\"\n",
    )
    .unwrap();
    std::fs::write(
        out.join(".success.csv.part"),
        "row,customer_id,whats_app_phone,full_name\n3,103,6283,C\n7,107,6287,G\n4,104,6284,D\n6,,6286,F\n1,10",
    )
    .unwrap();
    let mut r = Resume::new(out, loaded(), 3);
    assert!(r.read_success_files(&HEADER).unwrap(), "a killed run");
    r.settle_missing_lines().unwrap();
    assert_eq!(r.success_cells(2), Some(vec!["102", "6282", "B, b"]));
    assert_eq!(r.success_cells(1), Some(vec!["101", "6281", "A"]));
    assert_eq!(r.success_cells(6), Some(vec!["", "6286", "F"]));
    assert_eq!(r.success_cells(7), None, "not in the journal");
    assert_eq!(r.success_cells(5), None, "failed");

    // Kept before the new run replaces the part file, and read back from there.
    r.keep_lines(&HEADER).unwrap();
    assert_eq!(
        std::fs::read_to_string(out.join(EARLIER.name())).unwrap(),
        "row,customer_id,whats_app_phone,full_name\n1,101,6281,A\n2,102,6282,\"B, b\"\n3,103,6283,C\n4,104,6284,D\n6,,6286,F\n"
    );
    std::fs::remove_file(out.join("success.csv")).unwrap();
    std::fs::write(
        out.join(".success.csv.part"),
        "row,customer_id,whats_app_phone,full_name\n",
    )
    .unwrap();
    let mut again = Resume::new(out, loaded(), 3);
    again.read_success_files(&HEADER).unwrap();
    again.settle_missing_lines().unwrap();
    assert_eq!(again.success_cells(4), Some(vec!["104", "6284", "D"]));

    // Removed once the new success.csv holds them all, not before.
    again.reported(4).unwrap();
    assert!(out.join(EARLIER.name()).exists());
    again.reported(5).unwrap();
    assert!(!out.join(EARLIER.name()).exists());
}

#[test]
fn a_succeeded_row_without_its_line_refuses_the_resume() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    std::fs::write(
        out.join("success.csv"),
        "row,customer_id,whats_app_phone,full_name\n1,101,6281,A\n3,103,6283,C\n",
    )
    .unwrap();
    let mut r = Resume::new(out, loaded(), 3);
    assert!(!r.read_success_files(&HEADER).unwrap(), "a finished run");
    let e = r.settle_missing_lines().unwrap_err();
    assert_eq!(e.exit, crate::exit::Exit::Usage);
    let msg = e.error.to_string();
    assert!(
        msg.starts_with(&format!(
            "--resume: the journal in {0} records 3 row(s) as succeeded (the first: row 2) whose line is in none of {0}/success.csv, {0}/.success.csv.part and {0}/.success.csv.earlier",
            out.display()
        )),
        "{msg}"
    );
}

#[test]
fn version_2_cells_need_no_report() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = loaded();
    l.done.truncate(1);
    l.cells = (1..=4)
        .map(|r| (r, vec![format!("10{r}"), format!("628{r}"), "N".into()]))
        .collect();
    let mut r = Resume::new(dir.path(), l, 3);
    r.read_success_files(&HEADER).unwrap();
    r.settle_missing_lines().unwrap();
    assert_eq!(r.success_cells(4), Some(vec!["104", "6284", "N"]));
}

#[test]
fn rows_after_the_last_checkpoint_without_their_line_are_sent_again() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    // A power failure: the outcomes of rows 3 and 4 reached the disk after the last mark,
    // their success lines did not.
    std::fs::write(
        out.join(".success.csv.part"),
        "row,customer_id,whats_app_phone,full_name\n1,101,6281,A\n2,102,6282,B\n6,,6286,F\n",
    )
    .unwrap();
    let mut l = loaded();
    l.unmarked = vec![(3, 4), (6, 6)];
    let mut r = Resume::new(out, l, 3);
    r.read_success_files(&HEADER).unwrap();
    r.settle_missing_lines().unwrap();
    assert!(r.is_done(1) && r.is_done(2) && r.is_done(5) && r.is_done(6));
    assert!(!r.is_done(3) && !r.is_done(4));
    assert!(
        r.was_in_flight(3) && r.was_in_flight(4),
        "sent again, may be held"
    );
    assert_eq!(r.succeeded(), 3);
    assert_eq!(r.success_cells(6), Some(vec!["", "6286", "F"]));

    // A missing line before the mark is a removed report: refused.
    let mut l = loaded();
    l.unmarked = vec![(4, 4)];
    let mut r = Resume::new(out, l, 3);
    r.read_success_files(&HEADER).unwrap();
    let e = r.settle_missing_lines().unwrap_err();
    assert!(
        e.error
            .to_string()
            .contains("records 1 row(s) as succeeded (the first: row 3)"),
        "{}",
        e.error
    );
}

#[test]
fn rows_are_taken_out_of_ranges() {
    let ok = ok();
    let done = vec![
        ((1, 4), ok.clone()),
        ((6, 6), ok.clone()),
        ((8, 9), ok.clone()),
    ];
    assert_eq!(
        without_rows(done.clone(), &[1, 3, 6, 9]),
        vec![
            ((2, 2), ok.clone()),
            ((4, 4), ok.clone()),
            ((8, 8), ok.clone())
        ]
    );
    assert_eq!(without_rows(done.clone(), &[]), done);
    assert_eq!(without_rows(done.clone(), &[5, 7, 10]), done);
    assert!(in_spans(&[(1, 4), (8, 9)], 9) && !in_spans(&[(1, 4), (8, 9)], 5));
}
