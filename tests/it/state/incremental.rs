//! Incremental imports (`--skip-unchanged`): what each run sends, counted by the sandbox;
//! `unchanged.csv` and the summary; crash safety, `--resume` and concurrent runs; the
//! `custimport state` command.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::env::{cell, read_csv, wait_for_exit, TestEnv};

/// nxlink rows `N{i}` with WhatsApp numbers `6281{i:07}`, for `rows`.
fn nx_csv(rows: impl IntoIterator<Item = u64>) -> String {
    let mut s = String::from("name,phone,note\n");
    for i in rows {
        s.push_str(&format!("N{i},6281{i:07},note {i}\n"));
    }
    s
}

fn received(env: &TestEnv) -> u64 {
    env.stats()["rows_received"].as_u64().unwrap()
}

fn summary(out: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap()
}

/// The `row` column of a report, sorted.
fn rows_of(path: &Path) -> Vec<u64> {
    let mut rows: Vec<u64> = read_csv(path)
        .iter()
        .map(|r| cell(r, "row").parse().unwrap())
        .collect();
    rows.sort();
    rows
}

/// The default state path inside the test's HOME.
fn default_state(env: &TestEnv) -> PathBuf {
    env.dir.path().join(".local/state/custimport/state.db")
}

/// An incremental nxlink import of `input` into `out`: exit code and how many rows the
/// sandbox received during it.
fn nx_run(env: &TestEnv, input: &Path, out: &str, extra: &[&str]) -> (i32, u64) {
    let before = received(env);
    let o = env
        .cmd("nxlink")
        .arg(input)
        .args(["--skip-unchanged", "--out"])
        .arg(env.path(out))
        .args(extra)
        .output()
        .unwrap();
    (o.status.code().unwrap(), received(env) - before)
}

