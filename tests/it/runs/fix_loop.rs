//! The fix loop across runs: a resume keeps the options its run was made with (job, endpoint,
//! phone region, …), refuses other values without touching the report directory, and reports
//! keep their provenance and form through fix-and-reimport rounds.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::env::{cell, wait_for_exit, TestEnv};

/// `n` rows whose phones are national Indonesian numbers (`0812…`), valid with `--phone-region ID`.
fn national_rows(n: usize) -> String {
    let mut s = String::from("name,phone\n");
    for i in 1..=n {
        s.push_str(&format!("N{i},0812{i:07}\n"));
    }
    s
}

/// `custimport PROVIDER INPUT --out out ARGS…` in the background, stderr kept in a file.
fn spawn(env: &TestEnv, provider: &str, input: &Path, extra: &[&str]) -> Child {
    let mut c = env.std_cmd(provider);
    c.arg(input)
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::from(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(env.path("stderr.txt"))
                .unwrap(),
        ));
    c.spawn().unwrap()
}

fn said(env: &TestEnv) -> String {
    std::fs::read_to_string(env.path("stderr.txt")).unwrap_or_default()
}

/// Start a slow run and stop it with `sig` once it has sent something: rows stay pending.
fn interrupted(env: &TestEnv, provider: &str, input: &Path, extra: &[&str], sig: i32) {
    let mut args = vec!["--batch-size", "2", "--concurrency", "1"];
    args.extend_from_slice(extra);
    let child = spawn(env, provider, input, &args);
    let journal = env.out().join("journal.jsonl");
    let start = Instant::now();
    while !std::fs::read_to_string(&journal).is_ok_and(|j| j.matches("\"done\"").count() >= 2) {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "never sent: {}",
            said(env)
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    // SAFETY: a signal to our own child.
    unsafe {
        libc::kill(child.id() as i32, sig);
    }
    let code = wait_for_exit(child, Duration::from_secs(60));
    let want = match sig {
        libc::SIGKILL => -1,
        libc::SIGINT => 130,
        _ => 143,
    };
    assert_eq!(code, want, "{}", said(env));
}

/// Every file of the report directory, by name, with its bytes and mode.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (Vec<u8>, u32)> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            let mode = std::fs::symlink_metadata(&p).unwrap().permissions().mode();
            let bytes = if p.is_file() {
                std::fs::read(&p).unwrap()
            } else {
                vec![]
            };
            (p, (bytes, mode))
        })
        .collect()
}

/// A resume given `extra` is refused (exit 2) naming both values, and leaves the report
/// directory exactly as it was.
fn refused(env: &TestEnv, provider: &str, input: &Path, extra: &[&str], names: &[&str]) {
    let before = snapshot(&env.out());
    let out = env
        .cmd(provider)
        .arg(input)
        .arg("--resume")
        .args(extra)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    for n in names {
        assert!(err.contains(n), "{n:?} not named in: {err}");
    }
    assert!(err.contains("nothing was sent or written"), "{err}");
    assert_eq!(
        snapshot(&env.out()),
        before,
        "the refused resume changed the directory"
    );
}

