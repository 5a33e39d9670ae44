//! Inputs that try to fool the run, through the binary: a file edited between a run and its
//! `--resume` (every byte counts), streams (standard input, `/dev/stdin`, FIFOs, process
//! substitution) read once and never resumed, a directory and `/dev/null` as input, a file that
//! shrinks while it is read, formulas in phone columns, the sniffer's quote rule, header cells
//! of absurd length, and repeated header names.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::env::{cell, read_csv, TestEnv};

struct Ran {
    code: i32,
    stderr: String,
}

fn run(mut cmd: assert_cmd::Command) -> Ran {
    let out = cmd.output().unwrap();
    ran(out)
}

fn ran(out: Output) -> Ran {
    Ran {
        code: out.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `env.cmd(provider)` completed by `args`, run, and checked for exit `code`.
fn import(
    env: &TestEnv,
    provider: &str,
    code: i32,
    args: impl FnOnce(&mut assert_cmd::Command),
) -> Ran {
    let mut c = env.cmd(provider);
    args(&mut c);
    let r = run(c);
    assert_eq!(r.code, code, "exit code; stderr:\n{}", r.stderr);
    r
}

fn requests(env: &TestEnv) -> u64 {
    env.stats()["requests"].as_u64().unwrap()
}

/// `name,phone` rows N1.. with distinct phones.
fn rows_csv(n: usize) -> String {
    let mut s = String::from("name,phone\n");
    for i in 1..=n {
        s.push_str(&format!("N{i},6281{i:07}\n"));
    }
    s
}

/// The same command as a `std::process::Command`, to spawn and wait for.
fn spawnable(c: &assert_cmd::Command) -> Command {
    let mut s = Command::new(c.get_program());
    s.args(c.get_args()).env_clear();
    for (k, v) in c.get_envs() {
        if let Some(v) = v {
            s.env(k, v);
        }
    }
    if let Some(d) = c.get_current_dir() {
        s.current_dir(d);
    }
    s
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path; mkfifo only creates a file system entry.
    let rc = unsafe { libc::mkfifo(c.as_ptr(), 0o600) };
    assert_eq!(rc, 0, "mkfifo {}", path.display());
}

/// Writes `content` into the FIFO at `path` from a thread (opening it waits for a reader).
fn feed_fifo(path: PathBuf, content: String) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        if let Ok(mut f) = std::fs::OpenOptions::new().write(true).open(&path) {
            let _ = f.write_all(content.as_bytes());
        }
    })
}

