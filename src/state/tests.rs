//! Unit tests of `state`.
use std::borrow::Cow;

use super::index::{key_hash, Index};
use super::*;

fn spec(job: Option<u64>) -> ScopeSpec {
    ScopeSpec {
        provider: if job.is_some() { "itnio" } else { "nxlink" }.into(),
        endpoint: "https://api.example.com".into(),
        account: "AK".into(),
        tenant: job.is_none().then_some(123),
        app: "app".into(),
        job,
    }
}

fn found(state: &State, scope: i64, keys: &[&str]) -> Vec<(usize, Fingerprint)> {
    let mut out = vec![];
    state
        .lookup(scope, keys, |i, fp| out.push((i, fp)))
        .unwrap();
    out.sort();
    out
}

#[test]
fn fingerprints_depend_on_the_salt_and_on_every_byte() {
    let a = fingerprint(b"type=1", br#"{"full_name":"A"}"#);
    assert_eq!(a, fingerprint(b"type=1", br#"{"full_name":"A"}"#));
    assert_ne!(a, fingerprint(b"type=0", br#"{"full_name":"A"}"#));
    assert_ne!(a, fingerprint(b"type=1", br#"{"full_name":"B"}"#));
    // The salt and the row cannot trade bytes.
    assert_ne!(fingerprint(b"ab", b"c"), fingerprint(b"a", b"bc"));
}

#[test]
fn a_new_database_is_private_in_a_private_directory_with_its_schema() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deep").join("er").join("state.db");
    let state = State::open(&path).unwrap();
    assert_eq!(state.user_version().unwrap(), SCHEMA_VERSION);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700);
        assert_eq!(mode(&dir.path().join("deep")), 0o700);
    }
    let mode: String = state
        .sql(|c| c.query_row("PRAGMA journal_mode", [], |r| r.get(0)))
        .unwrap();
    assert_eq!(mode, "wal");
    drop(state);
    // Opening again keeps what is there.
    let state = State::open(&path).unwrap();
    assert!(state.scopes().unwrap().is_empty());
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let state = State::open(&path).unwrap();
    state
        .sql(|c| c.pragma_update(None, "user_version", SCHEMA_VERSION + 1))
        .unwrap();
    drop(state);
    let e = State::open(&path).unwrap_err().to_string();
    assert!(e.contains("newer than this custimport"), "{e}");
    assert!(State::open_existing(&path).is_err());
}

#[test]
fn open_existing_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no").join("state.db");
    assert!(State::open_existing(&path).unwrap().is_none());
    assert!(!path.parent().unwrap().exists());
}

#[test]
fn scopes_are_found_again_and_differ_by_every_field() {
    let dir = tempfile::tempdir().unwrap();
    let mut state = State::open(&dir.path().join("s.db")).unwrap();
    let a = state.enter_scope(&spec(None), 100).unwrap();
    assert_eq!(state.enter_scope(&spec(None), 200).unwrap(), a);
    assert_eq!(state.find_scope(&spec(None)).unwrap(), Some(a));
    let job9 = state.enter_scope(&spec(Some(9)), 300).unwrap();
    let job10 = state.enter_scope(&spec(Some(10)), 300).unwrap();
    assert_ne!(job9, a);
    assert_ne!(job9, job10);
    let mut other = spec(None);
    other.endpoint = "https://other.example.com".into();
    assert_eq!(state.find_scope(&other).unwrap(), None);
    let list = state.scopes().unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!(list[0].id, a);
    assert_eq!(list[0].created_at, 100);
    assert_eq!(list[0].last_run_at, 200);
    assert_eq!(list[1].spec.job, Some(9));
    assert_eq!(list[1].spec.tenant, None);
}

#[test]
fn canonical_endpoints() {
    assert_eq!(
        ScopeSpec::canonical_endpoint("HTTPS://API-idn.nxlink.ai:443/"),
        "https://api-idn.nxlink.ai"
    );
    assert_eq!(
        ScopeSpec::canonical_endpoint("http://127.0.0.1:8787/prefix/"),
        "http://127.0.0.1:8787/prefix"
    );
}

#[test]
fn outcomes_are_merged_latest_first_and_looked_up_by_batch() {
    let dir = tempfile::tempdir().unwrap();
    let mut state = State::open(&dir.path().join("s.db")).unwrap();
    let scope = state.enter_scope(&spec(None), 1).unwrap();
    let other = state.enter_scope(&spec(Some(9)), 1).unwrap();
    let fa = fingerprint(b"", b"a");
    let fb = fingerprint(b"", b"b");
    state
        .record(
            scope,
            &[(Cow::from("wa:1"), fa), (Cow::from("wa:2"), fb)],
            &[],
            10,
        )
        .unwrap();
    // Recorded outcomes count once merged.
    assert!(found(&state, scope, &["wa:1"]).is_empty());
    assert_eq!(state.merge().unwrap(), 2);
    assert_eq!(state.merge().unwrap(), 0);
    // Another scope does not see them.
    assert!(found(&state, other, &["wa:1"]).is_empty());
    assert_eq!(
        found(&state, scope, &["wa:3", "wa:1", "wa:2", "wa:1"]),
        vec![(1, fa), (2, fb), (3, fa)]
    );
    // A later success replaces the fingerprint; an unknown outcome forgets the key; within
    // one merge the latest outcome of a key wins.
    state
        .record(scope, &[(Cow::from("wa:1"), fb)], &[Cow::from("wa:2")], 20)
        .unwrap();
    state
        .record(scope, &[(Cow::from("wa:3"), fa)], &[], 20)
        .unwrap();
    state.record(scope, &[], &[Cow::from("wa:3")], 20).unwrap();
    state.merge().unwrap();
    assert_eq!(
        found(&state, scope, &["wa:1", "wa:2", "wa:3"]),
        vec![(0, fb)]
    );
    let list = state.scopes().unwrap();
    assert_eq!(list[0].rows, 1);
    let at: i64 = state
        .sql(|c| c.query_row("SELECT succeeded_at FROM customers", [], |r| r.get(0)))
        .unwrap();
    assert_eq!(at, 20);
}

#[test]
fn unchanged_by_index_and_by_sql_agree() {
    let dir = tempfile::tempdir().unwrap();
    let mut state = State::open(&dir.path().join("s.db")).unwrap();
    let scope = state.enter_scope(&spec(None), 1).unwrap();
    let rows: Vec<(Cow<'_, str>, Fingerprint)> = (0..500)
        .map(|i| {
            let k = format!("wa:{i}");
            let fp = fingerprint(b"", k.as_bytes());
            (Cow::from(k), fp)
        })
        .collect();
    state.record(scope, &rows, &[], 1).unwrap();
    state.merge().unwrap();
    let in_memory = state.remembered(scope, 1000).unwrap();
    assert_eq!(in_memory.indexed_rows(), Some(500));
    let in_sql = state.remembered(scope, 499).unwrap();
    assert_eq!(in_sql.indexed_rows(), None);
    // Remembered and same, remembered and changed, not remembered, no key at all.
    let keys = [
        Some("wa:7"),
        Some("wa:8"),
        Some("wa:9999"),
        None,
        Some("wa:7"),
    ];
    let fps = [
        fingerprint(b"", b"wa:7"),
        fingerprint(b"", b"changed"),
        fingerprint(b"", b"wa:9999"),
        fingerprint(b"", b""),
        fingerprint(b"", b"wa:7"),
    ];
    for r in [&in_memory, &in_sql] {
        let mut asked = vec![];
        let u = state
            .unchanged(r, &keys, |i| {
                asked.push(i);
                fps[i]
            })
            .unwrap();
        assert_eq!(u, vec![true, false, false, false, true]);
        asked.sort();
        assert_eq!(asked, vec![0, 1, 4], "only remembered keys are hashed");
    }
}

#[test]
fn the_index_finds_every_entry_and_nothing_else() {
    for n in [0usize, 1, 7, 1000, 20_000] {
        let entries: Vec<(u64, u64)> = (0..n as u64)
            .map(|i| (key_hash(&format!("k{i}")), i))
            .collect();
        let index = Index::new(entries.clone());
        for (h, v) in &entries {
            assert_eq!(index.get(*h), &[(*h, *v)][..], "n={n}");
        }
        assert!(index.get(key_hash("absent")).is_empty());
        assert!(index.get(0).is_empty() && index.get(u64::MAX).is_empty());
    }
    // Colliding hashes are all returned.
    let index = Index::new(vec![(5, 1), (5, 2), (6, 3)]);
    assert_eq!(index.get(5), &[(5, 1), (5, 2)][..]);
}

#[test]
fn forget_removes_a_scope_and_its_rows_only() {
    let dir = tempfile::tempdir().unwrap();
    let mut state = State::open(&dir.path().join("s.db")).unwrap();
    let a = state.enter_scope(&spec(Some(1)), 1).unwrap();
    let b = state.enter_scope(&spec(Some(2)), 1).unwrap();
    let fp = fingerprint(b"", b"x");
    for s in [a, b] {
        state
            .record(s, &[(Cow::from("1"), fp), (Cow::from("2"), fp)], &[], 1)
            .unwrap();
    }
    state.merge().unwrap();
    // An outcome recorded but not merged yet goes with its scope.
    state.record(a, &[(Cow::from("3"), fp)], &[], 1).unwrap();
    assert_eq!(state.forget(&[a]).unwrap(), 2);
    state.merge().unwrap();
    let list = state.scopes().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].id, b);
    assert_eq!(list[0].rows, 2);
    // A scope entered again after being forgotten starts empty.
    let again = state.enter_scope(&spec(Some(1)), 5).unwrap();
    assert!(found(&state, again, &["1", "2"]).is_empty());
}

#[test]
fn two_connections_write_and_read_concurrently() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let scope = State::open(&path)
        .unwrap()
        .enter_scope(&spec(None), 1)
        .unwrap();
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let path = path.clone();
            std::thread::spawn(move || {
                let mut s = State::open(&path).unwrap();
                for i in 0..200 {
                    let key = format!("k{w}-{i}");
                    s.record(scope, &[(Cow::from(key), fingerprint(b"", b"x"))], &[], 1)
                        .unwrap();
                    let mut n = 0;
                    s.lookup(scope, &["k0-0", "k1-0"], |_, _| n += 1).unwrap();
                    assert!(n <= 2);
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let mut s = State::open(&path).unwrap();
    assert_eq!(s.merge().unwrap(), 400);
    assert_eq!(s.scopes().unwrap()[0].rows, 400);
}

#[test]
fn default_path_follows_xdg() {
    let env = |vars: &'static [(&'static str, &'static str)]| {
        move |k: &str| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        }
    };
    assert_eq!(
        default_path(&env(&[("XDG_STATE_HOME", "/x/state"), ("HOME", "/home/u")])),
        Some(PathBuf::from("/x/state/custimport/state.db"))
    );
    // A relative XDG_STATE_HOME is ignored, as the spec says.
    assert_eq!(
        default_path(&env(&[("XDG_STATE_HOME", "rel"), ("HOME", "/home/u")])),
        Some(PathBuf::from("/home/u/.local/state/custimport/state.db"))
    );
    assert_eq!(default_path(&env(&[])), None);
}

/// Costs on a state of 1M rows (run with `cargo test --release --lib state::tests::costs --
/// --ignored --nocapture`): recording in input order and merging, loading the index, and
/// deciding 1M rows by index and by batched SQL.
#[test]
#[ignore]
fn costs() {
    let dir = tempfile::tempdir().unwrap();
    let mut state = State::open(&dir.path().join("s.db")).unwrap();
    let scope = state.enter_scope(&spec(None), 1).unwrap();
    let n = 1_000_000u64;
    let keys: Vec<String> = (0..n)
        .map(|i| format!("wa:62812{:08}", i * 7919 % n))
        .collect();
    let fps: Vec<Fingerprint> = keys
        .iter()
        .map(|k| fingerprint(b"", k.as_bytes()))
        .collect();
    let t = std::time::Instant::now();
    for (chunk, fp) in keys.chunks(500).zip(fps.chunks(500)) {
        let rows: Vec<(Cow<'_, str>, Fingerprint)> = chunk
            .iter()
            .zip(fp)
            .map(|(k, f)| (Cow::from(k.as_str()), *f))
            .collect();
        state.record(scope, &rows, &[], 1).unwrap();
    }
    eprintln!("record 1M, 500 per transaction: {:?}", t.elapsed());
    let t = std::time::Instant::now();
    state.merge().unwrap();
    eprintln!("merge 1M: {:?}", t.elapsed());
    eprintln!(
        "db size: {} MB",
        std::fs::metadata(dir.path().join("s.db")).unwrap().len() >> 20
    );
    let t = std::time::Instant::now();
    let remembered = state.remembered(scope, MAX_INDEX_ROWS).unwrap();
    eprintln!("load index of 1M: {:?}", t.elapsed());
    for r in [remembered, state.remembered(scope, 0).unwrap()] {
        let t = std::time::Instant::now();
        let mut same = 0;
        for (chunk, fp) in keys.chunks(100).zip(fps.chunks(100)) {
            let refs: Vec<Option<&str>> = chunk.iter().map(|k| Some(k.as_str())).collect();
            let u = state.unchanged(&r, &refs, |i| fp[i]).unwrap();
            same += u.iter().filter(|u| **u).count();
        }
        eprintln!(
            "decide 1M (index: {:?}): {:?}",
            r.indexed_rows(),
            t.elapsed()
        );
        assert_eq!(same, n as usize);
    }
    let t = std::time::Instant::now();
    for (chunk, fp) in keys.chunks(500).take(20).zip(fps.chunks(500)) {
        let rows: Vec<(Cow<'_, str>, Fingerprint)> = chunk
            .iter()
            .zip(fp)
            .map(|(k, f)| (Cow::from(k.as_str()), fingerprint(b"x", &f[..])))
            .collect();
        state.record(scope, &rows, &[], 2).unwrap();
    }
    state.merge().unwrap();
    eprintln!("record and merge 10k changed rows: {:?}", t.elapsed());
}

#[test]
fn unmerged_outcomes_take_precedence_by_index_and_by_sql() {
    let dir = tempfile::tempdir().unwrap();
    let mut state = State::open(&dir.path().join("s.db")).unwrap();
    let scope = state.enter_scope(&spec(None), 1).unwrap();
    let (fa, fb, fc) = ([1u8; 16], [2u8; 16], [3u8; 16]);
    state
        .record(
            scope,
            &[(Cow::Borrowed("b"), fb), (Cow::Borrowed("c"), fc)],
            &[],
            1,
        )
        .unwrap();
    state.merge().unwrap();
    // Not merged: "a" succeeded, "b" forgotten (a killed run's outcomes, say).
    state
        .record(scope, &[(Cow::Borrowed("a"), fa)], &[Cow::Borrowed("b")], 2)
        .unwrap();
    let keys = [Some("a"), Some("b"), Some("c"), None];
    let fps = [fa, fb, fc, fa];
    for max in [100, 0] {
        let remembered = state.remembered(scope, max).unwrap();
        assert_eq!(remembered.indexed_rows().is_some(), max > 0);
        assert_eq!(
            state.unchanged(&remembered, &keys, |i| fps[i]).unwrap(),
            vec![true, false, true, false]
        );
    }
}

#[test]
fn another_programs_database_is_refused_unaltered_and_an_earlier_state_adopted() {
    let dir = tempfile::tempdir().unwrap();
    let foreign = dir.path().join("f.db");
    Connection::open(&foreign)
        .unwrap()
        .execute_batch("CREATE TABLE t (x)")
        .unwrap();
    let before = std::fs::read(&foreign).unwrap();
    let e = State::open(&foreign).unwrap_err().to_string();
    assert!(e.contains("another program's SQLite database"), "{e}");
    assert!(State::open_existing(&foreign).is_err());
    assert_eq!(std::fs::read(&foreign).unwrap(), before);

    let earlier = dir.path().join("e.db");
    drop(State::open(&earlier).unwrap());
    let c = Connection::open(&earlier).unwrap();
    c.pragma_update(None, "application_id", 0).unwrap();
    drop(c);
    let state = State::open(&earlier).unwrap();
    let id: i32 = state
        .sql(|c| c.query_row("PRAGMA application_id", [], |r| r.get(0)))
        .unwrap();
    assert_eq!(id, APPLICATION_ID);
}
