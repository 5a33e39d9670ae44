//! Hardening: secrets never echoed, a report directory that cannot be turned against its
//! owner, numbers in range, the panic hook, and every exit (no lock left, a full disk).

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::env::TestEnv;

const SECRET: &str = "S3CRETxyz";

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Neither stream holds `secret`.
fn assert_not_echoed(out: &Output, secret: &str, case: &str) {
    let (stdout, stderr) = text(out);
    assert!(
        !stdout.contains(secret) && !stderr.contains(secret),
        "{case}: {secret} echoed\nstdout: {stdout}\nstderr: {stderr}"
    );
}

// ---------------------------------------------------------------------------------------
// 1. Secrets never echoed

/// Config files broken on a line holding a secret, and the whole error line expected for
/// each (file:line:column, key, what is wrong; never the line or the value).
fn broken_configs() -> Vec<(&'static str, String, &'static str)> {
    let head = "[nxlink]\naccess_key = \"k\"\n";
    vec![
        (
            "unterminated string",
            format!("{head}access_secret = \"{SECRET}\n"),
            "c.toml:3:27: access_secret in [nxlink]: a quoted string is not closed on its line, or holds an invalid \\ escape",
        ),
        (
            "unquoted value",
            format!("{head}access_secret = {SECRET}\n"),
            "c.toml:3:17: access_secret in [nxlink]: the value is not in quotes (write key = \"value\")",
        ),
        (
            "misspelt key",
            format!("{head}acess_secret = \"{SECRET}\"\n"),
            "c.toml:3:1: acess_secret in [nxlink]: unknown key; did you mean access_secret? the keys are: access_key, access_secret, tenant_id, app_key, base_url, region, mode, strict_binding, phone_region, rejected_ok, metrics_file, header_row, date_order, format, sheet, delimiter, encoding, max_field_size, map, batch_size, concurrency, rate, retries, timeout, backoff_ms, give_up_after, out, max_failures, no_bisect, json, quiet, no_progress, mask_pii, skip_unchanged, state",
        ),
        (
            "number where a string is expected",
            format!("{head}access_secret = 31415926535\n"),
            "c.toml:3:17: access_secret in [nxlink]: wrong type of value: must be a string in quotes (key = \"value\")",
        ),
        (
            "duplicated key",
            format!("{head}access_secret = \"{SECRET}\"\naccess_secret = \"{SECRET}\"\n"),
            "c.toml:4:1: access_secret in [nxlink]: set more than once; keep one",
        ),
        (
            "secret alone on a line",
            format!("{head}{SECRET}\n"),
            "c.toml:3:10: a key in [nxlink]: this line is not key = \"value\" (an `=` is missing)",
        ),
        (
            "secret as a quoted key",
            format!("{head}\"{SECRET}+/==\" = \"x\"\n"),
            "c.toml:3:1: a key in [nxlink]: unknown key; the keys are: access_key, access_secret, tenant_id, app_key, base_url, region, mode, strict_binding, phone_region, rejected_ok, metrics_file, header_row, date_order, format, sheet, delimiter, encoding, max_field_size, map, batch_size, concurrency, rate, retries, timeout, backoff_ms, give_up_after, out, max_failures, no_bisect, json, quiet, no_progress, mask_pii, skip_unchanged, state",
        ),
        (
            "a key near none, shown as typed",
            format!("{head}nightly-Job_2 = \"{SECRET}\"\n"),
            "c.toml:3:1: nightly-Job_2 in [nxlink]: unknown key; the keys are: access_key, access_secret, tenant_id, app_key, base_url, region, mode, strict_binding, phone_region, rejected_ok, metrics_file, header_row, date_order, format, sheet, delimiter, encoding, max_field_size, map, batch_size, concurrency, rate, retries, timeout, backoff_ms, give_up_after, out, max_failures, no_bisect, json, quiet, no_progress, mask_pii, skip_unchanged, state",
        ),
        (
            "a key part of a known one",
            format!("{head}secret = \"{SECRET}\"\n"),
            "c.toml:3:1: secret in [nxlink]: unknown key; did you mean access_secret? the keys are: access_key, access_secret, tenant_id, app_key, base_url, region, mode, strict_binding, phone_region, rejected_ok, metrics_file, header_row, date_order, format, sheet, delimiter, encoding, max_field_size, map, batch_size, concurrency, rate, retries, timeout, backoff_ms, give_up_after, out, max_failures, no_bisect, json, quiet, no_progress, mask_pii, skip_unchanged, state",
        ),
        (
            "a key over 40 characters",
            format!("{head}{} = \"{SECRET}\"\n", "k".repeat(41)),
            "c.toml:3:1: a key in [nxlink]: unknown key; the keys are: access_key, access_secret, tenant_id, app_key, base_url, region, mode, strict_binding, phone_region, rejected_ok, metrics_file, header_row, date_order, format, sheet, delimiter, encoding, max_field_size, map, batch_size, concurrency, rate, retries, timeout, backoff_ms, give_up_after, out, max_failures, no_bisect, json, quiet, no_progress, mask_pii, skip_unchanged, state",
        ),
        (
            "text after the value",
            format!("{head}access_secret = \"{SECRET}\" {SECRET}\n"),
            "c.toml:3:29: access_secret in [nxlink]: something follows the value on its line (quote the whole value, or start a comment with #)",
        ),
        (
            "invalid escape",
            format!("{head}access_secret = \"{SECRET}\\q{SECRET}\"\n"),
            "c.toml:3:29: access_secret in [nxlink]: a string holds an invalid \\ escape",
        ),
        (
            "unterminated multi-line string",
            format!("{head}access_secret = \"\"\"{SECRET}\n{SECRET}\n"),
            "c.toml:5:1: in [nxlink]: a multi-line string is not closed, or holds an invalid \\ escape",
        ),
        (
            "itnio section, unquoted",
            format!("[itnio]\napi_key = \"k\"\napi_secret = {SECRET}\n"),
            "c.toml:3:14: api_secret in [itnio]: the value is not in quotes (write key = \"value\")",
        ),
        (
            "inline table",
            format!("nxlink = {{ access_secret = {SECRET} }}\n"),
            "c.toml:1:28: section nxlink: the value is not in quotes (write key = \"value\")",
        ),
        (
            "array value",
            format!("{head}access_secret = [\"{SECRET}\"]\n"),
            "c.toml:3:17: access_secret in [nxlink]: wrong type of value: must be a string in quotes (key = \"value\")",
        ),
        (
            "misspelt section",
            format!("[nxlnk]\naccess_secret = \"{SECRET}\"\n"),
            "c.toml:1:2: section [nxlnk]: unknown section; did you mean nxlink? the sections are: [nxlink], [itnio], [profile.NAME]",
        ),
    ]
}

