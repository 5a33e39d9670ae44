//! Hostile servers end to end: the binary against `custimport sandbox --faults KIND=1.0` (a
//! separate process on port 0), one test per bad answer of "What counts as an answer" and
//! "Transport" in the contract: vague successes, omitted, contradictory and miscounted rows,
//! itnio lines in variant spellings or naming nobody, redirects, huge and endless bodies,
//! terminal escapes, parameter errors on every row, and the `--refuse` rule's bisection.
//!
//! Every test checks the invariant: each input row exactly once across `success.csv` and
//! `failed.csv`, the summary agreeing with them, no row `succeeded` that the answer did not
//! confirm (and every `succeeded` row held by the sandbox), and the exit code. The sandbox's
//! `/_sandbox/events` tells which row a fault picked and which trace id a refusal carried.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{json, Value};

use crate::env::{cell, TestEnv};

// ---------------------------------------------------------------------------------------------
// helpers

/// A `custimport sandbox` process on a free port, stopped (SIGTERM) when dropped.
struct Served {
    child: Child,
    url: String,
    _log: tempfile::TempDir,
}

impl Served {
    /// `custimport sandbox --port 0 --fault-seed 1 ARGS`, once it prints its base URL.
    fn start(args: &[&str]) -> Served {
        let log = tempfile::tempdir().unwrap();
        let stderr = std::fs::File::create(log.path().join("stderr")).unwrap();
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("custimport"))
            .args(["sandbox", "--port", "0", "--fault-seed", "1"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let Some(url) = line
            .trim()
            .strip_prefix("custimport sandbox listening on ")
            .map(str::to_owned)
        else {
            let _ = child.kill();
            let _ = child.wait();
            let err = std::fs::read_to_string(log.path().join("stderr")).unwrap_or_default();
            panic!("sandbox {args:?} did not start: {line:?} {err}");
        };
        Served {
            child,
            url,
            _log: log,
        }
    }

    /// A sandbox injecting `kind` into every request.
    fn faults(kind: &str) -> Served {
        Served::start(&["--faults", &format!("{kind}=1.0")])
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        // SAFETY: signalling our own child, which has not been waited for yet.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let _ = self.child.wait();
    }
}

/// A finished run of the importer.
struct Run {
    code: i32,
    stderr: Vec<u8>,
    /// The child's peak resident set, in bytes.
    max_rss: u64,
}

impl Run {
    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

/// Runs `custimport PROVIDER ARGS` against `env`'s sandbox under GNU time, which gives the
/// importer's own peak memory. Killed after 120 s.
// The child is reaped by `wait4`, which clippy does not see.
#[allow(clippy::zombie_processes)]
fn run(env: &TestEnv, provider: &str, args: &[&str]) -> Run {
    // Measured by GNU time, which forks the importer from its own small process: a child
    // forked straight from this large test process carries this process's resident pages in
    // its high-water mark until exec.
    let base = env.std_cmd(provider);
    let report = tempfile::NamedTempFile::new().unwrap();
    let mut cmd = std::process::Command::new("/usr/bin/time");
    cmd.arg("-o")
        .arg(report.path())
        .args(["-f", "%M"])
        .arg(base.get_program())
        .args(base.get_args())
        .args(args)
        .env_clear();
    for (k, v) in base.get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    if let Some(dir) = base.get_current_dir() {
        cmd.current_dir(dir);
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            buf
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let (done, finished) = mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if finished.recv_timeout(Duration::from_secs(120)).is_err() {
            // SAFETY: the child has not been reaped (the main thread is still in wait4).
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
    });
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero rusage is a valid value; wait4 fills it in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let reaped = loop {
        // SAFETY: waiting for our own child with valid pointers.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == -1 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        break r;
    };
    let _ = done.send(());
    watchdog.join().unwrap();
    assert_eq!(reaped, pid, "wait4: {}", std::io::Error::last_os_error());
    let _ = out.join().unwrap();
    let stderr = err.join().unwrap();
    assert!(
        libc::WIFEXITED(status),
        "custimport {provider} {args:?} did not exit (status {status}): {}",
        String::from_utf8_lossy(&stderr)
    );
    Run {
        code: libc::WEXITSTATUS(status),
        stderr,
        // GNU time reports kilobytes (KiB), last line (after "Command exited with ...").
        max_rss: std::fs::read_to_string(report.path())
            .unwrap()
            .lines()
            .last()
            .and_then(|l| l.trim().parse::<u64>().ok())
            .map_or(u64::MAX, |kib| kib.saturating_mul(1024)),
    }
}

/// `name,phone` with `n` rows; row `i` has name `N{i}` and phone [`phone`]`(i)`.
fn rows_csv(n: u64) -> String {
    let mut s = String::from("name,phone\n");
    for i in 1..=n {
        s.push_str(&format!("N{i},{}\n", phone(i)));
    }
    s
}

fn phone(i: u64) -> String {
    format!("6281{i:07}")
}

/// The row whose phone is `p`.
fn row_of(p: &str) -> u64 {
    p.strip_prefix("6281")
        .and_then(|r| r.parse().ok())
        .unwrap_or_else(|| panic!("{p} is no row's phone"))
}

/// One row's line in the reports.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Line {
    outcome: String,
    code: String,
    error: String,
}

/// Every input row exactly once across the two reports, the summary agreeing with them, its
/// `exit_code` the process's; the outcome of each row.
fn accounting(env: &TestEnv, n: u64, run: &Run) -> BTreeMap<u64, Line> {
    let mut seen: BTreeMap<u64, Line> = BTreeMap::new();
    for r in env.csv_rows("success.csv") {
        let row: u64 = cell(&r, "row").parse().unwrap();
        let line = Line {
            outcome: "succeeded".into(),
            code: String::new(),
            error: String::new(),
        };
        assert!(seen.insert(row, line).is_none(), "row {row} twice");
    }
    for r in env.csv_rows("failed.csv") {
        let row: u64 = cell(&r, "custimport_row").parse().unwrap();
        let line = Line {
            outcome: cell(&r, "custimport_outcome").to_owned(),
            code: cell(&r, "custimport_code")
                .trim_start_matches('\'')
                .to_owned(),
            error: cell(&r, "custimport_error").to_owned(),
        };
        assert_ne!(line.outcome, "succeeded", "row {row} in failed.csv");
        assert!(seen.insert(row, line).is_none(), "row {row} twice");
    }
    assert_eq!(
        seen.keys().copied().collect::<Vec<_>>(),
        (1..=n).collect::<Vec<_>>(),
        "every row exactly once"
    );
    let s = env.summary();
    for k in ["succeeded", "rejected", "failed", "unknown", "pending"] {
        let count = seen.values().filter(|l| l.outcome == k).count() as u64;
        assert_eq!(s[k], json!(count), "{k}: {s}");
    }
    assert_eq!(s["total"], json!(n), "{s}");
    assert_eq!(s["exit_code"], json!(run.code), "{s}");
    seen
}

fn outcomes(seen: &BTreeMap<u64, Line>) -> BTreeMap<u64, &str> {
    seen.iter().map(|(r, l)| (*r, l.outcome.as_str())).collect()
}

/// `GET path` on the sandbox, which must answer a JSON array.
fn list(env: &TestEnv, path: &str) -> Vec<Value> {
    let url = format!("{}{path}", env.base_url);
    let v: Value = env.rt.block_on(async {
        let body = reqwest::get(&url).await.unwrap().bytes().await.unwrap();
        serde_json::from_slice(&body).unwrap()
    });
    match v {
        Value::Array(a) => a,
        other => panic!("{path} answered {other}"),
    }
}

/// The rows whose phones the sandbox holds (nxlink customers, or itnio job 9).
fn held(env: &TestEnv, provider: &str) -> BTreeSet<u64> {
    let (path, key) = match provider {
        "nxlink" => ("/_sandbox/nxlink/customers", "whats_app_phone"),
        _ => ("/_sandbox/itnio/jobs/9", "phoneNumber"),
    };
    list(env, path)
        .iter()
        .map(|c| row_of(c[key].as_str().unwrap_or_else(|| panic!("{c}"))))
        .collect()
}

fn events(env: &TestEnv) -> Vec<Value> {
    list(env, "/_sandbox/events")
}

/// The sandbox's counters.
fn stats(env: &TestEnv) -> Value {
    let url = format!("{}/_sandbox/stats", env.base_url);
    env.rt.block_on(async {
        let body = reqwest::get(&url).await.unwrap().bytes().await.unwrap();
        serde_json::from_slice(&body).unwrap()
    })
}

/// `--job 9` for itnio, nothing for nxlink, then `args`.
fn provider_args<'a>(provider: &str, args: &[&'a str]) -> Vec<&'a str> {
    let mut all = if provider == "itnio" {
        vec!["--job", "9"]
    } else {
        vec![]
    };
    all.extend_from_slice(args);
    all
}

