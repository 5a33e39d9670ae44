//! Unattended runs: `-q`, `--rejected-ok`, `by_code`, `--metrics-file`, the command printed
//! after a signal, and the help and manual pages of the subcommands.

use std::io::BufRead;
use std::process::Stdio;
use std::time::{Duration, Instant};

use custimport_sandbox::{FaultPlan, SandboxConfig};
use openmetrics_parser::{prometheus::parse_prometheus, PrometheusValue};
use serde_json::json;

use crate::env::{by_row, cell, wait_for_exit, TestEnv};

/// Rows 1 and 4 valid, row 2 rejected (`invalid_phone`), row 3 rejected (`missing_full_name`).
const MIXED: &str = "name,phone\nA,6281000001\nB,12ab\n,6281000003\nD,6281000004\n";

fn lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn quiet_prints_nothing_on_exit_0_and_one_line_otherwise() {
    let env = TestEnv::new();
    let good = env.write("good.csv", "name,phone\nA,6281000001\n");
    let out = env
        .cmd("nxlink")
        .arg(&good)
        .arg("-q")
        .arg("--out")
        .arg(env.path("good"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stderr.is_empty(), "{:?}", lines(&out.stderr));

    let mixed = env.write("mixed.csv", MIXED);
    let out = env.cmd("nxlink").arg(&mixed).arg("-q").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let said = lines(&out.stderr);
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(
        said[0].starts_with("custimport: 4 rows: 2 succeeded, 2 rejected, 0 failed"),
        "{said:?}"
    );
    assert!(
        said[0].ends_with(&format!("; reports in {}", env.out().display())),
        "{said:?}"
    );

    // Exit 2 before a run: the one error line.
    let out = env
        .cmd("nxlink")
        .arg(env.path("missing.csv"))
        .args(["-q", "--out"])
        .arg(env.path("other"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let said = lines(&out.stderr);
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(said[0].starts_with("error: "), "{said:?}");
}

#[test]
fn rejected_ok_leaves_exit_0_for_rejected_rows_only() {
    let env = TestEnv::with(SandboxConfig {
        faults: FaultPlan::default().refuse("6281000004=1002").unwrap(),
        ..Default::default()
    });
    let mixed = env.write("mixed.csv", "name,phone\nA,6281000001\nB,12ab\n");
    env.cmd("nxlink")
        .arg(&mixed)
        .arg("--rejected-ok")
        .assert()
        .code(0);
    let s = env.summary();
    assert_eq!(
        (s["rejected"].clone(), s["exit_code"].clone()),
        (json!(1), json!(0))
    );
    let failed = by_row(&env.csv_rows("failed.csv"), "custimport_row");
    assert_eq!(cell(&failed[&2], "custimport_outcome"), "rejected");

    // The same from the config file.
    let cfg = env.write("c.toml", "[nxlink]\nrejected_ok = true\n");
    env.cmd("nxlink")
        .arg(&mixed)
        .arg("-c")
        .arg(&cfg)
        .arg("--out")
        .arg(env.path("cfg"))
        .assert()
        .code(0);
    // Without it, exit 1.
    env.cmd("nxlink")
        .arg(&mixed)
        .arg("--out")
        .arg(env.path("without"))
        .assert()
        .code(1);

    // A row the provider failed still makes the exit code 1.
    let refused = env.write(
        "refused.csv",
        "name,phone\nA,6281000001\nD,6281000004\nB,12ab\n",
    );
    env.cmd("nxlink")
        .arg(&refused)
        .arg("--rejected-ok")
        .arg("--out")
        .arg(env.path("refused"))
        .assert()
        .code(1);
    let s = std::fs::read_to_string(env.path("refused/summary.json")).unwrap();
    let s: serde_json::Value = serde_json::from_str(&s).unwrap();
    assert_eq!(
        (s["failed"].clone(), s["rejected"].clone()),
        (json!(1), json!(1))
    );
}

#[test]
fn by_code_counts_each_outcome_and_stays_exact_on_resume() {
    let env = TestEnv::with(SandboxConfig {
        faults: FaultPlan::default().refuse("6281000004=1002").unwrap(),
        ..Default::default()
    });
    let input = env.write(
        "in.csv",
        "name,phone\nA,6281000001\nB,12ab\n,6281000003\nD,6281000004\nE,9x\n",
    );
    let out = env.cmd("nxlink").arg(&input).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let want = json!({
        "rejected": {"invalid_phone": 2, "missing_full_name": 1},
        "failed": {"1002": 1},
        "unknown": {}
    });
    assert_eq!(env.summary()["by_code"], want);
    let said = lines(&out.stderr);
    let last = said.last().unwrap();
    assert!(
        last.contains(
            "; most frequent codes: invalid_phone 2, 1002 1, missing_full_name 1; reports in"
        ),
        "{last}"
    );
    // Resuming the finished run reads failed rows from the journal and rejected rows from the
    // input again: the same counts.
    env.cmd("nxlink")
        .arg(&input)
        .arg("--resume")
        .assert()
        .code(1);
    assert_eq!(env.summary()["by_code"], want);
}

/// The value of a gauge in a metrics file, read by a strict parser of the format.
fn gauge(text: &str, family: &str, outcome: Option<&str>) -> f64 {
    let set = parse_prometheus(text).unwrap_or_else(|e| panic!("{e:?}\n{text}"));
    let fam = set
        .families
        .get(family)
        .unwrap_or_else(|| panic!("no {family} in\n{text}"));
    let sample = fam
        .iter_samples()
        .find(|s| {
            let labels = s.get_labelset().unwrap();
            labels.get_label_value("provider") == Some("nxlink")
                && labels.get_label_value("outcome") == outcome
        })
        .unwrap_or_else(|| panic!("no {family} {outcome:?} in\n{text}"));
    match &sample.value {
        PrometheusValue::Gauge(g) => g.as_f64(),
        other => panic!("{family} is not a gauge: {other:?}"),
    }
}

#[test]
fn metrics_file_after_a_good_run_then_a_bad_one_keeps_the_last_success() {
    let env = TestEnv::new();
    let prom = env.path("metrics/custimport.prom");
    std::fs::create_dir(env.path("metrics")).unwrap();
    let good = env.write("good.csv", "name,phone\nA,6281000001\nB,6281000002\n");
    let before = now();
    env.cmd("nxlink")
        .arg(&good)
        .arg("--metrics-file")
        .arg(&prom)
        .assert()
        .code(0);
    let text = std::fs::read_to_string(&prom).unwrap();
    assert_eq!(gauge(&text, "custimport_rows", Some("succeeded")), 2.0);
    assert_eq!(gauge(&text, "custimport_rows", Some("rejected")), 0.0);
    assert_eq!(gauge(&text, "custimport_requests_total", None), 1.0);
    assert_eq!(gauge(&text, "custimport_retries_total", None), 0.0);
    assert_eq!(gauge(&text, "custimport_last_run_exit_code", None), 0.0);
    let success = gauge(&text, "custimport_last_success_timestamp_seconds", None);
    let ran = gauge(&text, "custimport_last_run_timestamp_seconds", None);
    assert_eq!(success, ran);
    assert!(ran >= before && ran <= now(), "{ran}");
    assert!(gauge(&text, "custimport_run_duration_seconds", None) >= 0.0);

    std::thread::sleep(Duration::from_millis(20));
    let bad = env.write("bad.csv", MIXED);
    let cfg = env.write(
        "c.toml",
        format!(
            "[nxlink]\nmetrics_file = {:?}\n",
            prom.display().to_string()
        ),
    );
    env.cmd("nxlink")
        .arg(&bad)
        .arg("-c")
        .arg(&cfg)
        .arg("--out")
        .arg(env.path("bad"))
        .assert()
        .code(1);
    let text = std::fs::read_to_string(&prom).unwrap();
    assert_eq!(gauge(&text, "custimport_last_run_exit_code", None), 1.0);
    assert_eq!(gauge(&text, "custimport_rows", Some("rejected")), 2.0);
    assert_eq!(gauge(&text, "custimport_rows", Some("succeeded")), 2.0);
    assert!(gauge(&text, "custimport_last_run_timestamp_seconds", None) > ran);
    assert_eq!(
        gauge(&text, "custimport_last_success_timestamp_seconds", None),
        success,
        "the last success is kept"
    );
    // Replaced atomically: nothing else is left in the directory.
    let names: Vec<_> = std::fs::read_dir(env.path("metrics"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("custimport.prom")]);
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

#[test]
fn after_sigint_the_last_line_continues_the_run() {
    let env = TestEnv::latency(100);
    let mut csv = String::from("Full Name,phone\n");
    for i in 1..=80 {
        csv.push_str(&format!("N{i},6281{i:07}\n"));
    }
    let input = env.write("in put.csv", csv);
    let prom = env.path("m.prom");
    let stderr = std::fs::File::create(env.path("stderr.txt")).unwrap();
    let child = env
        .std_cmd("nxlink")
        .arg(&input)
        .args([
            "--batch-size",
            "2",
            "--concurrency",
            "1",
            "--map",
            "full_name=Full Name",
        ])
        .arg("--metrics-file")
        .arg(&prom)
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let journal = env.out().join("journal.jsonl");
    let start = Instant::now();
    while !std::fs::read_to_string(&journal).is_ok_and(|j| j.contains("\"sent\"")) {
        assert!(start.elapsed() < Duration::from_secs(60), "never sent");
        std::thread::sleep(Duration::from_millis(5));
    }
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    assert_eq!(wait_for_exit(child, Duration::from_secs(30)), 130);
    let said = std::fs::read_to_string(env.path("stderr.txt")).unwrap();
    let last = said.lines().last().unwrap();
    let out = env.out();
    assert!(
        last.ends_with(&format!(
            " --resume --out {} '{}'",
            out.display(),
            input.display()
        )),
        "{said}"
    );
    assert!(!last.contains("sandbox-secret"), "{last}");
    let text = std::fs::read_to_string(&prom).unwrap();
    assert_eq!(gauge(&text, "custimport_last_run_exit_code", None), 130.0);
    assert!(gauge(&text, "custimport_rows", Some("pending")) > 0.0);

    // The line, run by a shell as printed (same environment, another directory), completes it.
    let same = env.std_cmd("nxlink");
    let vars = same
        .get_envs()
        .filter_map(|(k, v)| Some((k.to_owned(), v?.to_owned())));
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(last)
        .current_dir("/")
        .env_clear()
        .envs(vars)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    let s = env.summary();
    assert_eq!(
        (s["succeeded"].clone(), s["pending"].clone()),
        (json!(80), json!(0))
    );
    assert_eq!(env.held_nxlink().len(), 80);
}

#[test]
fn subcommands_show_their_own_options_and_pages() {
    let env = TestEnv::new();
    for sub in ["sandbox", "man", "completions"] {
        let out = env.bare().args([sub, "--help"]).output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        let help = String::from_utf8(out.stdout).unwrap();
        for import_option in ["--batch-size", "--resume", "--metrics-file", "--config"] {
            assert!(!help.contains(import_option), "{sub} --help: {help}");
        }
    }
    let page = env.bare().args(["man", "nxlink"]).output().unwrap();
    assert_eq!(page.status.code(), Some(0));
    let page = String::from_utf8(page.stdout).unwrap();
    for wanted in [
        "tenant\\-id",
        "\\-\\-mode",
        "CUSTIMPORT_NXLINK_ACCESS_SECRET",
        ".SH EXAMPLES",
        "143",
    ] {
        assert!(page.contains(wanted), "{wanted} not in\n{page}");
    }
    env.bare().args(["man", "nope"]).assert().code(2);
}

#[test]
fn a_closed_pipe_ends_output_quietly() {
    let env = TestEnv::new();
    for args in [&["man"][..], &["completions", "zsh"], &["man", "nxlink"]] {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("custimport"))
            .args(args)
            .current_dir(env.dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // `| head -0`: the reader is gone before the first byte is written.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert!(out.stderr.is_empty(), "{args:?}: {:?}", lines(&out.stderr));
    }
}

#[test]
fn the_sandbox_prints_its_credentials_beside_its_url() {
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("custimport"))
        .args(["sandbox", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut said = String::new();
    let mut reader = std::io::BufReader::new(child.stdout.take().unwrap());
    while !said.contains("app_id") {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 {
            break;
        }
        said.push_str(&line);
    }
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let _ = child.wait();
    let url = said
        .lines()
        .next()
        .unwrap()
        .rsplit(' ')
        .next()
        .unwrap()
        .to_owned();
    for wanted in [
        "[nxlink]".to_owned(),
        format!("base_url = \"{url}\""),
        "access_secret = \"sandbox-secret\"".to_owned(),
        "tenant_id = 1".to_owned(),
        "[itnio]".to_owned(),
        "app_id = \"sandbox\"".to_owned(),
    ] {
        assert!(said.contains(&wanted), "{wanted} not in\n{said}");
    }
}