#[test]
fn config_errors_name_the_place_and_never_the_secret() {
    let env = TestEnv::new();
    let input = env.write("a.csv", "full_name,whats_app_phone\nA,6281000001\n");
    for (case, content, expected) in broken_configs() {
        env.write("c.toml", &content);
        let expected =
            format!("error: config file {expected} (line not shown: it may hold a secret)\n");
        for (flags, rust_log) in [
            (&[][..], None),
            (&["-v"][..], None),
            (&["-vv"][..], None),
            (&["-vvv"][..], Some("trace")),
        ] {
            let mut cmd = env.bare();
            cmd.args(["-c", "c.toml", "nxlink"])
                .arg(&input)
                .arg("--dry-run")
                .args(flags);
            if let Some(level) = rust_log {
                cmd.env("RUST_LOG", level);
            }
            let out = cmd.output().unwrap();
            let (stdout, stderr) = text(&out);
            assert_eq!(out.status.code(), Some(2), "{case} {flags:?}: {stderr}");
            assert_eq!(stdout, "", "{case} {flags:?}");
            assert_eq!(stderr, expected, "{case} {flags:?}");
            assert_not_echoed(&out, SECRET, case);
            assert_not_echoed(&out, "31415926535", case);
        }
    }
    assert!(!env.out().exists());
}