// ---------------------------------------------------------------------------------------------
// What counts as an answer

#[test]
fn vague_nxlink_successes_leave_every_row_unknown() {
    for kind in [
        "vague_missing",
        "vague_null",
        "vague_empty",
        "vague_string",
        "vague_lists",
        "vague",
    ] {
        let served = Served::faults(kind);
        let env = TestEnv::at(&served.url);
        let input = env.write("in.csv", rows_csv(4));
        let run = run(&env, "nxlink", &[input.to_str().unwrap()]);
        let seen = accounting(&env, 4, &run);
        assert!(
            seen.values().all(|l| l.outcome == "unknown"),
            "{kind}: {seen:?} {}",
            run.stderr()
        );
        assert_eq!(run.code, 1, "{kind}: {}", run.stderr());
        // The sandbox applied every row: the answer, not the data, was bad.
        assert_eq!(held(&env, "nxlink"), (1..=4).collect(), "{kind}");
    }
}

#[test]
fn vague_itnio_successes_leave_every_row_unknown() {
    for kind in ["vague_string", "vague_empty", "vague_lists", "vague"] {
        let served = Served::faults(kind);
        let env = TestEnv::at(&served.url);
        let input = env.write("in.csv", rows_csv(4));
        let run = run(&env, "itnio", &["--job", "9", input.to_str().unwrap()]);
        let seen = accounting(&env, 4, &run);
        assert!(
            seen.values().all(|l| l.outcome == "unknown"),
            "{kind}: {seen:?} {}",
            run.stderr()
        );
        assert_eq!(run.code, 1, "{kind}: {}", run.stderr());
        assert_eq!(held(&env, "itnio"), (1..=4).collect(), "{kind}");
    }
}

