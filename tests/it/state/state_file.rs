//! The state database opened like `--out` (links, owners, modes, FIFOs, another program's
//! SQLite file, an earlier custimport state adopted), outcomes recorded off the send path
//! while another process holds the state, itnio `already_present` rows forgotten, and
//! `custimport state` escaping what the database holds.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::env::TestEnv;

/// nxlink rows `N{i}{tag}` with WhatsApp numbers `6281{i:07}`.
pub(crate) fn nx_csv(rows: std::ops::RangeInclusive<u64>, tag: &str) -> String {
    let mut s = String::from("name,phone\n");
    for i in rows {
        s.push_str(&format!("N{i}{tag},6281{i:07}\n"));
    }
    s
}

pub(crate) fn received(env: &TestEnv) -> u64 {
    env.stats()["rows_received"].as_u64().unwrap()
}

pub(crate) fn summary(out: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap()
}

/// An incremental nxlink run with the state at `state`: exit code, stderr, rows received.
pub(crate) fn run(env: &TestEnv, input: &Path, state: &Path, out: &str) -> (i32, String, u64) {
    let before = received(env);
    let o = env
        .cmd("nxlink")
        .arg(input)
        .args(["--skip-unchanged", "--state"])
        .arg(state)
        .arg("--out")
        .arg(env.path(out))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    (o.status.code().unwrap(), stderr, received(env) - before)
}

fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn chmod(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A state holding rows 1..=5, in its own private directory.
pub(crate) fn made_state(env: &TestEnv, input: &Path) -> PathBuf {
    let state = env.path("st/state.db");
    assert_eq!(run(env, input, &state, "made").0, 0);
    state
}

#[test]
fn a_state_at_a_symbolic_link_is_refused_dangling_or_not() {
    let env = TestEnv::new();
    let input = env.write("a.csv", nx_csv(1..=5, ""));
    let real = made_state(&env, &input);
    let target = env.path("st/elsewhere.db");
    for (name, to) in [("dangling", &target), ("link", &real)] {
        let link = env.path(&format!("st/{name}.db"));
        std::os::unix::fs::symlink(to, &link).unwrap();
        let (code, stderr, sent) = run(&env, &input, &link, name);
        assert_eq!((code, sent), (2, 0), "{stderr}");
        assert!(
            stderr.contains(&format!("--state {}: is a symbolic link", link.display())),
            "{stderr}"
        );
    }
    // Nothing was created where the dangling link points.
    assert!(!target.exists());
    // `custimport state` refuses it too.
    env.bare()
        .args(["state", "--state"])
        .arg(env.path("st/link.db"))
        .assert()
        .code(2);
}

#[test]
fn a_state_of_another_user_or_writable_by_others_is_refused() {
    let env = TestEnv::new();
    let input = env.write("a.csv", nx_csv(1..=5, ""));
    let state = made_state(&env, &input);
    chmod(&state, 0o660);
    let (code, stderr, sent) = run(&env, &input, &state, "r1");
    assert_eq!((code, sent), (2, 0), "{stderr}");
    assert!(
        stderr.contains("is writable by its group (mode 660)"),
        "{stderr}"
    );
    chmod(&state, 0o600);
    chmod(state.parent().unwrap(), 0o777);
    let (code, stderr, _) = run(&env, &input, &state, "r2");
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("is writable by group and others (mode 777), who could plant files beside the database; run `chmod go-w"),
        "{stderr}"
    );
    // A shared directory such as /tmp is not to be changed.
    chmod(state.parent().unwrap(), 0o1777);
    let (code, stderr, _) = run(&env, &input, &state, "r2b");
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("(mode 1777), who could plant files beside the database; keep the state in a directory of your own"),
        "{stderr}"
    );
    chmod(state.parent().unwrap(), 0o700);
    // Another user's file (the tests run as root: make it uid 4242's).
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        std::os::unix::fs::chown(&state, Some(4242), Some(4242)).unwrap();
        let (code, stderr, sent) = run(&env, &input, &state, "r3");
        assert_eq!((code, sent), (2, 0), "{stderr}");
        assert!(
            stderr.contains("belongs to another user (uid 4242)"),
            "{stderr}"
        );
        std::os::unix::fs::chown(&state, Some(0), Some(0)).unwrap();
    }
    // Back to normal: the rows are unchanged.
    assert_eq!(run(&env, &input, &state, "r4").0, 0);
    assert_eq!(summary(&env.path("r4"))["unchanged"], json!(5));
}