#[test]
fn environment_values_are_never_echoed() {
    let env = TestEnv::new();
    let input = env.write("a.csv", "full_name,whats_app_phone\nA,6281000001\n");
    let cases: [(&str, String, &str); 5] = [
        (
            "CUSTIMPORT_NXLINK_TENANT_ID",
            SECRET.to_owned(),
            "error: CUSTIMPORT_NXLINK_TENANT_ID must be a whole number\n",
        ),
        (
            "CUSTIMPORT_NXLINK_BASE_URL",
            SECRET.to_owned(),
            "error: CUSTIMPORT_NXLINK_BASE_URL: the base URL is not a URL (relative URL without a base)\n",
        ),
        (
            "CUSTIMPORT_NXLINK_BASE_URL",
            format!("https://user:{SECRET}@api.example.com"),
            "error: CUSTIMPORT_NXLINK_BASE_URL: the base URL must not carry a user name or password (credentials belong in the config file)\n",
        ),
        (
            "CUSTIMPORT_NXLINK_BASE_URL",
            format!("http://{SECRET}.example.com"),
            "error: CUSTIMPORT_NXLINK_BASE_URL: plain http:// is only allowed to a loopback address; use https://\n",
        ),
        (
            "CUSTIMPORT_NXLINK_BASE_URL",
            format!("https://api.example.com/?key={SECRET}"),
            "error: CUSTIMPORT_NXLINK_BASE_URL: the base URL must not carry a query (?...) or fragment (#...)\n",
        ),
    ];
    for (var, value, expected) in cases {
        for flags in [&[][..], &["-vv"][..]] {
            let out = env
                .bare()
                .env(var, &value)
                .env("RUST_LOG", "trace")
                .arg("nxlink")
                .arg(&input)
                .arg("--dry-run")
                .args(flags)
                .output()
                .unwrap();
            let (stdout, stderr) = text(&out);
            assert_eq!(out.status.code(), Some(2), "{var}={value}: {stderr}");
            assert_eq!((stdout.as_str(), stderr.as_str()), ("", expected), "{var}");
            assert_not_echoed(&out, SECRET, var);
        }
    }
    // The secret of a working run is never printed, even with every log on.
    let out = env
        .cmd("nxlink")
        .arg(&input)
        .args(["-vvv", "--json"])
        .env("RUST_LOG", "trace")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    assert_not_echoed(&out, "sandbox-secret", "a run with RUST_LOG=trace");
}

// ---------------------------------------------------------------------------------------
// 2. The report directory

/// A private directory that is not the report directory, holding a file the run must never
/// touch.
fn bystander(env: &TestEnv, content: &str) -> PathBuf {
    let dir = env.path("elsewhere");
    std::fs::create_dir_all(&dir).unwrap();
    let target = dir.join("precious.txt");
    std::fs::write(&target, content).unwrap();
    target
}

fn private_dir(path: &Path) {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new().mode(0o700).create(path).unwrap();
}