/// The row (1-based) the one fault event of the sandbox picked.
fn picked_row(events: &[Value], kind: &str) -> u64 {
    let picked: Vec<&Value> = events
        .iter()
        .filter(|e| e["fault"] == json!(kind))
        .collect();
    assert_eq!(picked.len(), 1, "{kind}: {events:?}");
    row_of(picked[0]["phone"].as_str().expect("the picked row's phone"))
}

#[test]
fn an_omitted_row_is_unknown_and_the_listed_rows_succeed() {
    let served = Served::faults("omit");
    let env = TestEnv::at(&served.url);
    let input = env.write("in.csv", rows_csv(5));
    let run = run(&env, "nxlink", &[input.to_str().unwrap()]);
    let seen = accounting(&env, 5, &run);
    let k = picked_row(&events(&env), "omit");
    for (row, outcome) in outcomes(&seen) {
        let want = if row == k { "unknown" } else { "succeeded" };
        assert_eq!(outcome, want, "row {row} (omitted: {k}): {seen:?}");
    }
    assert_eq!(run.code, 1, "{}", run.stderr());
    assert_eq!(stats(&env)["requests"], json!(1));
    assert_eq!(held(&env, "nxlink"), (1..=5).collect());
}

#[test]
fn a_row_listed_twice_or_on_both_sides_is_unknown() {
    for kind in ["contradict_both", "contradict_twice", "contradict"] {
        let served = Served::faults(kind);
        let env = TestEnv::at(&served.url);
        let input = env.write("in.csv", rows_csv(5));
        let run = run(&env, "nxlink", &[input.to_str().unwrap()]);
        let seen = accounting(&env, 5, &run);
        let evs = events(&env);
        let form = evs
            .iter()
            .find_map(|e| e["fault"].as_str().filter(|f| f.starts_with("contradict_")))
            .unwrap_or_else(|| panic!("{kind}: {evs:?}"));
        let k = picked_row(&evs, form);
        for (row, outcome) in outcomes(&seen) {
            let want = if row == k { "unknown" } else { "succeeded" };
            assert_eq!(
                outcome, want,
                "{kind}: row {row} (contradicted: {k}): {seen:?}"
            );
        }
        assert_eq!(run.code, 1, "{kind}: {}", run.stderr());
        assert_eq!(stats(&env)["requests"], json!(1), "{kind}");
    }
}