#[test]
fn first_run_sends_all_and_the_same_file_again_sends_nothing() {
    let env = TestEnv::new();
    let input = env.write("a.csv", nx_csv(1..=250));
    assert_eq!(nx_run(&env, &input, "r1", &[]), (0, 250));
    let s = summary(&env.path("r1"));
    assert_eq!(s["succeeded"], json!(250));
    assert_eq!(s["unchanged"], json!(0));
    // The state is private, in a private directory, at the default place.
    let state = default_state(&env);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&state), 0o600);
        assert_eq!(mode(state.parent().unwrap()), 0o700);
    }

    let requests = env.stats()["requests"].as_u64().unwrap();
    let out = env
        .cmd("nxlink")
        .arg(&input)
        .args(["--skip-unchanged", "--json", "--out"])
        .arg(env.path("r2"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(env.stats()["requests"].as_u64().unwrap(), requests);
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["unchanged"], json!(250));
    assert_eq!(s["succeeded"], json!(0));
    assert_eq!(s["total"], json!(250));
    assert_eq!(s["exit_code"], json!(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("250 rows: 0 succeeded, 250 unchanged, 0 rejected"),
        "{stderr}"
    );
    let unchanged = read_csv(&env.path("r2").join("unchanged.csv"));
    assert_eq!(unchanged.len(), 250);
    assert_eq!(
        unchanged[0],
        vec![
            ("row".to_owned(), "1".to_owned()),
            ("whats_app_phone".to_owned(), "62810000001".to_owned()),
            ("sms_phone".to_owned(), String::new()),
            ("email".to_owned(), String::new()),
        ]
    );
    assert_eq!(
        rows_of(&env.path("r2").join("unchanged.csv")),
        (1..=250).collect::<Vec<_>>()
    );
    // success.csv is there, with its header only.
    assert!(rows_of(&env.path("r2").join("success.csv")).is_empty());
}

#[test]
fn edits_additions_and_deletions_send_exactly_the_new_and_changed_rows() {
    let env = TestEnv::new();
    let input = env.write("a.csv", nx_csv(1..=100));
    assert_eq!(nx_run(&env, &input, "r1", &[]), (0, 100));

    // Rows 10 and 20 edited, 30 and 40 deleted, 101..=103 added.
    let mut text = String::from("name,phone,note\n");
    for i in (1..=103u64).filter(|i| *i != 30 && *i != 40) {
        let name = if i == 10 || i == 20 {
            format!("Edited {i}")
        } else {
            format!("N{i}")
        };
        text.push_str(&format!("{name},6281{i:07},note {i}\n"));
    }
    std::fs::write(&input, text).unwrap();
    assert_eq!(nx_run(&env, &input, "r2", &[]), (0, 5));
    let s = summary(&env.path("r2"));
    assert_eq!(
        (s["succeeded"].clone(), s["unchanged"].clone()),
        (json!(5), json!(96))
    );
    // Rows are numbered in the new file: 10 and 20 edited, 99..=101 hold customers 101..=103.
    assert_eq!(
        rows_of(&env.path("r2").join("success.csv")),
        vec![10, 20, 99, 100, 101]
    );
    let held = env.held_nxlink();
    assert_eq!(held.len(), 103);
    assert!(held.iter().any(|c| c["full_name"] == "Edited 10"));

    // Again: nothing to send.
    assert_eq!(nx_run(&env, &input, "r3", &[]), (0, 0));
}

#[test]
fn column_order_and_unmapped_columns_change_nothing_but_a_mapped_value_does() {
    let env = TestEnv::new();
    let input = env.write(
        "a.csv",
        "name,phone,internal\nAnn,+62 812 0000 001,x\nBob,6281200000002,y\n",
    );
    assert_eq!(nx_run(&env, &input, "r1", &[]), (0, 2));
    // Columns reordered, an unmapped column changed, a phone written another way: what would
    // be sent is the same.
    std::fs::write(
        &input,
        "internal,phone,name\nchanged,628120000001,Ann\nz,(62) 812-0000-0002,Bob\n",
    )
    .unwrap();
    assert_eq!(nx_run(&env, &input, "r2", &[]), (0, 0));
    // A new mapped column with a value is a change of what is sent.
    std::fs::write(
        &input,
        "internal,phone,name,email\nchanged,628120000001,Ann,\nz,(62) 812-0000-0002,Bob,bob@x.io\n",
    )
    .unwrap();
    assert_eq!(nx_run(&env, &input, "r3", &[]), (0, 1));
    assert_eq!(rows_of(&env.path("r3").join("success.csv")), vec![2]);
}

#[test]
fn a_mode_change_sends_every_row_again() {
    let env = TestEnv::new();
    let input = env.write("a.csv", nx_csv(1..=30));
    assert_eq!(nx_run(&env, &input, "r1", &[]), (0, 30));
    assert_eq!(nx_run(&env, &input, "r2", &[]), (0, 0));
    assert_eq!(nx_run(&env, &input, "r3", &["--mode", "replace"]), (0, 30));
    assert_eq!(nx_run(&env, &input, "r4", &["--mode", "replace"]), (0, 0));
    // Back to the default mode: what nxlink does with the rows differs again.
    assert_eq!(nx_run(&env, &input, "r5", &[]), (0, 30));
}

#[test]
fn failed_rows_are_sent_again_next_time() {
    let env = TestEnv::new();
    let input = env.write(
        "a.csv",
        "name,phone,seat\nA,6281000001,a@sandbox.test\nB,6281000002,ghost@elsewhere\nC,6281000003,\n",
    );
    let strict = ["--strict-binding"];
    assert_eq!(nx_run(&env, &input, "r1", &strict), (1, 3));
    assert_eq!(summary(&env.path("r1"))["failed"], json!(1));
    // Only the failed row goes again (and fails again).
    assert_eq!(nx_run(&env, &input, "r2", &strict), (1, 1));
    let s = summary(&env.path("r2"));
    assert_eq!(
        (s["failed"].clone(), s["unchanged"].clone()),
        (json!(1), json!(2))
    );
    // Fixed, it goes through and is remembered.
    std::fs::write(
        &input,
        "name,phone,seat\nA,6281000001,a@sandbox.test\nB,6281000002,b@sandbox.test\nC,6281000003,\n",
    )
    .unwrap();
    assert_eq!(nx_run(&env, &input, "r3", &strict), (0, 1));
    assert_eq!(nx_run(&env, &input, "r4", &strict), (0, 0));
}

#[test]
fn the_itnio_job_is_part_of_the_scope() {
    let env = TestEnv::new();
    let mut csv = String::from("name,phone,amount\n");
    for i in 1..=40u64 {
        csv.push_str(&format!("L{i},6285{i:07},{i}00\n"));
    }
    let input = env.write("leads.csv", csv);
    let run = |job: &str, out: &str| {
        let before = received(&env);
        let code = env
            .cmd("itnio")
            .arg(&input)
            .args(["--job", job, "--skip-unchanged", "--out"])
            .arg(env.path(out))
            .output()
            .unwrap()
            .status
            .code()
            .unwrap();
        (code, received(&env) - before)
    };
    assert_eq!(run("9", "r1"), (0, 40));
    // Without the state every lead would come back "already exists in this task" (exit 1).
    assert_eq!(run("9", "r2"), (0, 0));
    assert_eq!(summary(&env.path("r2"))["unchanged"], json!(40));
    let unchanged = read_csv(&env.path("r2").join("unchanged.csv"));
    assert_eq!(
        unchanged[0],
        vec![
            ("row".to_owned(), "1".to_owned()),
            ("phone_number".to_owned(), "62850000001".to_owned()),
        ]
    );
    // Another job is another scope: every lead is new to it.
    assert_eq!(run("10", "r3"), (0, 40));
    assert_eq!(env.held_itnio(10).len(), 40);
    // A changed property of one lead is a change (itnio then refuses it: it holds the phone).
    let text = std::fs::read_to_string(&input)
        .unwrap()
        .replace("L3,62850000003,300", "L3,62850000003,301");
    std::fs::write(&input, text).unwrap();
    assert_eq!(run("9", "r4"), (1, 1));
    let s = summary(&env.path("r4"));
    assert_eq!(
        (s["failed"].clone(), s["unchanged"].clone()),
        (json!(1), json!(39))
    );
}

#[test]
fn dry_run_counts_what_would_be_sent_and_lists_unchanged_rows() {
    let env = TestEnv::new();
    let input = env.write("a.csv", nx_csv(1..=120));
    // Before any state exists: everything would be sent, and no state is created.
    let (code, sent) = nx_run(&env, &input, "d0", &["--dry-run"]);
    assert_eq!((code, sent), (0, 0));
    assert!(!default_state(&env).exists());
    assert_eq!(summary(&env.path("d0"))["valid"], json!(120));

    assert_eq!(nx_run(&env, &input, "r1", &[]), (0, 120));
    std::fs::write(&input, nx_csv(1..=125)).unwrap();
    let out = env
        .cmd("nxlink")
        .arg(&input)
        .args(["--skip-unchanged", "--dry-run", "--out"])
        .arg(env.path("d1"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("dry run of 125 rows: 5 valid, 120 unchanged, 0 rejected; would send 5 rows in 1 request"),
        "{stderr}"
    );
    let s = summary(&env.path("d1"));
    assert_eq!(s["valid"], json!(5));
    assert_eq!(s["unchanged"], json!(120));
    assert_eq!(s["planned_requests"], json!(1));
    assert_eq!(
        rows_of(&env.path("d1").join("unchanged.csv")),
        (1..=120).collect::<Vec<_>>()
    );
    // It sent nothing and remembered nothing: the real run sends the 5.
    assert_eq!(nx_run(&env, &input, "r2", &[]), (0, 5));
}

#[test]
fn skip_unchanged_needs_the_account_even_in_a_dry_run() {
    let env = TestEnv::new();
    let input = env.write("a.csv", nx_csv(1..=3));
    env.bare()
        .args(["nxlink", "--dry-run", "--skip-unchanged", "--out"])
        .arg(env.out())
        .arg(&input)
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "--skip-unchanged needs the account's access_key, tenant_id and app_key",
        ));
}