fn is_link(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

#[test]
fn planted_links_are_never_followed() {
    for name in [
        ".lock",
        ".success.csv.part",
        ".failed.csv.part",
        ".summary.json.part",
    ] {
        let env = TestEnv::new();
        let input = env.write("a.csv", "full_name,whats_app_phone\nA,6281000001\nB,bad\n");
        let content = format!("{SECRET} the content of somebody's file\n");
        let target = bystander(&env, &content);
        private_dir(&env.out());
        std::os::unix::fs::symlink(&target, env.out().join(name)).unwrap();
        let out = env.cmd("nxlink").arg(&input).output().unwrap();
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{name}: {stderr}");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), content, "{name}");
        assert_not_echoed(&out, SECRET, name);
        assert!(!is_link(&env.out().join(name)), "{name} still a link");
        // The run's own reports are complete and in the directory.
        let s = env.summary();
        assert_eq!(
            (s["total"].as_u64(), s["succeeded"].as_u64()),
            (Some(2), Some(1))
        );
        assert_eq!(env.csv_rows("success.csv").len(), 1, "{name}");
        assert_eq!(env.csv_rows("failed.csv").len(), 1, "{name}");
        assert!(!env.out().join(".lock").exists(), "{name}");
    }
}

#[test]
fn planted_hard_links_are_never_written_through() {
    for name in [
        ".lock",
        ".success.csv.part",
        ".failed.csv.part",
        ".summary.json.part",
        "journal.jsonl",
    ] {
        let env = TestEnv::new();
        let input = env.write("a.csv", "full_name,whats_app_phone\nA,6281000001\n");
        let content = format!("{SECRET} the content of somebody's file\n");
        let target = bystander(&env, &content);
        private_dir(&env.out());
        std::fs::hard_link(&target, env.out().join(name)).unwrap();
        let out = env
            .cmd("nxlink")
            .arg(&input)
            .arg("--resume")
            .output()
            .unwrap();
        let (_, stderr) = text(&out);
        if name == "journal.jsonl" {
            assert_eq!(
                stderr,
                format!(
                    "error: {} is a hard link to another file, not a file custimport wrote; remove it (what it points to is left alone) or choose another --out\n",
                    env.out().join(name).display()
                )
            );
            assert_eq!(out.status.code(), Some(2));
        } else {
            assert_eq!(out.status.code(), Some(0), "{name}: {stderr}");
        }
        assert_eq!(std::fs::read_to_string(&target).unwrap(), content, "{name}");
        assert_not_echoed(&out, SECRET, name);
        assert!(!env.out().join(".lock").exists(), "{name}");
    }
}

#[test]
fn a_planted_journal_link_is_refused_never_followed() {
    let env = TestEnv::new();
    let input = env.write("a.csv", "full_name,whats_app_phone\nA,6281000001\n");
    let content = format!("{{\"start\":{{\"note\":\"{SECRET}\"}}}}\n");
    let target = bystander(&env, &content);
    private_dir(&env.out());
    let journal = env.out().join("journal.jsonl");
    std::os::unix::fs::symlink(&target, &journal).unwrap();
    for flags in [&["--resume"][..], &[][..]] {
        let out = env.cmd("nxlink").arg(&input).args(flags).output().unwrap();
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{flags:?}: {stderr}");
        assert_eq!(stdout, "");
        assert_eq!(
            stderr,
            format!(
                "error: {} is a symbolic link, not a file custimport wrote; remove it (what it points to is left alone) or choose another --out\n",
                journal.display()
            )
        );
        assert_eq!(std::fs::read_to_string(&target).unwrap(), content);
        assert!(!env.out().join(".lock").exists());
    }
    // A dangling link is not followed to create its target either.
    std::fs::remove_file(&journal).unwrap();
    let absent = env.path("elsewhere/created-through-a-link");
    std::os::unix::fs::symlink(&absent, &journal).unwrap();
    env.cmd("nxlink").arg(&input).assert().code(2);
    assert!(!absent.exists());
    assert_eq!(env.held_nxlink().len(), 0);
}

#[test]
fn a_stale_lock_is_read_as_digits_only() {
    let env = TestEnv::new();
    let input = env.write("a.csv", "full_name,whats_app_phone\nA,6281000001\n");
    private_dir(&env.out());
    let lock = env.out().join(".lock");
    for (content, said) in [
        (
            format!("{SECRET}\n4242\n"),
            "left by a process that is gone",
        ),
        ("4242\n".to_owned(), "left by process 4242, which is gone"),
        (format!("42{SECRET}"), "left by a process that is gone"),
    ] {
        std::fs::write(&lock, &content).unwrap();
        let out = env
            .cmd("nxlink")
            .arg(&input)
            .arg("--resume")
            .output()
            .unwrap();
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        assert_eq!(
            stderr.lines().next().unwrap_or_default(),
            format!(
                "warning: taking over the lock of {} {said}",
                env.out().display()
            )
        );
        assert_not_echoed(&out, SECRET, &content);
        assert!(!lock.exists());
    }
}

#[test]
fn an_unsafe_out_is_refused_before_anything_is_written() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    let input = env.write("a.csv", "full_name,whats_app_phone\nA,6281000001\n");
    let run = |out: &Path| {
        let o = env
            .cmd("nxlink")
            .arg(&input)
            .arg("--out")
            .arg(out)
            .output()
            .unwrap();
        let (stdout, stderr) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{}: {stderr}", out.display());
        assert_eq!(stdout, "");
        stderr
    };

    // A link to a directory of one's own is still refused: it could be re-pointed.
    let real = env.path("real");
    private_dir(&real);
    let link = env.path("link");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    assert_eq!(
        run(&link),
        format!(
            "error: --out {}: is a symbolic link; give the real directory (a link could send the reports elsewhere)\n",
            link.display()
        )
    );
    let with_slash = PathBuf::from(format!("{}/", link.display()));
    assert!(run(&with_slash).contains("is a symbolic link"));
    assert_eq!(std::fs::read_dir(&real).unwrap().count(), 0);

    for (mode, who) in [
        (0o777, "group and others"),
        (0o770, "its group"),
        (0o702, "others"),
        (0o1777, "group and others"),
    ] {
        let open = env.path(&format!("open-{mode:o}"));
        private_dir(&open);
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(mode)).unwrap();
        assert_eq!(
            run(&open),
            format!(
                "error: --out {0}: is writable by {who} (mode {mode:o}), who could plant files in it; run `chmod go-w {0}` or choose another --out\n",
                open.display()
            )
        );
        assert_eq!(std::fs::read_dir(&open).unwrap().count(), 0);
    }

    let file = env.write("not-a-dir", "keep me\n");
    assert_eq!(
        run(&file),
        format!(
            "error: --out {}: is a file, not a directory; choose another --out\n",
            file.display()
        )
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep me\n");

    // Another user's directory (needs the right to give a directory away).
    let theirs = env.path("theirs");
    private_dir(&theirs);
    let given = std::process::Command::new("chown")
        .arg("65534")
        .arg(&theirs)
        .status()
        .is_ok_and(|s| s.success());
    if given {
        assert_eq!(
            run(&theirs),
            format!(
                "error: --out {}: belongs to another user (uid 65534), who could read or replace the reports; use a directory of your own\n",
                theirs.display()
            )
        );
        assert_eq!(std::fs::read_dir(&theirs).unwrap().count(), 0);
    } else {
        eprintln!("notice: chown not permitted here; the other-owner case of --out is not tested");
    }
    assert_eq!(env.held_nxlink().len(), 0);
}

