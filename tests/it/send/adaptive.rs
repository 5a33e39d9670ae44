//! The defaults (`--concurrency auto`, `--rate auto`) against each kind of limit the sandbox can
//! hide: every row succeeds, the run exits 0, and throttling stays bounded. Outcomes only, never
//! timings.

use std::time::Duration;

use custimport_sandbox::SandboxConfig;
use serde_json::json;

use crate::env::{spawn_sandbox_command, TestEnv};

fn rows(n: u32) -> String {
    let mut s = String::from("name,phone\n");
    for i in 1..=n {
        s.push_str(&format!("N{i},6281{i:07}\n"));
    }
    s
}

/// Import `n` rows in batches of 2 with the defaults; every row must succeed, exit 0.
fn import_all(env: &TestEnv, n: u32) {
    let input = env.write("c.csv", rows(n));
    env.cmd("nxlink")
        .arg(&input)
        .args(["--batch-size", "2"])
        .assert()
        .code(0);
    let s = env.summary();
    assert_eq!(s["succeeded"], json!(n), "{s}");
    assert_eq!(s["failed"], json!(0), "{s}");
    assert_eq!(s["pending"], json!(0), "{s}");
    assert_eq!(env.held_nxlink().len(), n as usize);
}

fn throttled(env: &TestEnv) -> u64 {
    env.stats()["throttled"].as_u64().unwrap()
}

#[test]
fn a_hidden_rate_limit_is_met_with_every_row_succeeded_and_few_requests_throttled() {
    let env = TestEnv::with(SandboxConfig::default().limit_rps(20));
    import_all(&env, 80);
    let t = throttled(&env);
    // 40 requests against a burst of 20: the limit was met, and backed off from.
    assert!((1..=10).contains(&t), "throttled {t}: {}", env.stats());
}

#[test]
fn a_hidden_rate_limit_with_retry_after_is_waited_out() {
    let env = TestEnv::with(SandboxConfig::default().limit_rps(20).retry_after(1));
    import_all(&env, 80);
    let t = throttled(&env);
    assert!((1..=10).contains(&t), "throttled {t}: {}", env.stats());
}

#[test]
fn a_hidden_limit_on_requests_in_flight_is_found() {
    let env = TestEnv::with(
        SandboxConfig::default()
            .limit_conc(2)
            .latency(Duration::from_millis(50)),
    );
    import_all(&env, 60);
    let t = throttled(&env);
    // The defaults start at 4 in flight: the limit is met at once, then kept to.
    assert!((1..=10).contains(&t), "throttled {t}: {}", env.stats());
}

#[test]
fn latency_that_grows_past_a_knee_throttles_nothing_and_every_row_succeeds() {
    let env = TestEnv::with(
        SandboxConfig::default()
            .queue_latency(2)
            .latency(Duration::from_millis(20)),
    );
    import_all(&env, 60);
    assert_eq!(throttled(&env), 0, "{}", env.stats());
}

/// `custimport sandbox` with the limit options: a limit of one in flight with `Retry-After`,
/// found by the defaults through the served emulator.
#[test]
fn the_sandbox_command_hides_the_limits_it_is_given() {
    let (mut child, url) = spawn_sandbox_command(&[
        "--port",
        "0",
        "--latency-ms",
        "20",
        "--limit-conc",
        "1",
        "--retry-after",
        "1",
    ]);
    let env = TestEnv::at(&url);
    let input = env.write("c.csv", rows(20));
    env.cmd("nxlink")
        .arg(&input)
        .args(["--batch-size", "2"])
        .assert()
        .code(0);
    let s = env.summary();
    let stats = env.stats();
    let held = env.held_nxlink().len();
    // SAFETY: signalling our own child.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let _ = child.wait();
    assert_eq!(s["succeeded"], json!(20), "{s}");
    assert_eq!(held, 20);
    // Four in flight at the start: at least one throttled, and few.
    let t = stats["throttled"].as_u64().unwrap();
    assert!((1..=10).contains(&t), "{stats}");
}
