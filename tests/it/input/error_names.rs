//! An input error names the input exactly once, whatever words of the message the input's
//! name happens to share: whether a message names the input is a property of the error, not
//! something found in its text.

use rust_xlsxwriter::Workbook;

use crate::env::TestEnv;

/// Runs nxlink on `args` (the input named relative to the test's directory): the exit code and
/// everything printed on standard error; nothing may have reached the sandbox.
fn refused(env: &TestEnv, args: &[&str]) -> (Option<i32>, String) {
    let out = env.cmd("nxlink").args(args).output().unwrap();
    assert_eq!(env.stats()["requests"], 0, "{}", env.stats());
    assert!(!env.out().exists(), "a refused input left {:?}", env.out());
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code(), stderr)
}

#[test]
fn a_csv_file_named_like_a_word_of_its_header_error_is_named_once() {
    let env = TestEnv::new();
    env.write("header", "name,\"phone\nA,6281200000001\nB,6281200000002\n");
    let (code, stderr) = refused(&env, &["--format", "csv", "header"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(
        stderr,
        "error: header: line 1: a quote opened in the header is never closed (lines 1–3 were read as the header)\n"
    );
}

#[test]
fn a_workbook_named_like_its_sheet_is_named_once() {
    let env = TestEnv::new();
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("Customers").unwrap();
    ws.write_string(0, 0, "name").unwrap();
    ws.write_string(0, 1, "phone").unwrap();
    ws.write_string(1, 0, "A").unwrap();
    ws.write_string(1, 1, "6281200000001").unwrap();
    wb.save(env.path("Customers")).unwrap();
    let args = ["--format", "xlsx", "--header-row", "9", "Customers"];
    let (code, stderr) = refused(&env, &args);
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(
        stderr,
        "error: Customers: --header-row 9: row 9 of sheet \"Customers\" is empty\n"
    );
}

#[test]
fn a_message_that_names_the_input_gets_no_second_name() {
    let env = TestEnv::new();
    env.write("a.csv", "name,phone\n");
    let (code, stderr) = refused(&env, &["--header-row", "5", "a.csv"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(
        stderr,
        "error: --header-row 5: a.csv has only 1 non-blank lines\n"
    );
}
