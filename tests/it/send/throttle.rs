//! Throttling (HTTP 429 with Retry-After) never uses up `--retries` and never fails a row; only
//! `--give-up-after` of throttling without an answered batch stops the run, rows pending.

use serde_json::json;

use crate::env::TestEnv;

fn rows(n: u32) -> String {
    let mut s = String::from("name,phone\n");
    for i in 1..=n {
        s.push_str(&format!("N{i},6281{i:07}\n"));
    }
    s
}

#[test]
fn throttled_batches_wait_and_go_again_without_using_retries() {
    let env = TestEnv::faults("429=0.5", 5);
    let input = env.write("c.csv", rows(200));
    env.cmd("nxlink")
        .arg(&input)
        .args(["--batch-size", "20", "--retries", "0", "--concurrency", "4"])
        .assert()
        .code(0);
    let s = env.summary();
    assert_eq!(s["succeeded"], json!(200), "{s}");
    assert_eq!(s["failed"], json!(0), "{s}");
    assert_eq!(s["unknown"], json!(0), "{s}");
    assert!(
        s["retries"].as_u64().unwrap() > 0,
        "the fault plan throttled nothing: {s}"
    );
    assert_eq!(env.held_nxlink().len(), 200);
}

#[test]
fn throttling_without_end_stops_after_give_up_after_with_rows_pending() {
    let env = TestEnv::faults("429=1.0", 5);
    let input = env.write("c.csv", rows(60));
    let out = env
        .cmd("nxlink")
        .arg(&input)
        .args(["--batch-size", "20", "--give-up-after", "2"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("--give-up-after"), "{err}");
    let s = env.summary();
    assert_eq!(s["pending"], json!(60), "{s}");
    assert_eq!(s["failed"], json!(0), "{s}");
    assert_eq!(s["unknown"], json!(0), "{s}");
    assert!(env.held_nxlink().is_empty());
}

#[test]
fn give_up_after_comes_from_the_config_file_too() {
    let env = TestEnv::faults("429=1.0", 5);
    let input = env.write("c.csv", rows(10));
    let config = env.write("c.toml", "[nxlink]\ngive_up_after = 1\n");
    let out = env
        .cmd("nxlink")
        .arg(&input)
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("for 1 s (--give-up-after)"), "{err}");
    assert_eq!(env.summary()["pending"], json!(10));
}

/// `-v` says, batch by batch, what the controller holds: the concurrency and the rate.
#[test]
fn verbose_shows_the_concurrency_and_rate_of_every_batch() {
    let env = TestEnv::new();
    let input = env.write("v.csv", rows(60));
    let out = env
        .cmd("nxlink")
        .arg(&input)
        .args(["--batch-size", "10", "-v", "--no-progress"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let batches: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("batch done"))
        .collect();
    assert_eq!(batches.len(), 6, "{stderr}");
    for line in &batches {
        assert!(line.contains(" INFO "), "{line}");
        assert!(line.contains("concurrency="), "{line}");
        assert!(line.contains("rate=auto (not limited)"), "{line}");
    }
    // Answers as fast as these raise the concurrency from 4, and -v says so.
    assert!(
        stderr.contains("one more request in flight concurrency=5"),
        "{stderr}"
    );
    // A fixed rate is shown as given.
    std::fs::remove_dir_all(env.out()).unwrap();
    let out = env
        .cmd("nxlink")
        .arg(&input)
        .args(["--batch-size", "10", "-v", "--no-progress", "--rate", "500"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.matches("rate=500.00/s").count(), 6, "{stderr}");
}