fn phones(held: &[Value], key: &str) -> Vec<String> {
    let mut v: Vec<String> = held
        .iter()
        .map(|c| c[key].as_str().unwrap_or_default().to_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn a_resume_with_another_itnio_job_is_refused_and_without_it_continues_the_same_job() {
    for sig in [libc::SIGKILL, libc::SIGINT] {
        let env = TestEnv::latency(60);
        let input = env.write("l.csv", national_rows(40).replace("0812", "62812"));
        interrupted(&env, "itnio", &input, &["--job", "9"], sig);
        let pending = 40 - env.held_itnio(9).len();
        assert!(pending > 0, "the run was not interrupted early enough");
        refused(
            &env,
            "itnio",
            &input,
            &["--job", "10"],
            &["--job 9", "--job 10"],
        );
        assert!(env.held_itnio(10).is_empty());

        // Without --job: the recorded job.
        env.cmd("itnio")
            .arg(&input)
            .arg("--resume")
            .assert()
            .code(0);
        assert_eq!(env.held_itnio(9).len(), 40);
        assert!(env.held_itnio(10).is_empty());
        let s = env.summary();
        assert_eq!(s["succeeded"], json!(40), "{s}");
        assert_eq!(env.csv_rows("success.csv").len(), 40);
    }
}

#[test]
fn a_resume_keeps_the_phone_region_of_its_run() {
    let env = TestEnv::latency(60);
    let input = env.write("c.csv", national_rows(40));
    interrupted(
        &env,
        "nxlink",
        &input,
        &["--phone-region", "ID"],
        libc::SIGKILL,
    );
    refused(
        &env,
        "nxlink",
        &input,
        &["--phone-region", "CN"],
        &["--phone-region ID", "--phone-region CN"],
    );
    env.cmd("nxlink")
        .arg(&input)
        .arg("--resume")
        .assert()
        .code(0);
    let held = phones(&env.held_nxlink(), "whats_app_phone");
    let want: Vec<String> = (1..=40).map(|i| format!("62812{i:07}")).collect();
    assert_eq!(held, want, "every row in one form, E.164 for Indonesia");
    // And a resume of the finished run is refused for nothing and sends nothing.
    let requests = env.stats()["requests"].clone();
    env.cmd("nxlink")
        .arg(&input)
        .arg("--resume")
        .assert()
        .code(0);
    assert_eq!(env.stats()["requests"], requests);
}

#[test]
fn a_resume_to_another_endpoint_or_with_other_shaping_options_is_refused() {
    let env = TestEnv::latency(60);
    let other = TestEnv::new();
    let input = env.write("c.csv", national_rows(30));
    interrupted(
        &env,
        "nxlink",
        &input,
        &[
            "--phone-region",
            "ID",
            "--mode",
            "keep",
            "--map",
            "full_name=name",
        ],
        libc::SIGTERM,
    );
    // std_cmd gives --base-url first: a later --base-url wins.
    refused(
        &env,
        "nxlink",
        &input,
        &["--base-url", &other.base_url],
        &[&env.base_url, &other.base_url],
    );
    refused(
        &env,
        "nxlink",
        &input,
        &["--mode", "replace"],
        &["--mode keep", "--mode replace"],
    );
    refused(
        &env,
        "nxlink",
        &input,
        &["--map", "full_name=phone"],
        &["--map full_name=name", "--map full_name=phone"],
    );
    refused(
        &env,
        "nxlink",
        &input,
        &["--batch-size", "50"],
        &["--batch-size 2", "--batch-size 50"],
    );
    refused(
        &env,
        "nxlink",
        &input,
        &["--encoding", "gbk"],
        &["--encoding UTF-8", "--encoding GBK"],
    );
    refused(
        &env,
        "nxlink",
        &input,
        &["--date-order", "dmy"],
        &["--date-order ymd", "--date-order dmy"],
    );
    refused(
        &env,
        "nxlink",
        &input,
        &["--header-row", "2"],
        &["no --header-row", "--header-row 2"],
    );
    assert!(other.held_nxlink().is_empty());
    // The same values again, and transport options changed, are accepted.
    env.cmd("nxlink")
        .arg(&input)
        .args([
            "--resume",
            "--mode",
            "keep",
            "--concurrency",
            "8",
            "--retries",
            "2",
        ])
        .assert()
        .code(0);
    assert_eq!(env.held_nxlink().len(), 30);
}

#[test]
fn a_resume_under_another_account_is_refused_without_printing_a_secret() {
    let env = TestEnv::latency(60);
    let input = env.write("c.csv", national_rows(30).replace("0812", "62812"));
    interrupted(&env, "nxlink", &input, &[], libc::SIGKILL);
    let before = snapshot(&env.out());
    let out = env
        .cmd("nxlink")
        .arg(&input)
        .arg("--resume")
        .env("CUSTIMPORT_NXLINK_TENANT_ID", "2")
        .env("CUSTIMPORT_NXLINK_ACCESS_SECRET", "another-secret")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("tenant id 1") && err.contains("tenant id 2"),
        "{err}"
    );
    assert!(!err.contains("secret"), "{err}");
    assert_eq!(snapshot(&env.out()), before);
}

#[test]
fn the_journal_records_the_options_of_the_run() {
    let env = TestEnv::new();
    let input = env.write("l.csv", "name,phone\nA,6281200000001\n");
    env.cmd("itnio")
        .arg(&input)
        .args(["--job", "12", "--call-record-dup", "--phone-region", "ID"])
        .assert()
        .code(0);
    let journal = env.read("journal.jsonl");
    let first: Value = serde_json::from_str(journal.lines().next().unwrap()).unwrap();
    let o = &first["start"]["options"];
    assert_eq!(first["start"]["version"], json!(4));
    assert_eq!(o["job"], json!(12));
    assert_eq!(o["call_record_dup"], json!(true));
    assert_eq!(o["phone_region"], json!("ID"));
    assert_eq!(
        o["account"],
        json!({"api_key": "sandbox", "app_id": "sandbox"})
    );
    assert!(!journal.contains("sandbox-secret"));
}

#[test]
fn a_version_3_journal_is_resumed_with_a_warning_that_it_records_no_options() {
    let env = TestEnv::latency(60);
    let input = env.write("c.csv", national_rows(20).replace("0812", "62812"));
    interrupted(&env, "nxlink", &input, &[], libc::SIGKILL);
    // Rewrite the header as version 3 wrote it: no options.
    let path = env.out().join("journal.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let (first, rest) = text.split_once('\n').unwrap();
    let mut h: Value = serde_json::from_str(first).unwrap();
    h["start"]["version"] = json!(3);
    h["start"].as_object_mut().unwrap().remove("options");
    std::fs::write(&path, format!("{h}\n{rest}")).unwrap();
    env.cmd("nxlink")
        .arg(&input)
        .arg("--resume")
        .assert()
        .code(0)
        .stderr(predicates::str::contains(
            "did not record the run's options",
        ));
    assert_eq!(env.held_nxlink().len(), 20);
    assert_eq!(
        env.csv_rows("success.csv")
            .iter()
            .map(|r| cell(r, "row").parse::<u64>().unwrap())
            .max(),
        Some(20)
    );
}

/// Rows of a report as (custimport_row or row, code) pairs.
fn numbered(env: &TestEnv, report: &str, col: &str, code: &str) -> Vec<(String, String)> {
    env.csv_rows(report)
        .iter()
        .map(|r| (cell(r, col).to_owned(), cell(r, code).to_owned()))
        .collect()
}

fn held_by_phone(env: &TestEnv) -> BTreeMap<String, Value> {
    env.held_nxlink()
        .into_iter()
        .map(|c| {
            (
                c["whats_app_phone"].as_str().unwrap_or_default().to_owned(),
                c,
            )
        })
        .collect()
}

#[test]
fn two_fix_and_reimport_rounds_keep_the_first_files_row_numbers() {
    let env = TestEnv::new();
    let input = env.write(
        "c.csv",
        "name,phone,email\n\
         A,6281200000001,\n\
         B,62812bad,\n\
         C,6281200000003,\n\
         ,6281200000004,\n\
         E,6281200000005,not-an-email\n\
         F,6281200000006,\n",
    );
    env.cmd("nxlink").arg(&input).assert().code(1);
    assert_eq!(
        numbered(&env, "failed.csv", "custimport_row", "custimport_code"),
        [
            ("2".into(), "invalid_phone".into()),
            ("4".into(), "missing_full_name".into()),
            ("5".into(), "invalid_email".into())
        ]
    );
    // Round 2: row 2's phone fixed in the failure report, fed back as it is.
    let fixed = env.read("failed.csv").replace("62812bad", "6281200000002");
    let round2 = env.write("round2.csv", fixed);
    std::fs::remove_dir_all(env.out()).unwrap();
    env.cmd("nxlink").arg(&round2).assert().code(1);
    assert_eq!(
        numbered(&env, "success.csv", "row", "source_row"),
        [("1".to_owned(), "2".to_owned())]
    );
    assert_eq!(
        numbered(&env, "failed.csv", "custimport_row", "custimport_code"),
        [
            ("4".into(), "missing_full_name".into()),
            ("5".into(), "invalid_email".into())
        ]
    );
    // Round 3: the name fixed; row 5 still fails, still as row 5.
    let fixed = env
        .read("failed.csv")
        .replacen("\n,6281200000004", "\nD,6281200000004", 1);
    let round3 = env.write("round3.csv", fixed);
    std::fs::remove_dir_all(env.out()).unwrap();
    env.cmd("nxlink").arg(&round3).assert().code(1);
    assert_eq!(
        numbered(&env, "success.csv", "row", "source_row"),
        [("1".to_owned(), "4".to_owned())]
    );
    assert_eq!(
        numbered(&env, "failed.csv", "custimport_row", "custimport_code"),
        [("5".into(), "invalid_email".into())]
    );
    let held = held_by_phone(&env);
    assert_eq!(held["6281200000002"]["full_name"], "B");
    assert_eq!(held["6281200000004"]["full_name"], "D");
    assert_eq!(held.len(), 5);
}

#[test]
fn a_jsonl_failure_report_fed_back_keeps_its_row_numbers() {
    let env = TestEnv::new();
    let input = env.write(
        "c.jsonl",
        "{\"name\":\"A\",\"phone\":\"6281200000001\"}\n{\"name\":\"B\",\"phone\":\"bad\"}\n",
    );
    env.cmd("nxlink").arg(&input).assert().code(1);
    let failed = env.read("failed.jsonl");
    let fixed = env.write(
        "fixed.jsonl",
        failed.replace("\"bad\"", "\"6281200000002\""),
    );
    std::fs::remove_dir_all(env.out()).unwrap();
    env.cmd("nxlink").arg(&fixed).assert().code(0);
    assert_eq!(
        numbered(&env, "success.csv", "row", "source_row"),
        [("1".to_owned(), "2".to_owned())]
    );
}

#[test]
fn csv_reports_start_with_a_bom_when_the_input_had_one_and_feed_back_as_is() {
    let env = TestEnv::new();
    let body = "姓名,手机\nBudi,6281200000001\nSiti,0812-bad\n";
    let plain = env.write("plain.csv", body);
    env.cmd("nxlink").arg(&plain).assert().code(1);
    for report in ["success.csv", "failed.csv"] {
        assert!(!env.read(report).starts_with('\u{feff}'), "{report}");
    }
    std::fs::remove_dir_all(env.out()).unwrap();
    let bom = env.write("bom.csv", format!("\u{feff}{body}"));
    env.cmd("nxlink").arg(&bom).assert().code(1);
    for report in ["success.csv", "failed.csv"] {
        let text = env.read(report);
        assert!(text.starts_with('\u{feff}'), "{report}: {text:?}");
        assert_eq!(text.matches('\u{feff}').count(), 1, "{report}");
    }
    // Fixed and fed back with its BOM: the header is read as written.
    let fixed = env.read("failed.csv").replace("0812-bad", "6281200000002");
    let fixed = env.write("fixed.csv", fixed);
    std::fs::remove_dir_all(env.out()).unwrap();
    env.cmd("nxlink").arg(&fixed).assert().code(0);
    assert_eq!(held_by_phone(&env)["6281200000002"]["full_name"], "Siti");
    assert_eq!(
        numbered(&env, "success.csv", "row", "source_row"),
        [("1".to_owned(), "2".to_owned())]
    );
}

/// The cells of the first sheet of a workbook, as text.
fn sheet_cells(path: &Path) -> Vec<Vec<String>> {
    use calamine::{open_workbook_auto, Data, Reader};
    let mut book = open_workbook_auto(path).unwrap();
    let range = book.worksheet_range_at(0).unwrap().unwrap();
    range
        .rows()
        .map(|r| {
            r.iter()
                .map(|c| match c {
                    Data::String(s) => s.clone(),
                    Data::Empty => String::new(),
                    other => panic!("a cell that is not text: {other:?}"),
                })
                .collect()
        })
        .collect()
}

fn write_xlsx(path: &Path, rows: &[Vec<String>]) {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            if !cell.is_empty() {
                sheet.write_string(r as u32, c as u16, cell).unwrap();
            }
        }
    }
    book.save(path).unwrap();
}