// ---------------------------------------------------------------------------------------
// 3. Numbers in range

#[test]
fn absurd_numbers_exit_2_before_anything_is_created() {
    let env = TestEnv::new();
    let input = env.write("a.csv", "full_name,whats_app_phone\nA,6281000001\n");
    let cases: &[&[&str]] = &[
        &["--timeout", "1e20"],
        &["--timeout", "86401"],
        &["--timeout", "0"],
        &["--timeout=-1"],
        &["--timeout", "nan"],
        &["--timeout", "inf"],
        &["--rate", "1e-30"],
        &["--rate", "0"],
        &["--rate=-5"],
        &["--rate", "inf"],
        &["--rate", "NaN"],
        &["--rate", "1e300"],
        &["--retries", "4294967295"],
        &["--retries", "101"],
        &["--backoff-ms", "18446744073709551615"],
        &["--backoff-ms", "30001"],
        &["--concurrency", "0"],
        &["--concurrency", "65535"],
        &["--batch-size", "0"],
        &["--batch-size", "101"],
        &["--max-field-size", "0"],
        &["--max-field-size", "4294967295"],
        &["--max-failures", "nan%"],
        &["--max-failures=-1"],
        &["--max-failures", "101%"],
        &["--max-failures", "1e400"],
    ];
    for args in cases {
        let out = env.cmd("nxlink").arg(&input).args(*args).output().unwrap();
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stdout, "", "{args:?}");
        assert!(
            stderr.starts_with("error: ")
                && stderr.contains(args[0].split('=').next().unwrap_or_default()),
            "{args:?}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(!env.out().exists(), "{args:?} created the report directory");
    }
    let stats = env.stats();
    assert_eq!(stats["requests"].as_u64().unwrap_or(0), 0, "{stats}");

    // The bounds themselves are accepted.
    for args in [
        &["--timeout", "86400", "--rate", "0.001"][..],
        &["--timeout", "0.5", "--rate", "1000000", "--retries", "100"][..],
    ] {
        env.cmd("nxlink").arg(&input).args(args).assert().code(0);
        std::fs::remove_dir_all(env.out()).unwrap();
    }
}

