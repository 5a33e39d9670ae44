//! The command-line contract: usage errors, credentials, config files, locks, help.

use predicates::prelude::*;
use serde_json::json;

use crate::env::{spawn_sandbox_command, TestEnv};

#[test]
fn missing_credentials_name_key_and_variable() {
    let env = TestEnv::new();
    let input = env.write("a.csv", "name,phone\nA,1\n");
    env.bare()
        .arg("nxlink")
        .arg(&input)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "  [nxlink]\n  access_key = \"...\"\n",
        ))
        .stderr(predicate::str::contains("config.example.toml").not())
        .stderr(predicate::str::contains("CUSTIMPORT_NXLINK_ACCESS_KEY"))
        .stderr(predicate::str::contains("CUSTIMPORT_NXLINK_ACCESS_SECRET"));
    env.bare()
        .args(["itnio", "--job", "9"])
        .arg(&input)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("CUSTIMPORT_ITNIO_API_SECRET"))
        .stderr(predicate::str::contains("app_id"));
    assert!(!env.out().exists());
}

#[test]
fn config_file_is_read_and_permissions_checked() {
    let env = TestEnv::new();
    let input = env.write("a.csv", "name,phone\nA,6281000001\n");
    let cfg = env.write(
        "custimport.toml",
        "[nxlink]\naccess_key = \"sandbox\"\naccess_secret = \"sandbox-secret\"\ntenant_id = 1\napp_key = \"sandbox\"\n",
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    env.bare()
        .arg("nxlink")
        .arg(&input)
        .args(["--base-url", &env.base_url, "--out"])
        .arg(env.out())
        .assert()
        .code(0)
        .stderr(predicate::str::contains("chmod 600"));
    assert_eq!(env.held_nxlink().len(), 1);
}

#[test]
fn env_overrides_file_and_flags_override_env() {
    let env = TestEnv::new();
    let input = env.write("a.csv", "name,phone\nA,6281000001\n");
    env.write("custimport.toml", "[nxlink]\naccess_key = \"wrong\"\naccess_secret = \"wrong\"\ntenant_id = 5\napp_key = \"wrong\"\n");
    // Environment (set by cmd) beats the file; --tenant-id beats the environment.
    env.cmd("nxlink")
        .arg(&input)
        .args(["--tenant-id", "2"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("22124"));
    std::fs::remove_dir_all(env.out()).unwrap();
    env.cmd("nxlink").arg(&input).assert().code(0);
}

#[test]
fn usage_errors_exit_2() {
    let env = TestEnv::new();
    let input = env.write("a.csv", "name,phone\nA,1\n");
    env.cmd("nxlink")
        .arg(&input)
        .args(["--map", "full_name=Nope"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("no column \"Nope\"")
                .and(predicate::str::contains("\"name\", \"phone\"")),
        );
    env.cmd("nxlink")
        .arg(&input)
        .args(["--batch-size", "101"])
        .assert()
        .code(2);
    // A job id the provider cannot read (beyond a signed 64-bit integer) is a usage error, not
    // a refusal of every batch.
    env.bare()
        .args(["itnio", "--sandbox", "--job", "9223372036854775808"])
        .arg(&input)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--job"));
    env.bare()
        .arg("nxlink")
        .arg(&input)
        .args(["--dry-run", "--base-url", "http://example.com"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("loopback"));
    env.cmd("nxlink")
        .arg("-")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--format"));
    env.cmd("nxlink")
        .arg(env.path("missing.csv"))
        .assert()
        .code(2);
    env.cmd("nxlink")
        .arg(&input)
        .args(["--encoding", "klingon"])
        .assert()
        .code(2);
    env.bare()
        .arg("nxlink")
        .arg(&input)
        .args(["--dry-run", "--resume"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--resume needs --out"));
    env.bare()
        .arg("nxlink")
        .arg(&input)
        .args(["--out"])
        .arg(env.out())
        .args(["-c", "nope.toml"])
        .assert()
        .code(2);
}

#[test]
fn stdin_with_format() {
    let env = TestEnv::new();
    env.cmd("nxlink")
        .args(["-", "--format", "csv"])
        .write_stdin("name,phone\nA,6281000001\n")
        .assert()
        .code(0);
    assert_eq!(env.summary()["succeeded"], json!(1));
}

#[test]
fn options_may_follow_the_input() {
    let env = TestEnv::new();
    let input = env.write("a.tsv", "name\tphone\nA\t6281000001\n");
    env.cmd("nxlink")
        .arg(&input)
        .args(["--concurrency", "2", "--json"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("\"succeeded\":1"));
}

#[test]
fn existing_reports_are_not_overwritten() {
    let env = TestEnv::new();
    let input = env.write("a.csv", "name,phone\nA,6281000001\n");
    env.cmd("nxlink").arg(&input).assert().code(0);
    env.cmd("nxlink")
        .arg(&input)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--resume"));
}

#[test]
fn a_live_lock_refuses_a_second_run() {
    let env = TestEnv::new();
    let input = env.write("a.csv", "name,phone\nA,6281000001\n");
    std::fs::create_dir_all(env.out()).unwrap();
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(env.out().join(".lock"))
        .unwrap();
    lock.lock().unwrap();
    env.cmd("nxlink")
        .arg(&input)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("in use by another live run"));
    drop(lock);
    // A lock file left behind by a dead process is taken over with a warning.
    std::fs::write(env.out().join(".lock"), "999999\n").unwrap();
    env.cmd("nxlink")
        .arg(&input)
        .assert()
        .code(0)
        .stderr(predicate::str::contains("taking over"));
}

#[cfg(unix)]
#[test]
fn reports_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    let input = env.write("a.csv", "name,phone\nA,6281000001\nB,x\n");
    env.cmd("nxlink").arg(&input).assert().code(1);
    for name in ["success.csv", "failed.csv", "summary.json", "journal.jsonl"] {
        let mode = std::fs::metadata(env.out().join(name))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{name}");
    }
}

#[test]
fn quiet_prints_one_line_on_exit_1_and_json_goes_to_stdout() {
    let env = TestEnv::new();
    let input = env.write("a.csv", "name,phone,extra\nA,6281000001,1\nB,x,2\n");
    let out = env
        .cmd("nxlink")
        .arg(&input)
        .args(["-q", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    // The summary line alone (cron mails it).
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(said.lines().count(), 1, "{said}");
    assert!(
        said.starts_with("custimport: 2 rows: 1 succeeded, 1 rejected"),
        "{said}"
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for k in [
        "provider",
        "input",
        "out_dir",
        "total",
        "succeeded",
        "rejected",
        "failed",
        "unknown",
        "pending",
        "requests",
        "retries",
        "elapsed_secs",
        "interrupted",
        "exit_code",
    ] {
        assert!(v.get(k).is_some(), "{k} missing in {v}");
    }
    assert_eq!(v["exit_code"], json!(1));
}

#[test]
fn help_completions_and_man() {
    let env = TestEnv::new();
    let help = env.bare().args(["nxlink", "--help"]).output().unwrap();
    let text = String::from_utf8_lossy(&help.stdout);
    for opt in [
        "--config",
        "--format",
        "--delimiter",
        "--encoding",
        "--map",
        "--batch-size",
        "--concurrency",
        "--rate",
        "--retries",
        "--timeout",
        "--out",
        "--resume",
        "--dry-run",
        "--sandbox",
        "--base-url",
        "--max-failures",
        "--json",
        "--quiet",
        "--verbose",
        "--no-progress",
        "--tenant-id",
        "--app-key",
        "--mode",
        "--strict-binding",
        "Exit codes",
    ] {
        assert!(text.contains(opt), "{opt} missing from nxlink --help");
    }
    let help = env.bare().args(["itnio", "--help"]).output().unwrap();
    let text = String::from_utf8_lossy(&help.stdout);
    for opt in ["--job", "--app-id", "--call-record-dup"] {
        assert!(text.contains(opt), "{opt} missing from itnio --help");
    }
    for shell in ["bash", "zsh", "fish", "powershell"] {
        env.bare()
            .args(["completions", shell])
            .assert()
            .success()
            .stdout(predicate::str::contains("custimport"));
    }
    env.bare()
        .arg("man")
        .assert()
        .success()
        .stdout(predicate::str::contains(".TH"));
}

#[test]
fn progress_bar_on_a_terminal_only() {
    let env = TestEnv::latency(30);
    let mut csv = String::from("name,phone\n");
    for i in 0..300 {
        csv.push_str(&format!("N{i},6281{i:07}\n"));
    }
    let input = env.write("p.csv", csv);
    // stderr redirected: no bar, only the summary line.
    let out = env
        .cmd("nxlink")
        .arg(&input)
        .args(["--batch-size", "10", "--concurrency", "1"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("rows ("), "{err}");
    assert!(err.contains("300 succeeded"), "{err}");
    // Under a pseudo-terminal (util-linux `script`): the bar is drawn.
    std::fs::remove_dir_all(env.out()).unwrap();
    let bin = assert_cmd::cargo::cargo_bin("custimport");
    let cmdline = format!(
        "{} nxlink {} --base-url {} --out {} --batch-size 10 --concurrency 1",
        bin.display(),
        input.display(),
        env.base_url,
        env.out().display()
    );
    let typescript = env.path("typescript");
    let status = std::process::Command::new("script")
        .arg("-qec")
        .arg(&cmdline)
        .arg(&typescript)
        .env("CUSTIMPORT_NXLINK_ACCESS_KEY", "sandbox")
        .env("CUSTIMPORT_NXLINK_ACCESS_SECRET", "sandbox-secret")
        .env("CUSTIMPORT_NXLINK_TENANT_ID", "1")
        .env("CUSTIMPORT_NXLINK_APP_KEY", "sandbox")
        .env("TERM", "xterm")
        .stdout(std::process::Stdio::null())
        .status()
        .expect("util-linux `script` is needed for the pseudo-terminal test");
    assert!(status.success());
    let screen = String::from_utf8_lossy(&std::fs::read(&typescript).unwrap()).into_owned();
    assert!(screen.contains("/300 rows"), "{screen}");
    assert!(screen.contains("300 succeeded"));
}

#[test]
fn dry_run_prints_the_plan_without_credentials() {
    let env = TestEnv::new();
    env.bare()
        .args(["nxlink", "--dry-run"])
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/customers.csv"))
        .arg("--out")
        .arg(env.out())
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "whats_app_phone  <- \"WhatsApp\" (alias)",
        ))
        .stderr(predicate::str::contains(
            "invalid_phone              2  (rows 16, 23)",
        ))
        .stderr(predicate::str::contains(
            "Would send 1 request(s) of up to 100 rows.",
        ));
}

#[test]
fn mask_pii_masks_success_phones() {
    let env = TestEnv::new();
    let input = env.write("a.csv", "name,phone\nA,6281234567890\n");
    env.cmd("itnio")
        .args(["--job", "9", "--mask-pii"])
        .arg(&input)
        .assert()
        .code(0);
    assert_eq!(
        env.read("success.csv"),
        "row,phone_number,name,source_row\n1,*********7890,A,\n"
    );
    // The provider still received the real number.
    assert_eq!(env.held_itnio(9)[0]["phoneNumber"], "6281234567890");
}

#[test]
fn verbose_logs_name_rows_and_batches_but_no_phone() {
    let env = TestEnv::faults("stray=1.0", 3);
    let input = env.write("a.csv", "name,phone\nA,6281234567890\nB,x\n");
    let out = env
        .cmd("itnio")
        .args(["--job", "9", "-vv"])
        .arg(&input)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("batch=1"), "{err}");
    assert!(err.contains("row=1"), "{err}");
    assert!(!err.contains("6281234567890"), "{err}");
    assert!(
        !err.contains("00000000000"),
        "unattributed phone logged in full: {err}"
    );
}

#[test]
fn common_options_may_come_before_the_provider() {
    let env = TestEnv::new();
    let input = env.write("a.csv", "name,phone\nA,6281000001\n");
    env.bare()
        .args(["--json", "-q", "--out"])
        .arg(env.out())
        .args(["nxlink", "--sandbox"])
        .arg(&input)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("\"succeeded\":1"));
}

#[test]
fn sandbox_command_serves_until_terminated() {
    let env = TestEnv::new();
    let (mut child, url) = spawn_sandbox_command(&["--port", "0", "--latency-ms", "1"]);
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let input = env.write("a.csv", "name,phone\nA,6281000001\n");
    env.cmd("nxlink")
        .arg(&input)
        .args(["--base-url", &url])
        .assert()
        .code(0);
    // SAFETY: signalling our own child.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let status = child.wait().unwrap();
    // SIGTERM is the way to stop it: a clean exit.
    assert_eq!(status.code(), Some(0), "{status:?}");
}

#[test]
fn runs_in_the_same_second_get_default_directories_of_their_own() {
    let env = TestEnv::new();
    let input = env.write("a.csv", "name,phone\nA,6281000001\n");
    for _ in 0..3 {
        env.bare()
            .args(["nxlink", "--sandbox", "-q"])
            .arg(&input)
            .assert()
            .code(0);
    }
    let dirs: Vec<String> = std::fs::read_dir(env.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("custimport-nxlink-"))
        .collect();
    assert_eq!(dirs.len(), 3, "{dirs:?}");
}
