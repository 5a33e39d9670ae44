//! Encodings through the binary: a GBK file without `--encoding` stops before anything is sent
//! (from a file and from standard input), a row past the sampled start names the encoding in
//! its rejection, a `--encoding` that garbles the file is exit 2, and a workbook named `.csv`
//! is named as a workbook.

use std::io::Write;
use std::process::{Output, Stdio};

use crate::env::{read_csv, TestEnv};

fn gbk(text: &str) -> Vec<u8> {
    encoding_rs::GBK.encode(text).0.into_owned()
}

/// An ASCII header over GBK rows: today's most common export from Chinese office software.
fn gbk_rows() -> Vec<u8> {
    let mut bytes = b"name,phone,remark\n".to_vec();
    for (i, name) in ["张伟", "李娜", "王芳", "刘洋", "陈静"].iter().enumerate() {
        bytes.extend(gbk(&format!("{name},62812000{i:02},北京市朝阳区\n")));
    }
    bytes
}

fn output(mut cmd: assert_cmd::Command) -> (i32, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn requests(env: &TestEnv) -> u64 {
    env.stats()["requests"].as_u64().unwrap()
}

#[test]
fn gbk_file_without_encoding_stops_before_sending_naming_gbk() {
    let env = TestEnv::new();
    let input = env.write("gbk.csv", gbk_rows());
    let mut cmd = env.cmd("nxlink");
    cmd.arg(&input);
    let (code, stderr) = output(cmd);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("gbk.csv is not UTF-8 text (line 2 holds bytes that are not); it looks like gbk: try --encoding gbk"),
        "{stderr}"
    );
    assert_eq!(requests(&env), 0);
    assert!(!env.out().join("failed.csv").exists());
    // As told, the file imports.
    let mut cmd = env.cmd("nxlink");
    cmd.arg(&input).args(["--encoding", "gbk"]);
    let (code, stderr) = output(cmd);
    assert_eq!(code, 0, "{stderr}");
    let held = env.held_nxlink();
    assert_eq!(held.len(), 5);
    assert!(held.iter().any(|c| c["full_name"] == "张伟"), "{held:?}");
}

#[test]
fn gbk_on_standard_input_is_detected_from_what_is_buffered() {
    let env = TestEnv::new();
    let mut child = env
        .std_cmd("nxlink")
        .args(["--format", "csv", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // The writer may see a closed pipe once the run has stopped.
    let _ = stdin.write_all(&gbk_rows());
    drop(stdin);
    let out: Output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("standard input is not UTF-8 text"),
        "{stderr}"
    );
    assert!(stderr.contains("try --encoding gbk"), "{stderr}");
    assert_eq!(requests(&env), 0);
}

#[test]
fn a_row_past_the_sampled_start_names_the_encoding_once() {
    let env = TestEnv::new();
    // Over 2 MiB of ASCII rows, then two GBK rows.
    let mut bytes = b"name,phone\n".to_vec();
    for i in 0..120_000 {
        bytes.extend_from_slice(format!("N{i},6281{i:07}\n").as_bytes());
    }
    bytes.extend(gbk("张伟,628199990001\n李娜,628199990002\n"));
    let input = env.write("late.csv", bytes);
    let mut cmd = env.cmd("nxlink");
    cmd.arg(&input).arg("--dry-run");
    let (code, stderr) = output(cmd);
    assert_eq!(code, 1, "{stderr}");
    let failed = read_csv(&env.out().join("failed.csv"));
    assert_eq!(failed.len(), 2, "{failed:?}");
    let error = |i: usize| {
        failed[i]
            .iter()
            .find(|(k, _)| k == "custimport_error")
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    assert_eq!(
        error(0),
        "line 120002, column \"name\": not valid utf-8 (from this line on the file looks like gbk: try --encoding gbk)"
    );
    assert_eq!(error(1), "line 120003, column \"name\": not valid utf-8");
}

#[test]
fn utf16_on_a_utf8_file_is_exit_2() {
    let env = TestEnv::new();
    let input = env.write(
        "u8.csv",
        "name,phone\nJosé,6281200001\n张伟,6281200002\n".as_bytes(),
    );
    let mut cmd = env.cmd("nxlink");
    cmd.arg(&input).args(["--encoding", "utf-16"]);
    let (code, stderr) = output(cmd);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("the file reads as utf-8: try --encoding utf-8"),
        "{stderr}"
    );
    assert_eq!(requests(&env), 0);
    // An ASCII file read as UTF-16: one line of garbage, no data rows.
    let ascii = env.write("a.csv", b"name,phone\nA,6281200001\nB,6281200002\n\n");
    let mut cmd = env.cmd("nxlink");
    cmd.arg(&ascii).args(["--encoding", "utf-16be"]);
    let (code, stderr) = output(cmd);
    assert_eq!(code, 2, "{stderr}");
    // ASCII reads as UTF-8 (and every encoding that extends ASCII): that is the hint.
    assert!(
        stderr.contains("the file reads as utf-8: try --encoding utf-8"),
        "{stderr}"
    );
}

#[test]
fn a_header_only_file_with_encoding_is_exit_2() {
    let env = TestEnv::new();
    let input = env.write("h.csv", gbk("姓名,电话\n"));
    let mut cmd = env.cmd("nxlink");
    cmd.arg(&input).args(["--encoding", "gbk"]);
    let (code, stderr) = output(cmd);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("h.csv: read as gbk (--encoding), it holds no data rows"),
        "{stderr}"
    );
}

#[test]
fn a_workbook_named_csv_is_named_a_workbook() {
    let env = TestEnv::new();
    let path = env.path("book.csv");
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(0, 0, "name").unwrap();
    sheet.write_string(0, 1, "phone").unwrap();
    sheet.write_string(1, 0, "A").unwrap();
    sheet.write_string(1, 1, "6281200001").unwrap();
    book.save(&path).unwrap();
    let mut cmd = env.cmd("nxlink");
    cmd.arg(&path);
    let (code, stderr) = output(cmd);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("book.csv is an Excel workbook (.xlsx)"),
        "{stderr}"
    );
    assert!(stderr.contains("--format xlsx"), "{stderr}");
    assert!(!stderr.contains("windows-1252"), "{stderr}");
    // As told, it imports.
    let mut cmd = env.cmd("nxlink");
    cmd.arg(&path).args(["--format", "xlsx"]);
    let (code, stderr) = output(cmd);
    assert_eq!(code, 0, "{stderr}");
}