#[test]
fn sandbox_numbers_in_range() {
    let env = TestEnv::new();
    for args in [
        &["--clock-offset-ms", "9223372036854775807"][..],
        &["--clock-offset-ms", "-86400001"][..],
        &["--latency-ms", "18446744073709551615"][..],
        &["--port", "65536"][..],
    ] {
        let out = env
            .bare()
            .args(["sandbox", "--port", "0"])
            .args(args)
            .timeout(std::time::Duration::from_secs(20))
            .output()
            .unwrap();
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(args[0]), "{args:?}: {stderr}");
    }
}

#[test]
fn a_huge_header_cell_does_not_crash_the_plan_view() {
    let env = TestEnv::new();
    let long = "x".repeat(70_000);
    let input = env.write("a.csv", format!("name,phone,{long}\nA,6281000001,1\n"));
    let out = env
        .cmd("itnio")
        .args(["--job", "1", "--dry-run"])
        .arg(&input)
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        &stderr[..stderr.len().min(500)]
    );
    assert!(stderr.contains("Plan for"));
    assert!(!stderr.contains("panicked"));
}

// ---------------------------------------------------------------------------------------
// 4. The panic hook

#[test]
fn a_panic_says_it_is_a_bug_and_where_the_journal_is() {
    let env = TestEnv::new();
    let input = env.write(
        "a.csv",
        "full_name,whats_app_phone\nA,6281000001\nB,6281000002\n",
    );
    let out = env
        .cmd("nxlink")
        .arg(&input)
        .env("CUSTIMPORT_DEBUG_PANIC", "collector")
        .env("CUSTIMPORT_NXLINK_ACCESS_SECRET", "sandbox-secret")
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(101), "{stderr}");
    assert_eq!(stdout, "");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    let dir = env.out().display().to_string();
    assert!(
        lines[0].starts_with("custimport: internal error at src/pipeline/collect.rs:")
            && lines[0].contains("this is a bug in custimport")
            && lines[0].contains("report it to the custimport maintainers")
            && lines[0].ends_with(&format!(
                "The journal and reports of this run are in {dir}: continue it with --resume --out {dir}."
            )),
        "{stderr}"
    );
    assert_not_echoed(&out, "sandbox-secret", "panic");
    assert!(!env.out().join(".lock").exists());
    // The run can be continued as said.
    env.cmd("nxlink")
        .arg(&input)
        .arg("--resume")
        .assert()
        .code(0);
    assert_eq!(env.held_nxlink().len(), 2);
}

// ---------------------------------------------------------------------------------------
// 5. Exits