#[test]
fn skip_unchanged_names_itnios_account_keys() {
    let env = TestEnv::new();
    let leads = env.write("l.csv", "name,phone\nA,6285000001\n");
    env.bare()
        .args(["itnio", "--job", "9", "--dry-run", "--skip-unchanged", "--out"])
        .arg(env.out())
        .arg(&leads)
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "--skip-unchanged needs the account's api_key and app_id (config or environment; never the secret)",
        ));
}

#[test]
fn state_path_from_flag_config_and_default() {
    let env = TestEnv::new();
    let state = |extra: &[&str]| {
        let o = env
            .bare()
            .args(["state", "path"])
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0));
        String::from_utf8(o.stdout).unwrap().trim().to_owned()
    };
    assert_eq!(state(&[]), default_state(&env).display().to_string());
    let cfg = env.write("c.toml", "state = \"/srv/custimport/state.db\"\n");
    assert_eq!(
        state(&["-c", cfg.to_str().unwrap()]),
        "/srv/custimport/state.db"
    );
    assert_eq!(
        state(&["-c", cfg.to_str().unwrap(), "--state", "x.db"]),
        "x.db"
    );
    let o = env
        .bare()
        .args(["state", "path"])
        .env("XDG_STATE_HOME", "/xdg/state")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(o.stdout).unwrap().trim(),
        "/xdg/state/custimport/state.db"
    );

    // The state named in the config is the one an import uses.
    let cfg = env.write("c2.toml", "state = \"cfg-state.db\"\n");
    let input = env.write("a.csv", nx_csv(1..=2));
    let code = env
        .cmd("nxlink")
        .arg(&input)
        .args(["--skip-unchanged", "-c"])
        .arg(&cfg)
        .output()
        .unwrap()
        .status
        .code();
    assert_eq!(code, Some(0));
    assert!(env.path("cfg-state.db").exists());
    assert!(!default_state(&env).exists());
}