#[test]
fn a_state_readable_by_others_is_made_private_with_a_note() {
    let env = TestEnv::new();
    let input = env.write("a.csv", nx_csv(1..=5, ""));
    let state = made_state(&env, &input);
    chmod(&state, 0o644);
    let (code, stderr, sent) = run(&env, &input, &state, "r1");
    assert_eq!((code, sent), (0, 0), "{stderr}");
    assert!(
        stderr.contains(
            "was readable by group and others (mode 644); it holds phone numbers: made it 0600"
        ),
        "{stderr}"
    );
    assert_eq!(mode(&state), 0o600);
}

#[test]
fn a_new_state_is_private_in_a_private_directory() {
    let env = TestEnv::new();
    let input = env.write("a.csv", nx_csv(1..=5, ""));
    let state = env.path("new/deeper/state.db");
    assert_eq!(run(&env, &input, &state, "r1").0, 0);
    assert_eq!(mode(&state), 0o600);
    assert_eq!(mode(state.parent().unwrap()), 0o700);
    assert_eq!(mode(&env.path("new")), 0o700);
    let conn = rusqlite::Connection::open(&state).unwrap();
    let id: i32 = conn
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .unwrap();
    assert_eq!(id, 0x4349_4d50);
}

#[test]
fn another_programs_sqlite_file_is_refused_and_left_byte_identical() {
    let env = TestEnv::new();
    let input = env.write("a.csv", nx_csv(1..=5, ""));
    std::fs::create_dir(env.path("st")).unwrap();
    chmod(&env.path("st"), 0o700);
    let foreign = env.path("st/notes.db");
    {
        let c = rusqlite::Connection::open(&foreign).unwrap();
        c.execute_batch("CREATE TABLE notes (t TEXT); INSERT INTO notes VALUES ('keep me');")
            .unwrap();
    }
    chmod(&foreign, 0o600);
    let not_sqlite = env.write("st/text.db", "just some text, not a database\n".repeat(200));
    chmod(&not_sqlite, 0o600);
    for (path, why, out) in [
        (&foreign, "is another program's SQLite database", "r1"),
        (&not_sqlite, "is not a SQLite database", "r2"),
    ] {
        let before = std::fs::read(path).unwrap();
        let (code, stderr, sent) = run(&env, &input, path, out);
        assert_eq!((code, sent), (2, 0), "{stderr}");
        assert!(stderr.contains(why), "{stderr}");
        let o = env
            .bare()
            .args(["state", "--state"])
            .arg(path)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&o.stderr).contains(why));
        assert_eq!(std::fs::read(path).unwrap(), before);
    }
    let names: Vec<String> = std::fs::read_dir(env.path("st"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn a_fifo_at_the_state_path_is_named_as_such() {
    let env = TestEnv::new();
    let input = env.write("a.csv", nx_csv(1..=5, ""));
    std::fs::create_dir(env.path("st")).unwrap();
    chmod(&env.path("st"), 0o700);
    let fifo = env.path("st/state.db");
    let name = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
    let (code, stderr, sent) = run(&env, &input, &fifo, "r1");
    assert_eq!((code, sent), (2, 0), "{stderr}");
    assert!(
        stderr.contains("is a FIFO (named pipe), not a regular file"),
        "{stderr}"
    );
    assert!(!stderr.contains("disk I/O error"), "{stderr}");
}

#[test]
fn a_state_written_before_the_application_id_is_adopted() {
    let env = TestEnv::new();
    let input = env.write("a.csv", nx_csv(1..=5, ""));
    let state = made_state(&env, &input);
    {
        let c = rusqlite::Connection::open(&state).unwrap();
        c.pragma_update(None, "application_id", 0).unwrap();
    }
    let (code, stderr, sent) = run(&env, &input, &state, "r1");
    assert_eq!((code, sent), (0, 0), "{stderr}");
    assert_eq!(summary(&env.path("r1"))["unchanged"], json!(5));
    let c = rusqlite::Connection::open(&state).unwrap();
    let id: i32 = c
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .unwrap();
    assert_eq!(id, 0x4349_4d50);
}

#[test]
fn a_locked_state_delays_only_the_recording_within_the_wait_budget() {
    let env = TestEnv::new();
    let first = env.write("a.csv", nx_csv(1..=3000, ""));
    let state = made_state(&env, &first);
    // Every row changed: 300 batches of 10, each group of outcomes a write to the state.
    let input = env.write("b.csv", nx_csv(1..=3000, "x"));
    let lock = rusqlite::Connection::open(&state).unwrap();
    lock.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let started = Instant::now();
    let o = env
        .cmd("nxlink")
        .env("CUSTIMPORT_STATE_WAIT", "3")
        .arg(&input)
        .args(["--skip-unchanged", "--batch-size", "10", "--state"])
        .arg(&state)
        .arg("--out")
        .arg(env.path("locked"))
        .output()
        .unwrap();
    let took = started.elapsed();
    eprintln!("run with the state locked: {took:?}");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert_eq!(summary(&env.path("locked"))["succeeded"], json!(3000));
    // The wait budget (3 s) and the run itself, never a wait per write.
    assert!(took < Duration::from_secs(12), "{took:?} {stderr}");
    assert!(
        stderr.contains("is locked by another process; sending goes on"),
        "{stderr}"
    );
    assert!(
        stderr.contains("the outcomes of 3000 row(s) were not recorded in the state; the next --skip-unchanged run sends those rows again"),
        "{stderr}"
    );
    lock.execute_batch("ROLLBACK").unwrap();
    drop(lock);
    // Not recorded: sent again, then remembered.
    let (code, stderr, sent) = run(&env, &input, &state, "again");
    assert_eq!((code, sent), (0, 3000), "{stderr}");
    assert_eq!(run(&env, &input, &state, "third").2, 0);
}

#[test]
fn state_listing_escapes_what_the_database_holds() {
    let env = TestEnv::new();
    let input = env.write("a.csv", nx_csv(1..=5, ""));
    let state = made_state(&env, &input);
    {
        let c = rusqlite::Connection::open(&state).unwrap();
        c.execute(
            "UPDATE scopes SET account = 'AK\u{1b}[2J', app = 'app\u{202e}x', endpoint = 'http://e\u{7}'",
            [],
        )
        .unwrap();
    }
    let o = env
        .bare()
        .args(["state", "--state"])
        .arg(&state)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains(r"AK\x1b[2J"), "{text}");
    assert!(text.contains(r"app\u{202e}x"), "{text}");
    assert!(text.contains(r"http://e\x07"), "{text}");
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}') && !text.contains('\u{202e}'),
        "{text}"
    );
}