#[test]
fn no_lock_is_left_behind_at_any_exit() {
    let env = TestEnv::new();
    let input = env.write("a.csv", "full_name,whats_app_phone\nA,6281000001\nB,bad\n");
    let other = env.write("b.csv", "full_name,whats_app_phone\nC,6281000003\n");
    let lock = env.out().join(".lock");
    let check = |case: &str, cmd: &mut assert_cmd::Command, code: i32| {
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(code), "{case}: {:?}", text(&out));
        assert!(!lock.exists(), "{case}: .lock left behind");
    };
    check("exit 1", env.cmd("nxlink").arg(&input), 1);
    check(
        "exit 2: reports there, no --resume",
        env.cmd("nxlink").arg(&input),
        2,
    );
    check(
        "exit 2: --resume with another input",
        env.cmd("nxlink").arg(&other).arg("--resume"),
        2,
    );
    check(
        "exit 1: --resume",
        env.cmd("nxlink").arg(&input).arg("--resume"),
        1,
    );
    std::fs::remove_dir_all(env.out()).unwrap();
    check(
        "exit 3: credentials refused",
        env.cmd("nxlink")
            .arg(&input)
            .env("CUSTIMPORT_NXLINK_ACCESS_SECRET", "wrong"),
        3,
    );
    std::fs::remove_dir_all(env.out()).unwrap();
    check(
        "exit 2: a journal that is not one",
        {
            private_dir(&env.out());
            std::fs::write(env.out().join("journal.jsonl"), "not a journal\n").unwrap();
            env.cmd("nxlink").arg(&input).arg("--resume")
        },
        2,
    );
    std::fs::remove_dir_all(env.out()).unwrap();
    check(
        "exit 1: dry run",
        env.cmd("nxlink").arg(&input).arg("--dry-run"),
        1,
    );
}

#[test]
fn a_second_signal_exits_at_once_and_removes_the_lock() {
    use std::io::BufRead;
    let env = TestEnv::latency(400);
    let input = env.write("a.csv", customers(200));
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("custimport"))
        .current_dir(env.dir.path())
        .env_clear()
        .env("HOME", env.dir.path())
        .env("CUSTIMPORT_NXLINK_ACCESS_KEY", "sandbox")
        .env("CUSTIMPORT_NXLINK_ACCESS_SECRET", "sandbox-secret")
        .env("CUSTIMPORT_NXLINK_TENANT_ID", "1")
        .env("CUSTIMPORT_NXLINK_APP_KEY", "sandbox")
        .arg("nxlink")
        .arg(&input)
        .args(["--base-url", &env.base_url, "--out"])
        .arg(env.out())
        .args(["--batch-size", "10", "--concurrency", "2"])
        // Relative paths: the continuing line makes them absolute.
        .args(["--metrics-file", "m.prom", "--state", "st/s.db"])
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = i32::try_from(child.id()).unwrap();
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    // Sending has begun (the signal handlers are set before): the first requests are in.
    while env.stats()["requests"].as_u64().unwrap_or(0) == 0 {
        std::thread::yield_now();
    }
    assert!(env.out().join(".lock").exists());
    // SAFETY: signalling our own child.
    unsafe { libc::kill(pid, libc::SIGINT) };
    let first = lines.next().unwrap().unwrap();
    assert!(first.starts_with("custimport: stopping"), "{first}");
    // SAFETY: as above.
    unsafe { libc::kill(pid, libc::SIGINT) };
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    // The last line is the command that continues the run.
    assert_eq!(rest.len(), 2, "{rest:?}");
    assert_eq!(
        rest[0],
        "custimport: second signal, exiting now; continue the run with:"
    );
    assert!(
        rest[1].ends_with(&format!(
            " nxlink --batch-size 10 --concurrency 2 --base-url {} --metrics-file {} --state {} --resume --out {} {}",
            env.base_url,
            env.path("m.prom").display(),
            env.path("st/s.db").display(),
            env.out().display(),
            input.display()
        )),
        "{rest:?}"
    );
    assert!(!env.out().join(".lock").exists());
}

/// A tiny tmpfs mounted for a test, unmounted when dropped.
struct TinyDisk(PathBuf);

impl TinyDisk {
    fn mount(dir: PathBuf, size: &str) -> Option<TinyDisk> {
        std::fs::create_dir_all(&dir).unwrap();
        let ok = std::process::Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(&dir)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            Some(TinyDisk(dir))
        } else {
            eprintln!(
                "notice: cannot mount a tmpfs here (not root?); the full-disk test is skipped"
            );
            None
        }
    }

    fn resize(&self, size: &str) {
        let ok = std::process::Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(&self.0)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "remount failed");
    }
}