#[test]
fn counts_that_disagree_with_the_lists_confirm_only_the_listed_rows() {
    // Counts say every row succeeded; the lists say row 3 (an unknown seat) failed.
    let served = Served::faults("miscount");
    let env = TestEnv::at(&served.url);
    let mut csv = String::from("name,phone,seat\n");
    for i in 1..=5u64 {
        let seat = if i == 3 { "ghost@elsewhere" } else { "" };
        csv.push_str(&format!("N{i},{},{seat}\n", phone(i)));
    }
    let input = env.write("in.csv", csv);
    let run = run(
        &env,
        "nxlink",
        &[input.to_str().unwrap(), "--strict-binding"],
    );
    let seen = accounting(&env, 5, &run);
    for (row, outcome) in outcomes(&seen) {
        if row == 3 {
            assert!(
                ["failed", "unknown"].contains(&outcome),
                "row 3 was refused by the lists, counted a success by the counts: {outcome}"
            );
        } else {
            assert_eq!(outcome, "succeeded", "row {row}: {seen:?}");
        }
    }
    assert_eq!(run.code, 1, "{}", run.stderr());
    assert_eq!(held(&env, "nxlink"), [1, 2, 4, 5].into());
}

#[test]
fn itnio_lines_in_any_spelling_fail_the_row_they_name() {
    for kind in [
        "fullwidth_cn",
        "fullwidth_plus",
        "fullwidth_text",
        "fullwidth",
    ] {
        let served = Served::faults(kind);
        let env = TestEnv::at(&served.url);
        let input = env.write("in.csv", rows_csv(5));
        let run = run(&env, "itnio", &["--job", "9", input.to_str().unwrap()]);
        let seen = accounting(&env, 5, &run);
        let evs = events(&env);
        let form = evs
            .iter()
            .find_map(|e| e["fault"].as_str().filter(|f| f.starts_with("fullwidth_")))
            .unwrap_or_else(|| panic!("{kind}: {evs:?}"));
        let k = picked_row(&evs, form);
        for (row, outcome) in outcomes(&seen) {
            let want = if row == k { "failed" } else { "succeeded" };
            assert_eq!(
                outcome,
                want,
                "{kind}: row {row} (refused: {k}): {seen:?} {}",
                run.stderr()
            );
        }
        assert_eq!(run.code, 1, "{kind}: {}", run.stderr());
        assert_eq!(stats(&env)["requests"], json!(1), "{kind}");
        let want: BTreeSet<u64> = (1..=5).filter(|r| *r != k).collect();
        assert_eq!(held(&env, "itnio"), want, "{kind}");
        assert_eq!(env.summary()["unattributed"], json!(0), "{kind}");
    }
}

