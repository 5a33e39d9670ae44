//! Whether an [`InputError`]'s message names the input is said by its variant: each variant's
//! `Display`, and which variant real refusals come out as.

use std::io;
use std::path::Path;

use super::*;

fn csv_options(path: &Path) -> InputOptions {
    InputOptions {
        path: path.to_path_buf(),
        format: Format::Csv,
        delimiter: None,
        encoding: None,
        max_field_bytes: 1 << 20,
        sheet: None,
        header_row: None,
    }
}

#[test]
fn an_io_error_shows_the_input_name_then_the_cause() {
    let e = InputError::Io {
        path: "a.csv".into(),
        source: io::Error::other("the disk went away"),
    };
    assert_eq!(e.to_string(), "a.csv: the disk went away");
    assert!(e.names_input());
}

#[test]
fn a_named_message_is_shown_as_it_is() {
    let e = InputError::Named("--header-row 5: a.csv has only 1 non-blank lines".into());
    assert_eq!(
        e.to_string(),
        "--header-row 5: a.csv has only 1 non-blank lines"
    );
    assert!(e.names_input());
    // A missing file's refusal names it.
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.csv");
    let Err(e @ InputError::Named(_)) = Input::open(&csv_options(&missing)) else {
        panic!("a missing file is not refused with a named message");
    };
    let shown = format!("{}: no such file (check the path)", missing.display());
    assert_eq!(e.to_string(), shown);
}

#[test]
fn an_unnamed_message_is_shown_as_it_is_and_asks_for_the_name() {
    let e = InputError::Unnamed("line 1: header column 2 is longer than 10 bytes".into());
    assert_eq!(
        e.to_string(),
        "line 1: header column 2 is longer than 10 bytes"
    );
    assert!(!e.names_input());
    // A file named like a word of the message is still not named by it.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("header");
    std::fs::write(&path, "name,\"phone\nA,1\n").unwrap();
    let Err(e @ InputError::Unnamed(_)) = Input::open(&csv_options(&path)) else {
        panic!("an unclosed quote in the header is not refused with an unnamed message");
    };
    assert_eq!(
        e.to_string(),
        "line 1: a quote opened in the header is never closed (lines 1–2 were read as the header)"
    );
}