#[test]
fn a_workbook_gets_failed_xlsx_that_imports_as_is_and_after_a_fix() {
    let env = TestEnv::new();
    let input = env.path("leads.xlsx");
    let rows: Vec<Vec<String>> = [
        ["Nama", "No HP", "Kode"],
        ["Budi", "081200000001", "007"],
        ["Siti", "0812-12ab", "0042"],
        ["", "081200000003", "=1+1"],
    ]
    .iter()
    .map(|r| r.iter().map(|c| c.to_string()).collect())
    .collect();
    write_xlsx(&input, &rows);
    let map = ["--phone-region", "ID", "--map", "customize.kode=Kode"];
    env.cmd("nxlink").arg(&input).args(map).assert().code(1);
    // failed.csv and failed.xlsx side by side, the CSV with a BOM.
    assert!(env.read("failed.csv").starts_with('\u{feff}'));
    let xlsx = env.out().join("failed.xlsx");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&xlsx).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let cells = sheet_cells(&xlsx);
    assert_eq!(
        cells[0],
        [
            "Nama",
            "No HP",
            "Kode",
            "custimport_row",
            "custimport_outcome",
            "custimport_code",
            "custimport_error"
        ]
    );
    assert_eq!(cells.len(), 3);
    assert_eq!(
        cells[1][..6],
        [
            "Siti",
            "0812-12ab",
            "0042",
            "2",
            "rejected",
            "invalid_phone"
        ]
    );
    // Text, never a formula, and no guard: the cell as it was.
    assert_eq!(
        cells[2][..6],
        [
            "",
            "081200000003",
            "=1+1",
            "3",
            "rejected",
            "missing_full_name"
        ]
    );

    // Imported as it is: the same failures, the same row numbers.
    let again = env.path("again.xlsx");
    std::fs::copy(&xlsx, &again).unwrap();
    std::fs::remove_dir_all(env.out()).unwrap();
    env.cmd("nxlink").arg(&again).args(map).assert().code(1);
    let first6 = |rows: &[Vec<String>]| -> Vec<Vec<String>> {
        rows.iter().map(|r| r[..6].to_vec()).collect()
    };
    assert_eq!(
        first6(&sheet_cells(&env.out().join("failed.xlsx"))[1..]),
        first6(&cells[1..])
    );

    // Fixed (one phone, one name) and imported: both succeed under their first numbers.
    let mut fixed = sheet_cells(&env.out().join("failed.xlsx"));
    fixed[1][1] = "081200000002".into();
    fixed[2][0] = "Ani".into();
    let fixed_path = env.path("fixed.xlsx");
    write_xlsx(&fixed_path, &fixed);
    std::fs::remove_dir_all(env.out()).unwrap();
    env.cmd("nxlink")
        .arg(&fixed_path)
        .args(map)
        .assert()
        .code(0);
    assert_eq!(
        numbered(&env, "success.csv", "row", "source_row"),
        [
            ("1".to_owned(), "2".to_owned()),
            ("2".to_owned(), "3".to_owned())
        ]
    );
    let held = held_by_phone(&env);
    assert_eq!(held["6281200000002"]["full_name"], "Siti");
    assert_eq!(
        held["6281200000002"]["customize_field"],
        json!("{\"kode\":\"0042\"}")
    );
    assert_eq!(
        held["6281200000003"]["customize_field"],
        json!("{\"kode\":\"=1+1\"}")
    );
    assert!(
        !env.out().join("failed.xlsx").exists()
            || sheet_cells(&env.out().join("failed.xlsx")).len() == 1
    );
}