#[test]
fn an_itnio_line_naming_no_phone_leaves_the_unnamed_rows_unknown() {
    let served = Served::faults("anon");
    let env = TestEnv::at(&served.url);
    let input = env.write("in.csv", rows_csv(5));
    let run = run(&env, "itnio", &["--job", "9", input.to_str().unwrap()]);
    let seen = accounting(&env, 5, &run);
    assert!(
        seen.values().all(|l| l.outcome == "unknown"),
        "{seen:?} {}",
        run.stderr()
    );
    assert_eq!(run.code, 1);
    assert_eq!(env.summary()["unattributed"], json!(1));
    let k = picked_row(&events(&env), "anon");
    let want: BTreeSet<u64> = (1..=5).filter(|r| *r != k).collect();
    assert_eq!(held(&env, "itnio"), want);
}

// ---------------------------------------------------------------------------------------------
// Transport

/// Six rows, two per request, one at a time, against a sandbox redirecting every request:
/// the run stops at the first answer (exit 3) naming the Location; rows 1–2 were sent and are
/// not `succeeded`, rows 3–6 were never sent and are `pending`; nothing followed the redirect.
fn redirect_stops_the_run(kind: &str, provider: &str) {
    let served = Served::faults(kind);
    let env = TestEnv::at(&served.url);
    let input = env.write("in.csv", rows_csv(6));
    let args = [
        input.to_str().unwrap(),
        "--batch-size",
        "2",
        "--concurrency",
        "1",
    ];
    let run = run(&env, provider, &provider_args(provider, &args));
    let what = format!("{kind} {provider}: {}", run.stderr());
    assert_eq!(run.code, 3, "{what}");
    let seen = accounting(&env, 6, &run);
    for (row, outcome) in outcomes(&seen) {
        if row <= 2 {
            // The contract says only that they are not confirmed: the redirect applied
            // nothing, so `pending` (resumable) is as right as `unknown` or `failed`.
            assert!(
                ["pending", "unknown", "failed"].contains(&outcome),
                "row {row} was sent and redirected: {outcome}; {what}"
            );
        } else {
            assert_eq!(outcome, "pending", "row {row} was never sent; {what}");
        }
    }
    let evs = events(&env);
    let location = evs
        .iter()
        .find_map(|e| e["location"].as_str())
        .unwrap_or_else(|| panic!("{evs:?}"));
    assert!(
        run.stderr().contains(location),
        "the Location {location} is not named; {what}"
    );
    let st = stats(&env);
    assert_eq!(st["redirected_requests"], json!(0), "followed: {what}");
    assert_eq!(st["requests"], json!(1), "{what}");
    assert!(held(&env, provider).is_empty());
}

#[test]
fn nxlink_redirects_stop_the_run_naming_the_location() {
    for kind in [
        "redirect301",
        "redirect302",
        "redirect307",
        "redirect308",
        "redirect",
    ] {
        redirect_stops_the_run(kind, "nxlink");
    }
}

#[test]
fn itnio_redirects_stop_the_run_naming_the_location() {
    for kind in ["redirect307", "redirect301", "redirect"] {
        redirect_stops_the_run(kind, "itnio");
    }
}

/// A run whose answer is `kind` (huge or endless): completes, every row `unknown`, under
/// 100 MB of memory.
fn oversized(kind: &str, provider: &str, extra: &[&str]) {
    let served = Served::start(&["--faults", &format!("{kind}=1.0"), "--huge-mb", "300"]);
    let env = TestEnv::at(&served.url);
    let input = env.write("in.csv", rows_csv(3));
    let mut args = vec![input.to_str().unwrap(), "--retries", "1"];
    args.extend_from_slice(extra);
    let run = run(&env, provider, &provider_args(provider, &args));
    let what = format!("{kind} {provider}: {}", run.stderr());
    assert!(
        run.max_rss < 100_000_000,
        "peak memory {} MB; {what}",
        run.max_rss / 1_000_000
    );
    let seen = accounting(&env, 3, &run);
    assert!(
        seen.values().all(|l| l.outcome == "unknown"),
        "{seen:?}; {what}"
    );
    assert_eq!(run.code, 1, "{what}");
    let st = stats(&env);
    assert_eq!(st["requests"], json!(2), "one retry: {st}; {what}");
    assert!(held(&env, provider).is_empty());
}