/// The command line of `env.cmd("nxlink")`, run by bash so that `script` can use process
/// substitution: `$0` is the binary, `$1` the base URL, `$2` the report directory.
fn bash_nxlink(env: &TestEnv, script: &str) -> Ran {
    let out = Command::new("bash")
        .arg("-c")
        .arg(script)
        .arg(assert_cmd::cargo::cargo_bin("custimport"))
        .arg(&env.base_url)
        .arg(env.out())
        .current_dir(env.dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", env.dir.path())
        .env("XDG_CONFIG_HOME", env.path("xdg"))
        .env("CUSTIMPORT_NXLINK_ACCESS_KEY", "sandbox")
        .env("CUSTIMPORT_NXLINK_ACCESS_SECRET", "sandbox-secret")
        .env("CUSTIMPORT_NXLINK_TENANT_ID", "1")
        .env("CUSTIMPORT_NXLINK_APP_KEY", "sandbox")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    ran(out)
}

// ---------------------------------------------------------------------------------------------
// Resume identity

#[test]
fn resume_refuses_a_row_deleted_and_the_next_padded_to_the_same_size() {
    let env = TestEnv::new();
    // 1600 rows of 2000 bytes: 3.2 MB. `padding` maps to no nxlink field, so padding a row
    // changes nothing that is sent.
    let row = |i: usize, pad: usize| {
        let head = format!("N{i},6281{i:07},");
        format!("{head}{}\n", "x".repeat(pad - head.len() - 1))
    };
    let rows: Vec<String> = (1..=1600).map(|i| row(i, 2000)).collect();
    let original = format!("name,phone,padding\n{}", rows.concat());
    let input = env.write("big.csv", &original);
    import(&env, "nxlink", 0, |c| {
        c.arg(&input);
    });
    let sent = requests(&env);
    let summary = env.read("summary.json");

    // Row 800 deleted, row 801 padded by as much: same size, same first and last MiB.
    let mut edited = String::from("name,phone,padding\n");
    for (i, r) in rows.iter().enumerate().map(|(i, r)| (i + 1, r)) {
        match i {
            800 => {}
            801 => edited.push_str(&row(801, 4000)),
            _ => edited.push_str(r),
        }
    }
    const MIB: usize = 1 << 20;
    assert_eq!(edited.len(), original.len());
    assert!(original.len() > 2 * MIB);
    assert_eq!(edited[..MIB], original[..MIB]);
    assert_eq!(
        edited[edited.len() - MIB..],
        original[original.len() - MIB..]
    );
    std::fs::write(&input, &edited).unwrap();

    let r = import(&env, "nxlink", 2, |c| {
        c.arg(&input).arg("--resume");
    });
    assert!(
        r.stderr.contains("is not the input of the run in")
            && r.stderr
                .contains("the input changed since (same size, different bytes)"),
        "{}",
        r.stderr
    );
    assert_eq!(requests(&env), sent, "nothing sent");
    assert_eq!(env.read("summary.json"), summary, "reports untouched");

    // One byte anywhere is enough, and so is a byte more.
    let mut flipped = original.clone().into_bytes();
    flipped[MIB + 7] = b'y';
    std::fs::write(&input, &flipped).unwrap();
    let r = import(&env, "nxlink", 2, |c| {
        c.arg(&input).arg("--resume");
    });
    assert!(r.stderr.contains("the input changed since"), "{}", r.stderr);
    std::fs::write(&input, format!("{original}\n")).unwrap();
    let r = import(&env, "nxlink", 2, |c| {
        c.arg(&input).arg("--resume");
    });
    let (was, now) = (original.len(), original.len() + 1);
    assert!(
        r.stderr
            .contains(&format!("(it had {was} bytes, it now has {now})")),
        "{}",
        r.stderr
    );

    // The very same bytes resume (and send nothing: every row is done).
    std::fs::write(&input, &original).unwrap();
    import(&env, "nxlink", 0, |c| {
        c.arg(&input).arg("--resume");
    });
    assert_eq!(requests(&env), sent);
}

#[test]
fn resume_refuses_streams_and_says_to_save_the_input_to_a_file() {
    let env = TestEnv::new();
    let content = rows_csv(3);
    import(&env, "nxlink", 0, |c| {
        c.args(["-", "--format", "csv"])
            .write_stdin(content.clone());
    });
    assert_eq!(env.held_nxlink().len(), 3);
    let sent = requests(&env);
    let message = "is a stream (standard input, a pipe or a device), whose content cannot be checked against the run being resumed; save the input to a file and import that file";
    for path in ["-", "/dev/stdin"] {
        let r = import(&env, "nxlink", 2, |c| {
            c.args([path, "--format", "csv", "--resume"])
                .write_stdin(content.clone());
        });
        let name = if path == "-" { "standard input" } else { path };
        assert!(
            r.stderr
                .starts_with(&format!("error: --resume: {name} {message}")),
            "{path}: {}",
            r.stderr
        );
    }
    // A FIFO is refused without waiting for a writer.
    let fifo = env.path("pipe.csv");
    mkfifo(&fifo);
    let r = import(&env, "nxlink", 2, |c| {
        c.arg(&fifo).arg("--resume");
    });
    assert!(r.stderr.contains(message), "{}", r.stderr);

    // A file named like the stream does not resume the stream's run either.
    let file = env.write("saved.csv", &content);
    let r = import(&env, "nxlink", 2, |c| {
        c.arg(&file).arg("--resume");
    });
    assert!(
        r.stderr
            .contains("read its input from a stream (standard input)"),
        "{}",
        r.stderr
    );
    assert_eq!(requests(&env), sent, "nothing sent");
}

#[test]
fn resume_refuses_a_journal_of_the_older_format() {
    let env = TestEnv::new();
    let input = env.write("a.csv", rows_csv(3));
    import(&env, "nxlink", 0, |c| {
        c.arg(&input);
    });
    let sent = requests(&env);
    let path = env.out().join("journal.jsonl");
    let journal = std::fs::read_to_string(&path).unwrap();
    let (_, rest) = journal.split_once('\n').unwrap();
    let len = std::fs::metadata(&input).unwrap().len();
    let old = json!({"start": {"version": 1, "provider": "nxlink", "input": input.display().to_string(),
        "fingerprint": format!("{len}:00112233445566778899aabbccddeeff")}});
    std::fs::write(&path, format!("{old}\n{rest}")).unwrap();
    let r = import(&env, "nxlink", 2, |c| {
        c.arg(&input).arg("--resume");
    });
    assert!(
        r.stderr
            .contains("was written by an older version of custimport")
            && r.stderr.contains("start a new --out"),
        "{}",
        r.stderr
    );
    assert_eq!(requests(&env), sent);
}

// ---------------------------------------------------------------------------------------------
// Streams, directories, devices

#[test]
fn fifo_dev_stdin_and_process_substitution_are_read_as_streams() {
    let env = TestEnv::new();
    let fifo = env.path("pipe.csv");
    mkfifo(&fifo);
    let writer = feed_fifo(fifo.clone(), rows_csv(3));
    import(&env, "nxlink", 0, |c| {
        c.arg(&fifo);
    });
    writer.join().unwrap();
    assert_eq!(env.summary()["succeeded"], json!(3));

    let env = TestEnv::new();
    import(&env, "nxlink", 0, |c| {
        c.args(["/dev/stdin", "--format", "csv"])
            .write_stdin(rows_csv(4));
    });
    assert_eq!(env.summary()["succeeded"], json!(4));

    let env = TestEnv::new();
    let r = bash_nxlink(
        &env,
        r#""$0" nxlink <(printf 'name,phone\nA,62810000001\nB,62810000002\n') --format csv --base-url "$1" --out "$2""#,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(env.summary()["succeeded"], json!(2));
    assert_eq!(env.held_nxlink().len(), 2);
    // Without --format the name says nothing: asked for, as for standard input.
    let env = TestEnv::new();
    let r = bash_nxlink(
        &env,
        r#""$0" nxlink <(printf 'name,phone\n') --base-url "$1" --out "$2""#,
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("use --format csv|tsv|jsonl"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_directory_is_a_directory_and_dev_null_is_empty() {
    let env = TestEnv::new();
    for dir in ["folder.csv", "folder"] {
        std::fs::create_dir(env.path(dir)).unwrap();
        let r = import(&env, "nxlink", 2, |c| {
            c.arg(env.path(dir));
        });
        assert_eq!(
            r.stderr,
            format!(
                "error: {}: is a directory, not a file\n",
                env.path(dir).display()
            )
        );
        assert!(!env.out().exists(), "nothing created");
    }

    let r = import(&env, "nxlink", 0, |c| {
        c.args(["/dev/null", "--format", "csv"]);
    });
    assert!(
        r.stderr
            .contains("warning: /dev/null is empty: nothing to import"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("no such file"), "{}", r.stderr);
    let s = env.summary();
    assert_eq!(
        (s["total"].clone(), s["exit_code"].clone()),
        (json!(0), json!(0))
    );
    assert_eq!(requests(&env), 0);
}

#[test]
fn a_file_that_shrinks_while_read_is_a_warning_and_exit_1() {
    let env = TestEnv::latency(300);
    // 64 KiB rows, 8 MiB: past the 2 MiB the encoding check reads ahead (32 rows), the reader is
    // held back by the slow sandbox long before the end.
    let mut text = String::from("name,phone,padding\n");
    let mut i = 0;
    while text.len() < 8 << 20 {
        i += 1;
        let head = format!("N{i},6281{i:07},");
        text.push_str(&format!(
            "{head}{}\n",
            "x".repeat((64 << 10) - 1 - head.len())
        ));
    }
    let input = env.write("shrinks.csv", &text);
    let child = spawnable(&env.cmd("nxlink"))
        .arg(&input)
        .args(["--batch-size", "10", "--concurrency", "1", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Once the first request arrived, the reader is under way: cut the file to its first rows.
    let start = Instant::now();
    while requests(&env) == 0 {
        assert!(start.elapsed() < Duration::from_secs(60), "no request came");
        std::thread::sleep(Duration::from_millis(5));
    }
    std::fs::OpenOptions::new()
        .write(true)
        .open(&input)
        .unwrap()
        .set_len(4096)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let r = ran(out.clone());
    assert_eq!(r.code, 1, "{}", r.stderr);
    let size = text.len();
    assert!(
        r.stderr.contains(&format!(
            "warning: {} shrank while it was read: it had {size} bytes when the run started, ",
            input.display()
        )),
        "{}",
        r.stderr
    );
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["exit_code"], json!(1));
    assert!(
        s["input_changed"]
            .as_str()
            .is_some_and(|w| w.contains("shrank while it was read")),
        "{s}"
    );
    let total = s["total"].as_u64().unwrap();
    assert!(total < i as u64, "{s}");
    assert_eq!(
        s["succeeded"].as_u64().unwrap() + s["rejected"].as_u64().unwrap(),
        total,
        "{s}"
    );
}

// ---------------------------------------------------------------------------------------------
// Reports

#[test]
fn formulas_in_a_phone_column_are_guarded_in_failed_csv() {
    let env = TestEnv::new();
    let input = env.write(
        "f.csv",
        "name,phone\n\
         A,\"=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\"\n\
         B,@SUM(1)\n\
         C,+62 (812) 555-01\n\
         ,+62 812-555-02\n\
         D,-1+1\n",
    );
    import(&env, "nxlink", 1, |c| {
        c.arg(&input);
    });
    let failed = read_csv(&env.out().join("failed.csv"));
    let phones: Vec<(&str, &str)> = failed
        .iter()
        .map(|r| (cell(r, "custimport_row"), cell(r, "phone")))
        .collect();
    assert_eq!(
        phones,
        [
            ("1", "'=HYPERLINK(\"http://evil.example\",\"x\")"),
            ("2", "'@SUM(1)"),
            ("4", "+62 812-555-02"),
            ("5", "'-1+1"),
        ]
    );
    assert_eq!(
        env.summary()["succeeded"],
        json!(1),
        "row 3 is a phone number"
    );
}

// ---------------------------------------------------------------------------------------------
// CSV edges

#[test]
fn the_sniffer_opens_quotes_only_at_a_field_start() {
    let env = TestEnv::new();
    let input = env.write(
        "pipe.csv",
        "size (\")|name|phone\nS|Ann|62810000001\nM|Bob|62810000002\n",
    );
    import(&env, "nxlink", 0, |c| {
        c.arg(&input);
    });
    let mut names: Vec<String> = env
        .held_nxlink()
        .iter()
        .map(|c| c["full_name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["Ann", "Bob"]);
}

#[test]
fn header_cells_of_any_length_never_crash_the_plan_view() {
    for len in [65_530, 470_000] {
        let env = TestEnv::new();
        let long = "y".repeat(len);
        let input = env.write("long.csv", format!("name,phone,{long}\nA,62810000001,z\n"));
        let r = import(&env, "itnio", 0, |c| {
            c.args(["--job", "7", "--dry-run"]).arg(&input);
        });
        let cut = "y".repeat(49);
        assert!(
            r.stderr.contains(&format!(
                "  properties.{cut}… <- \"{}\"… (unmapped)\n",
                "y".repeat(60)
            )),
            "{len}: {}",
            &r.stderr[..r.stderr.len().min(2000)]
        );
        assert!(r.stderr.len() < 4000, "{len}: stderr of {}", r.stderr.len());
    }
}

#[test]
fn repeated_header_names_are_numbered_mapped_and_kept_in_failed_csv() {
    let env = TestEnv::new();
    let input = env.write(
        "dup.csv",
        "name,Phone,Phone,Note,Note\n\
         A,62810000001,62890000001,n1,m1\n\
         ,62810000002,62890000002,n2,m2\n",
    );
    let r = import(&env, "nxlink", 1, |c| {
        c.arg(&input).args([
            "--map",
            "whats_app_phone=Phone (2)",
            "--map",
            "sms_phone=Phone",
        ]);
    });
    let warning = format!("warning: {}: the header repeats column names: \"Phone\" (columns 2, 3) read as \"Phone\", \"Phone (2)\"; \"Note\" (columns 4, 5) read as \"Note\", \"Note (2)\"; use these names with --map (failed.csv keeps the original header)\n", input.display());
    assert!(r.stderr.contains(&warning), "{}", r.stderr);
    assert_eq!(r.stderr.matches("repeats column names").count(), 1);
    let held = env.held_nxlink();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0]["whats_app_phone"], json!("62890000001"));
    assert_eq!(held[0]["sms_phone"], json!("62810000001"));

    let failed = std::fs::read_to_string(env.out().join("failed.csv")).unwrap();
    let mut lines = failed.lines();
    assert_eq!(
        lines.next(),
        Some("name,Phone,Phone,Note,Note,custimport_row,custimport_outcome,custimport_code,custimport_error")
    );
    assert!(
        lines
            .next()
            .is_some_and(|l| l.starts_with(",62810000002,62890000002,n2,m2,2,rejected,")),
        "{failed}"
    );

    // The numbered names are what --map knows; the original name alone is the first column.
    let r = import(&env, "nxlink", 2, |c| {
        c.arg(&input)
            .args(["--dry-run", "--map", "whats_app_phone=Phone (3)"]);
    });
    assert!(
        r.stderr
            .contains("the input has no column \"Phone (3)\"; closest: \"Phone (2)\", \"Phone\"; its columns are: \"name\", \"Phone\", \"Phone (2)\", \"Note\", \"Note (2)\""),
        "{}",
        r.stderr
    );
}