/// itnio, one lead `62850000001` with `amount` = `amount`, into job 9 with the state at
/// `state`: exit code, summary, rows the sandbox received.
fn itnio_run(env: &TestEnv, state: &Path, amount: &str, out: &str) -> (i32, Value, u64) {
    let input = env.write(
        &format!("{out}.csv"),
        format!("name,phone,amount\nL1,62850000001,{amount}\n"),
    );
    let before = received(env);
    let o = env
        .cmd("itnio")
        .arg(&input)
        .args([
            "--job",
            "9",
            "--skip-unchanged",
            "--retries",
            "10",
            "--batch-size",
            "1",
            "--state",
        ])
        .arg(state)
        .arg("--out")
        .arg(env.path(out))
        .output()
        .unwrap();
    let code = o.status.code().unwrap();
    (code, summary(&env.path(out)), received(env) - before)
}

#[test]
fn itnio_already_present_rows_are_forgotten_not_remembered_as_sent() {
    // Seed 3: the first run's lead goes through; the second run's first attempt is an HTTP 500
    // that applied nothing, and its retry meets the old lead: "already exists in this task".
    let env = TestEnv::faults("500=0.5", 3);
    let state = env.path("st/state.db");
    let (code, s, _) = itnio_run(&env, &state, "100", "r1");
    assert_eq!((code, &s["succeeded"]), (0, &json!(1)));
    let (code, s, _) = itnio_run(&env, &state, "200", "r2");
    assert_eq!(code, 0);
    assert_eq!(
        (&s["succeeded"], &s["already_present"]),
        (&json!(1), &json!(1))
    );
    // The job holds the old amount, not what the second run sent.
    let held = env.held_itnio(9);
    assert_eq!(held.len(), 1);
    assert!(held[0].to_string().contains("100"), "{held:?}");
    // So the next run must not call the new content unchanged: it is sent (and refused).
    let (code, s, sent) = itnio_run(&env, &state, "200", "r3");
    assert_eq!(s["unchanged"], json!(0));
    assert_eq!((code, sent, &s["failed"]), (1, 1, &json!(1)));
}

#[test]
fn state_lists_a_locked_state_after_a_short_wait() {
    let env = TestEnv::new();
    let input = env.write("a.csv", nx_csv(1..=5, ""));
    let state = made_state(&env, &input);
    let lock = rusqlite::Connection::open(&state).unwrap();
    // An outcome not merged yet (a killed run's), so that listing has something to merge.
    lock.execute_batch(
        "INSERT INTO outcomes (scope_id, key, fingerprint, at) VALUES (1, 'k', NULL, 1); BEGIN EXCLUSIVE",
    )
    .unwrap();
    let started = Instant::now();
    let o = env
        .bare()
        .args(["state", "--json", "--state"])
        .arg(&state)
        .output()
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stderr).contains("locked by another process"));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["scopes"][0]["rows"], json!(5));
}