impl Drop for TinyDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

fn customers(n: usize) -> String {
    let mut s = String::from("full_name,whats_app_phone,note\n");
    for i in 0..n {
        s.push_str(&format!("Customer {i},62812{i:08},{}\n", "n".repeat(40)));
    }
    s
}

#[test]
fn a_full_disk_says_what_the_journal_holds_and_resume_continues() {
    let env = TestEnv::new();
    let Some(disk) = TinyDisk::mount(env.path("disk"), "64k") else {
        return;
    };
    let rows = 3000;
    let input = env.write("a.csv", customers(rows));
    let out_dir = disk.0.join("out");
    let out = env
        .cmd("nxlink")
        .arg(&input)
        .arg("--out")
        .arg(&out_dir)
        .arg("--json")
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    let summary: Value = serde_json::from_str(stdout.trim()).expect("a JSON summary on stdout");
    assert_eq!(summary["exit_code"], 3);
    assert_eq!(summary["total"].as_u64(), Some(rows as u64));
    let count = |k: &str| summary[k].as_u64().unwrap();
    assert_eq!(
        count("succeeded") + count("failed") + count("unknown") + count("pending"),
        rows as u64
    );
    assert!(count("pending") > 0, "{summary}");
    let dir = out_dir.display();
    let said = summary["stopped"].as_str().unwrap();
    // The success report fills the disk first (the journal holds no report cells).
    assert!(
        (said.starts_with("cannot write the journal: No space left on device")
            || said.starts_with("cannot write success.csv: No space left on device"))
            && said.contains(&format!(
                "The journal {dir}/journal.jsonl records which rows were sent"
            ))
            && said.contains(&format!(
                "run the same command with --resume --out {dir} to continue"
            )),
        "{said}"
    );
    assert_eq!(
        stderr.lines().next(),
        Some(format!("error: {said}").as_str())
    );
    assert!(!out_dir.join(".lock").exists());

    // Room again: --resume sends the rest, each row once.
    disk.resize("16m");
    env.cmd("nxlink")
        .arg(&input)
        .arg("--out")
        .arg(&out_dir)
        .arg("--resume")
        .assert()
        .code(0);
    assert_eq!(env.held_nxlink().len(), rows);
    let success = crate::env::read_csv(&out_dir.join("success.csv"));
    assert_eq!(success.len(), rows);
}

#[test]
fn a_disk_full_from_the_start_sends_nothing_and_says_so() {
    let env = TestEnv::new();
    let Some(disk) = TinyDisk::mount(env.path("disk"), "64k") else {
        return;
    };
    // Fill it up.
    let filler = disk.0.join("filler");
    let mut f = std::fs::File::create(&filler).unwrap();
    let block = vec![b'x'; 4096];
    while std::io::Write::write_all(&mut f, &block).is_ok() {}
    drop(f);
    let input = env.write("a.csv", customers(10));
    let out_dir = disk.0.join("out");
    let out = env
        .cmd("nxlink")
        .arg(&input)
        .arg("--out")
        .arg(&out_dir)
        .arg("--json")
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let summary: Value = serde_json::from_str(stdout.trim()).expect("a JSON summary on stdout");
    assert_eq!(summary["exit_code"], 2);
    let said = summary["stopped"].as_str().unwrap();
    assert!(
        said.contains("No space left on device") && said.ends_with("; nothing was sent"),
        "{said}"
    );
    assert_eq!(env.held_nxlink().len(), 0);
    assert!(!out_dir.join(".lock").exists());
    // Nothing to resume: the next run (with room) needs no --resume.
    std::fs::remove_file(&filler).unwrap();
    env.cmd("nxlink")
        .arg(&input)
        .arg("--out")
        .arg(&out_dir)
        .assert()
        .code(0);
    assert_eq!(env.held_nxlink().len(), 10);
}