#[test]
fn a_journal_with_repeated_entries_resumes_without_claiming_lost_lines() {
    let env = TestEnv::latency(60);
    let input = env.write("c.csv", national_rows(40).replace("0812", "62812"));
    interrupted(&env, "nxlink", &input, &[], libc::SIGKILL);
    // Every entry written twice, and the first outcomes once more at the end.
    let path = env.out().join("journal.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let (first, rest) = text.split_once('\n').unwrap();
    std::fs::write(&path, format!("{first}\n{rest}{rest}{rest}")).unwrap();
    let out = env
        .cmd("nxlink")
        .arg(&input)
        .arg("--resume")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains("restore"), "{err}");
    assert_eq!(env.csv_rows("success.csv").len(), 40);
    assert_eq!(env.held_nxlink().len(), 40);
}

/// `--state` given again with the run's own value is fine on `--resume`, with or without
/// `--skip-unchanged` (the recorded `--skip-unchanged` is used); another value is refused.
#[test]
fn a_resume_may_repeat_the_runs_own_state() {
    let env = TestEnv::latency(60);
    let input = env.write("c.csv", national_rows(30));
    let state = env.path("st/state.db");
    let state = state.to_str().unwrap();
    let other = env.path("st/other.db");
    interrupted(
        &env,
        "nxlink",
        &input,
        &["--phone-region", "ID", "--skip-unchanged", "--state", state],
        libc::SIGTERM,
    );
    refused(
        &env,
        "nxlink",
        &input,
        &["--state", other.to_str().unwrap()],
        &["--state", state, other.to_str().unwrap()],
    );
    let out = env
        .cmd("nxlink")
        .arg(&input)
        .args(["--resume", "--state", state])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = env.summary();
    assert_eq!(s["succeeded"], 30, "{s}");
    assert_eq!(env.held_nxlink().len(), 30);
    // The resumed run kept --skip-unchanged: the state remembers every row, so the same file
    // again with it sends nothing.
    std::fs::remove_dir_all(env.out()).unwrap();
    let out = env
        .cmd("nxlink")
        .arg(&input)
        .args(["--phone-region", "ID", "--skip-unchanged", "--state", state])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(env.summary()["unchanged"], 30, "{}", env.summary());
}
