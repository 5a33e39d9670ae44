//! A state another process holds (`BEGIN EXCLUSIVE` on a connection of the test) through the
//! binary: a lock released after 3 s delays only the recording, and every outcome is then
//! recorded; a lock held for the whole run costs one wait budget per run (never one per write
//! or per step), ends with the warning, and the exit code still follows the rows.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::env::TestEnv;
use crate::state::state_file::{made_state, nx_csv, received, run, summary};

/// `rows` changed rows, then two rows whose phone cannot be a phone (rejected, never sent).
fn changed_with_two_rejected(rows: u64) -> String {
    format!("{}Bad1,not-a-phone\nBad2,call-me\n", nx_csv(1..=rows, "x"))
}

/// An incremental nxlink run in batches of 10, with `wait` as `CUSTIMPORT_STATE_WAIT` when
/// given: exit code, stderr, rows received, time taken.
fn timed_run(
    env: &TestEnv,
    input: &Path,
    state: &Path,
    out: &str,
    wait: Option<&str>,
) -> (i32, String, u64, Duration) {
    let before = received(env);
    let mut cmd = env.cmd("nxlink");
    if let Some(w) = wait {
        cmd.env("CUSTIMPORT_STATE_WAIT", w);
    }
    let started = Instant::now();
    let o = cmd
        .arg(input)
        .args(["--skip-unchanged", "--batch-size", "10", "--state"])
        .arg(state)
        .arg("--out")
        .arg(env.path(out))
        .output()
        .unwrap();
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    (
        o.status.code().unwrap(),
        stderr,
        received(env) - before,
        took,
    )
}

/// Holds the state's write lock from now until `held` has passed.
fn lock_for(state: &Path, held: Duration) -> std::thread::JoinHandle<()> {
    let lock = rusqlite::Connection::open(state).unwrap();
    lock.execute_batch("BEGIN EXCLUSIVE").unwrap();
    std::thread::spawn(move || {
        std::thread::sleep(held);
        lock.execute_batch("ROLLBACK").unwrap();
    })
}

#[test]
fn a_state_locked_for_three_seconds_records_every_outcome_once_free() {
    let env = TestEnv::new();
    let state = made_state(&env, &env.write("a.csv", nx_csv(1..=300, "")));
    let input = env.write("b.csv", changed_with_two_rejected(300));
    let holder = lock_for(&state, Duration::from_secs(3));
    let (code, stderr, sent, took) = timed_run(&env, &input, &state, "locked", None);
    holder.join().unwrap();
    eprintln!("run with the state locked for 3 s: {took:?}");
    // The exit code of the rows: two rejected.
    assert_eq!((code, sent), (1, 300), "{stderr}");
    let s = summary(&env.path("locked"));
    assert_eq!(
        (&s["succeeded"], &s["rejected"], &s["failed"], &s["unknown"]),
        (&json!(300), &json!(2), &json!(0), &json!(0))
    );
    assert!(
        stderr.contains("is locked by another process; sending goes on, outcomes are recorded when it is free (waiting 30 s at most)"),
        "{stderr}"
    );
    assert!(!stderr.contains("were not recorded"), "{stderr}");
    // The lock's 3 s and the run, not the 30 s budget.
    assert!(
        took >= Duration::from_millis(2900) && took < Duration::from_secs(15),
        "{took:?}"
    );
    // Every outcome was recorded once the lock was gone: nothing is sent again.
    let (code, stderr, sent) = run(&env, &input, &state, "again");
    assert_eq!((code, sent), (1, 0), "{stderr}");
    let s = summary(&env.path("again"));
    assert_eq!((&s["unchanged"], &s["rejected"]), (&json!(300), &json!(2)));
}

#[test]
fn a_state_locked_for_the_whole_run_costs_one_budget_and_the_exit_code_follows_the_rows() {
    let env = TestEnv::new();
    let state = made_state(&env, &env.write("a.csv", nx_csv(1..=1000, "")));
    let input = env.write("b.csv", changed_with_two_rejected(1000));
    // 100 batches, each a write to record: one 2 s budget for all of them.
    let holder = lock_for(&state, Duration::from_secs(20));
    let (code, stderr, sent, took) = timed_run(&env, &input, &state, "locked", Some("2"));
    eprintln!("run with the state locked throughout: {took:?}");
    assert_eq!((code, sent), (1, 1000), "{stderr}");
    let s = summary(&env.path("locked"));
    assert_eq!(
        (&s["succeeded"], &s["rejected"], &s["exit_code"]),
        (&json!(1000), &json!(2), &json!(1))
    );
    assert!(
        stderr.contains("the outcomes of 1000 row(s) were not recorded in the state; the next --skip-unchanged run sends those rows again"),
        "{stderr}"
    );
    assert!(
        stderr.contains("stayed locked by another process (2 s waited)"),
        "{stderr}"
    );
    assert!(took < Duration::from_secs(10), "{took:?}");
    holder.join().unwrap();
    // Not recorded: sent again by the next run, which records them.
    let (code, stderr, sent) = run(&env, &input, &state, "again");
    assert_eq!((code, sent), (1, 1000), "{stderr}");
    assert_eq!(run(&env, &input, &state, "third").2, 0);
}

#[test]
fn an_earlier_state_locked_by_another_process_is_taken_over_later_without_waiting() {
    // A state without custimport's mark (written by an earlier version) is marked when a run
    // opens it: a write, which a locked state only postpones, within the run's one budget.
    let env = TestEnv::new();
    let state = made_state(&env, &env.write("a.csv", nx_csv(1..=5, "")));
    {
        let c = rusqlite::Connection::open(&state).unwrap();
        c.pragma_update(None, "application_id", 0).unwrap();
    }
    let input = env.write("b.csv", nx_csv(1..=5, "x"));
    let holder = lock_for(&state, Duration::from_secs(20));
    let (code, stderr, sent, took) = timed_run(&env, &input, &state, "locked", Some("2"));
    eprintln!("run with an earlier state locked throughout: {took:?}");
    assert_eq!((code, sent), (0, 5), "{stderr}");
    assert!(stderr.contains("(2 s waited)"), "{stderr}");
    assert!(took < Duration::from_secs(10), "{took:?}");
    holder.join().unwrap();
    let (code, stderr, sent) = run(&env, &input, &state, "again");
    assert_eq!((code, sent), (0, 5), "{stderr}");
    let c = rusqlite::Connection::open(&state).unwrap();
    let id: i32 = c
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .unwrap();
    assert_eq!(id, 0x4349_4d50);
}