#[test]
fn a_huge_nxlink_answer_is_not_read_past_the_cap() {
    oversized("huge", "nxlink", &["--timeout", "20"]);
}

#[test]
fn a_huge_itnio_answer_is_not_read_past_the_cap() {
    oversized("huge", "itnio", &["--timeout", "20"]);
}

// The timeout bounds what a reader without a cap holds; with the cap it is never reached.

#[test]
fn an_endless_nxlink_answer_is_not_read_past_the_cap() {
    oversized("endless", "nxlink", &["--timeout", "2"]);
}

#[test]
fn an_endless_itnio_answer_is_not_read_past_the_cap() {
    oversized("endless", "itnio", &["--timeout", "2"]);
}

// ---------------------------------------------------------------------------------------------
// Support handles

/// Three rows in one request against a sandbox refusing every request with a message full of
/// terminal escapes: every row fails with the code, and stderr (at -vv, where the message is
/// logged) holds no raw ESC, BEL or CR; nxlink's trace id is in each row's error text and in
/// the logs.
fn escaped(provider: &str) {
    let served = Served::faults("escape");
    let env = TestEnv::at(&served.url);
    let input = env.write("in.csv", rows_csv(3));
    let args = [input.to_str().unwrap(), "-vv"];
    let run = run(&env, provider, &provider_args(provider, &args));
    let err = run.stderr();
    assert_eq!(run.code, 1, "{provider}: {err}");
    let seen = accounting(&env, 3, &run);
    let code = if provider == "nxlink" { "22000" } else { "-35" };
    for (row, line) in &seen {
        assert_eq!(
            (line.outcome.as_str(), line.code.as_str()),
            ("failed", code),
            "{provider} row {row}"
        );
    }
    for (byte, name) in [(0x1b, "ESC"), (0x07, "BEL"), (b'\r', "CR")] {
        assert!(
            !run.stderr.contains(&byte),
            "{provider}: raw {name} on stderr: {err:?}"
        );
    }
    assert!(
        err.contains("escape fault: batch refused"),
        "{provider}: the provider's message is not shown at -vv: {err}"
    );
    if provider == "nxlink" {
        let evs = events(&env);
        let trace = evs[0]["trace_id"]
            .as_str()
            .unwrap_or_else(|| panic!("{evs:?}"));
        for (row, line) in &seen {
            assert!(
                line.error.contains(trace),
                "row {row}: no trace id {trace} in {:?}",
                line.error
            );
        }
        assert!(err.contains(trace), "no trace id in the -v logs: {err}");
    }
}

#[test]
fn nxlink_text_is_printed_with_control_characters_escaped() {
    escaped("nxlink");
}

#[test]
fn itnio_text_is_printed_with_control_characters_escaped() {
    escaped("itnio");
}