#[test]
fn state_lists_scopes_and_forgets_with_confirmation() {
    let env = TestEnv::new();
    let input = env.write("a.csv", nx_csv(1..=7));
    assert_eq!(nx_run(&env, &input, "r1", &[]), (0, 7));
    let leads = env.write("l.csv", "name,phone\nA,6285000001\nB,6285000002\n");
    for job in ["9", "10"] {
        env.cmd("itnio")
            .arg(&leads)
            .args(["--job", job, "--skip-unchanged", "--out"])
            .arg(env.path(&format!("job{job}")))
            .assert()
            .code(0);
    }
    let list = |extra: &[&str]| -> Value {
        let o = env
            .bare()
            .args(["state", "--json"])
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let l = list(&[]);
    let scopes = l["scopes"].as_array().unwrap();
    assert_eq!(scopes.len(), 3);
    assert_eq!(scopes[0]["provider"], "nxlink");
    assert_eq!(scopes[0]["account"], "sandbox");
    assert_eq!(scopes[0]["tenant"], json!(1));
    assert_eq!(scopes[0]["endpoint"], json!(env.base_url));
    assert_eq!(scopes[0]["rows"], json!(7));
    assert_eq!(scopes[1]["job"], json!(9));
    assert_eq!(scopes[2]["job"], json!(10));
    assert!(scopes[0]["last_run_at"].as_i64().unwrap() > 1_700_000_000);
    // Secrets are never stored.
    let bytes = std::fs::read(default_state(&env)).unwrap();
    assert!(!bytes.windows(14).any(|w| w == b"sandbox-secret"));

    // The human listing.
    let o = env.bare().arg("state").output().unwrap();
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("scope  provider  endpoint"), "{text}");
    assert!(
        text.lines().any(|l| l.starts_with("    1  nxlink")),
        "{text}"
    );

    // Without a terminal and without --yes, nothing is forgotten.
    env.bare()
        .args(["state", "forget", "1"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("add --yes"));
    assert_eq!(list(&[])["scopes"].as_array().unwrap().len(), 3);
    env.bare()
        .args(["state", "forget", "42", "--yes"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no scope 42"));

    // A job no itnio scope has: nothing is forgotten.
    env.bare()
        .args(["state", "forget", "--job", "11", "--yes"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no itnio scope of job 11 in"));
    assert_eq!(list(&[])["scopes"].as_array().unwrap().len(), 3);
    env.bare()
        .args(["state", "forget", "--job", "9", "--yes"])
        .assert()
        .code(0)
        .stdout("forgot scope 2 (2 rows)\n");
    let ids: Vec<i64> = list(&[])["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![1, 3]);
    env.bare()
        .args(["state", "forget", "1", "--yes"])
        .assert()
        .code(0)
        .stdout("forgot scope 1 (7 rows)\n");
    // Forgotten rows are sent again.
    assert_eq!(nx_run(&env, &input, "r2", &[]), (0, 7));
}

#[test]
fn state_without_a_database_says_so() {
    let env = TestEnv::new();
    env.bare()
        .arg("state")
        .assert()
        .code(0)
        .stdout(predicates::str::contains("nothing remembered yet"));
    assert!(!default_state(&env).exists());
    env.bare()
        .args(["state", "forget", "1", "--yes"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no state database"));
}

fn spawn(env: &TestEnv, input: &Path, out: &Path, extra: &[&str]) -> Child {
    Command::new(assert_cmd::cargo::cargo_bin("custimport"))
        .current_dir(env.dir.path())
        .env_clear()
        .env("HOME", env.dir.path())
        .env("CUSTIMPORT_NXLINK_ACCESS_KEY", "sandbox")
        .env("CUSTIMPORT_NXLINK_ACCESS_SECRET", "sandbox-secret")
        .env("CUSTIMPORT_NXLINK_TENANT_ID", "1")
        .env("CUSTIMPORT_NXLINK_APP_KEY", "sandbox")
        .arg("nxlink")
        .arg(input)
        .args(["--base-url", &env.base_url, "--skip-unchanged", "--out"])
        .arg(out)
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// What a run's journal recorded so far: rows sent, and rows with a final outcome by outcome.
#[derive(Default, Debug)]
struct Journaled {
    sent: std::collections::BTreeSet<u64>,
    succeeded: std::collections::BTreeSet<u64>,
    unchanged: std::collections::BTreeSet<u64>,
    other: std::collections::BTreeSet<u64>,
}

fn journaled(out: &Path) -> Journaled {
    let mut j = Journaled::default();
    let text = std::fs::read_to_string(out.join("journal.jsonl")).unwrap_or_default();
    for line in text.lines() {
        // A line being written may be torn.
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        j.sent.extend(span_rows(&v["sent"]));
        let done = &v["done"];
        j.succeeded
            .extend(span_rows(&done["ok"]).chain(span_rows(&done["present"])));
        j.unchanged.extend(span_rows(&done["unchanged"]));
        for kind in ["failed", "unknown"] {
            for group in done[kind].as_array().into_iter().flatten() {
                j.other.extend(span_rows(&group[2]));
            }
        }
    }
    j
}

/// The rows of a journal's list of ranges, `[[first, last], ...]`.
fn span_rows(spans: &Value) -> impl Iterator<Item = u64> + '_ {
    spans.as_array().into_iter().flatten().flat_map(|s| {
        let (a, b) = (s[0].as_u64().unwrap(), s[1].as_u64().unwrap());
        a..=b
    })
}

/// Wait until the journal satisfies `ready`, polling it (the run's own record of progress,
/// not a guess of how long it takes).
fn wait_for_journal(out: &Path, child: &mut Child, ready: impl Fn(&Journaled) -> bool) {
    let start = Instant::now();
    loop {
        if ready(&journaled(out)) {
            return;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before the journal showed the expected progress"
        );
        assert!(start.elapsed() < Duration::from_secs(60), "no progress");
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn kill9(child: &mut Child) {
    // SAFETY: sending a signal to our own child process.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGKILL);
    }
    let _ = child.wait();
}

/// Rows the state remembers for the (only) nxlink scope, as `custimport state --json` tells
/// after folding in what runs recorded.
fn remembered(state: &Path) -> u64 {
    let out = Command::new(assert_cmd::cargo::cargo_bin("custimport"))
        .args(["state", "--json", "--state"])
        .arg(state)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let scopes = listed["scopes"].as_array().expect("a list of scopes");
    let nxlink: Vec<&Value> = scopes
        .iter()
        .filter(|x| x["provider"] == "nxlink")
        .collect();
    assert!(nxlink.len() <= 1, "{listed}");
    nxlink
        .first()
        .map_or(0, |x| x["rows"].as_u64().expect("rows"))
}

#[test]
fn kill_9_mid_run_then_a_new_run_resends_at_most_what_was_in_flight() {
    let env = TestEnv::latency(100);
    let input = env.write("k.csv", nx_csv(1..=300));
    let out1 = env.path("r1");
    let mut child = spawn(
        &env,
        &input,
        &out1,
        &["--batch-size", "10", "--concurrency", "3"],
    );
    wait_for_journal(&out1, &mut child, |j| j.succeeded.len() >= 60);
    kill9(&mut child);
    let first = received(&env);
    assert!(first < 300, "the run finished before the kill");
    let j = journaled(&out1);
    // Sent, no outcome recorded: in flight at the kill.
    let in_flight = j.sent.len() - j.succeeded.len() - j.other.len();
    assert!(
        in_flight <= 30,
        "{in_flight} rows in flight, more than 3 batches of 10"
    );
    // Outcomes the journal has but the state had not committed yet (at most the outcomes the
    // collector was handling at the kill, each answered batch at most once).
    let state_rows = remembered(&default_state(&env));
    assert!(state_rows <= j.succeeded.len() as u64);
    let lag = j.succeeded.len() as u64 - state_rows;
    assert!(lag <= 30, "the state lagged the journal by {lag} rows");

    // A new run (not a resume) completes the import.
    let code = wait_for_exit(
        spawn(
            &env,
            &input,
            &env.path("r2"),
            &["--batch-size", "10", "--concurrency", "3"],
        ),
        Duration::from_secs(60),
    );
    assert_eq!(code, 0);
    let s = summary(&env.path("r2"));
    assert_eq!(
        s["succeeded"].as_u64().unwrap() + s["unchanged"].as_u64().unwrap(),
        300
    );
    assert_eq!(s["unchanged"].as_u64().unwrap(), state_rows);
    // Rows sent twice in all: what the first run sent that the second sent again.
    let twice = received(&env) - 300;
    assert!(
        twice <= in_flight as u64 + lag,
        "{twice} rows sent twice; in flight {in_flight}, state lag {lag}"
    );
    assert_eq!(env.held_nxlink().len(), 300);
    assert_eq!(remembered(&default_state(&env)), 300);
}

#[test]
fn resume_of_an_incremental_run_keeps_unchanged_rows_unchanged() {
    let env = TestEnv::latency(150);
    let input = env.write("a.csv", nx_csv(1..=60));
    let out1 = env.path("r1");
    assert_eq!(
        wait_for_exit(spawn(&env, &input, &out1, &[]), Duration::from_secs(60)),
        0
    );
    // Every even row edited.
    let mut text = String::from("name,phone,note\n");
    for i in 1..=60u64 {
        let name = if i % 2 == 0 {
            format!("E{i}")
        } else {
            format!("N{i}")
        };
        text.push_str(&format!("{name},6281{i:07},note {i}\n"));
    }
    std::fs::write(&input, text).unwrap();
    let out2 = env.path("r2");
    let opts = ["--batch-size", "3", "--concurrency", "1"];
    let mut child = spawn(&env, &input, &out2, &opts);
    wait_for_journal(&out2, &mut child, |j| {
        j.unchanged.len() == 30 && !j.succeeded.is_empty()
    });
    kill9(&mut child);
    let before = journaled(&out2);
    assert!(
        before.succeeded.len() < 30,
        "the run finished before the kill"
    );
    // The state forgets the account before the resume: the journal alone remembers which
    // rows were unchanged in the run being resumed.
    env.bare()
        .args(["state", "forget", "1", "--yes"])
        .assert()
        .code(0);
    let mut resume_opts = vec!["--resume"];
    resume_opts.extend(opts);
    assert_eq!(
        wait_for_exit(
            spawn(&env, &input, &out2, &resume_opts),
            Duration::from_secs(60)
        ),
        0
    );
    let s = summary(&out2);
    assert_eq!(s["unchanged"], json!(30));
    assert_eq!(s["succeeded"], json!(30));
    assert_eq!(s["total"], json!(60));
    assert_eq!(
        rows_of(&out2.join("unchanged.csv")),
        (1..=60).filter(|i| i % 2 == 1).collect::<Vec<_>>()
    );
    assert_eq!(
        rows_of(&out2.join("success.csv")),
        (1..=60).filter(|i| i % 2 == 0).collect::<Vec<_>>()
    );
}

#[test]
fn two_concurrent_runs_on_one_state_both_finish_correctly() {
    let env = TestEnv::latency(20);
    let a = env.write("a.csv", nx_csv(1..=200));
    let b = env.write("b.csv", nx_csv(151..=350));
    let opts = ["--batch-size", "10", "--concurrency", "2"];
    let ca = spawn(&env, &a, &env.path("ra"), &opts);
    let cb = spawn(&env, &b, &env.path("rb"), &opts);
    assert_eq!(wait_for_exit(ca, Duration::from_secs(60)), 0);
    assert_eq!(wait_for_exit(cb, Duration::from_secs(60)), 0);
    for (out, n) in [("ra", 200), ("rb", 200)] {
        let s = summary(&env.path(out));
        assert_eq!(
            s["succeeded"].as_u64().unwrap() + s["unchanged"].as_u64().unwrap(),
            n,
            "{s}"
        );
    }
    assert_eq!(env.held_nxlink().len(), 350);
    // The state is whole and remembers every row: the union sends nothing.
    let conn = rusqlite::Connection::open(default_state(&env)).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    drop(conn);
    let all = env.write("all.csv", nx_csv(1..=350));
    assert_eq!(nx_run(&env, &all, "r3", &[]), (0, 0));
}

#[test]
fn runs_starting_together_on_a_new_state_all_open_it() {
    // Switching a new database to WAL mode needs it alone for a moment: the others wait.
    let env = TestEnv::new();
    let input = env.write("a.csv", nx_csv(1..=3));
    for round in 0..8 {
        let state = env.path(&format!("fresh-{round}/state.db"));
        let state = state.to_str().unwrap();
        let runs: Vec<Child> = (0..4)
            .map(|k| {
                spawn(
                    &env,
                    &input,
                    &env.path(&format!("o{round}-{k}")),
                    &["--state", state],
                )
            })
            .collect();
        for (k, run) in runs.into_iter().enumerate() {
            assert_eq!(
                wait_for_exit(run, Duration::from_secs(60)),
                0,
                "round {round}, run {k}"
            );
        }
    }
}

#[test]
fn the_built_in_sandbox_is_one_endpoint_across_runs() {
    let env = TestEnv::new();
    let input = env.write("in.csv", nx_csv(1..=5));
    let state = env.path("state.db");
    let run = |out: &str| {
        env.bare()
            .args([
                "nxlink",
                "--sandbox",
                "--skip-unchanged",
                "--no-progress",
                "--state",
            ])
            .arg(&state)
            .arg("--out")
            .arg(env.path(out))
            .arg(&input)
            .output()
            .unwrap()
    };
    let first = run("one");
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert_eq!(summary(&env.path("one"))["succeeded"], json!(5));
    // A new in-process emulator on another port: still the same scope.
    let second = run("two");
    assert_eq!(
        second.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    let s = summary(&env.path("two"));
    assert_eq!(
        (s["unchanged"].clone(), s["requests"].clone()),
        (json!(5), json!(0)),
        "{s}"
    );
    let listed = env
        .bare()
        .args(["state", "--state"])
        .arg(&state)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&listed.stdout);
    assert_eq!(text.matches("sandbox (built-in)").count(), 1, "{text}");
}