/// Twenty rows, two per request, one at a time, against a sandbox refusing every request with
/// the parameter-error code: bisection reaches single rows that all fail, batch after batch,
/// and after three such batches the run stops (exit 3) naming the code.
fn parameter_errors_stop_the_run(provider: &str, code: &str) {
    let served = Served::faults("param");
    let env = TestEnv::at(&served.url);
    let input = env.write("in.csv", rows_csv(20));
    let args = [
        input.to_str().unwrap(),
        "--batch-size",
        "2",
        "--concurrency",
        "1",
    ];
    let run = run(&env, provider, &provider_args(provider, &args));
    let err = run.stderr();
    assert_eq!(run.code, 3, "{provider}: {err}");
    assert!(
        err.contains(code),
        "{provider}: code {code} not named: {err}"
    );
    let seen = accounting(&env, 20, &run);
    let failed: Vec<u64> = seen
        .iter()
        .filter(|(_, l)| l.outcome == "failed")
        .map(|(r, _)| *r)
        .collect();
    assert!(
        failed.len() >= 6,
        "{provider}: 3 batches of 2 reached single rows: {seen:?}"
    );
    assert!(
        seen.values().any(|l| l.outcome == "pending"),
        "{provider}: the run went through the whole file: {seen:?}"
    );
    assert!(seen.values().all(|l| l.outcome != "succeeded"), "{seen:?}");
    let traces: Vec<String> = events(&env)
        .iter()
        .filter_map(|e| e["trace_id"].as_str().map(str::to_owned))
        .collect();
    for row in &failed {
        let line = &seen[row];
        assert_eq!(line.code, code, "{provider} row {row}");
        if provider == "nxlink" {
            assert!(
                traces.iter().any(|t| line.error.contains(t.as_str())),
                "row {row}: no trace id in {:?}",
                line.error
            );
        }
    }
    assert!(held(&env, provider).is_empty());
}

#[test]
fn nxlink_parameter_errors_on_every_single_row_stop_the_run() {
    parameter_errors_stop_the_run("nxlink", "1002");
}

#[test]
fn itnio_parameter_errors_on_every_single_row_stop_the_run() {
    parameter_errors_stop_the_run("itnio", "-27");
}

/// `n` rows in one batch, the row `bad` refused by `--refuse PHONE=CODE`: exactly that row
/// fails with the code, the others succeed, within 1 + 2·⌈log2 n⌉ requests.
fn refused_row_is_isolated(provider: &str, code: &str, n: u64, bad: u64) {
    let rule = format!("{}={code}", phone(bad));
    let served = Served::start(&["--refuse", &rule]);
    let env = TestEnv::at(&served.url);
    let input = env.write("in.csv", rows_csv(n));
    let args = [input.to_str().unwrap(), "--batch-size", "100"];
    let run = run(&env, provider, &provider_args(provider, &args));
    let what = format!("{provider} --refuse {rule}: {}", run.stderr());
    assert_eq!(run.code, 1, "{what}");
    let seen = accounting(&env, n, &run);
    for (row, line) in &seen {
        if *row == bad {
            assert_eq!(
                (line.outcome.as_str(), line.code.as_str()),
                ("failed", code),
                "{what}"
            );
        } else {
            assert_eq!(line.outcome, "succeeded", "row {row}: {line:?}; {what}");
        }
    }
    let log2 = u64::from(n.next_power_of_two().trailing_zeros());
    let requests = stats(&env)["requests"].as_u64().unwrap();
    assert!(requests <= 1 + 2 * log2, "{requests} requests; {what}");
    let want: BTreeSet<u64> = (1..=n).filter(|r| *r != bad).collect();
    assert_eq!(held(&env, provider), want, "{what}");
    if provider == "nxlink" {
        let traces: Vec<String> = events(&env)
            .iter()
            .filter(|e| e["code"].as_i64() == code.parse().ok())
            .filter_map(|e| e["trace_id"].as_str().map(str::to_owned))
            .collect();
        let error = &seen[&bad].error;
        assert!(
            traces.iter().any(|t| error.contains(t.as_str())),
            "no trace id of {traces:?} in {error:?}"
        );
    }
}

#[test]
fn an_nxlink_parameter_error_caused_by_one_row_is_bisected_to_it() {
    refused_row_is_isolated("nxlink", "1002", 100, 37);
}

#[test]
fn an_itnio_parameter_error_caused_by_one_row_is_bisected_to_it() {
    refused_row_is_isolated("itnio", "-27", 100, 64);
}

#[test]
fn an_unknown_seat_refusal_caused_by_one_row_is_bisected_to_it() {
    refused_row_is_isolated("nxlink", "12148", 40, 40);
}
