//! Unit tests of `input::source`.
use super::*;

fn read_all(src: &mut Source) -> Vec<u8> {
    let mut out = Vec::new();
    src.reader.read_to_end(&mut out).unwrap();
    out
}

#[test]
fn identity_round_trips_and_covers_every_byte() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.csv");
    std::fs::write(&p, "a,b\n1,2\n").unwrap();
    let a = open(&p).unwrap().origin.identity().unwrap().unwrap();
    assert_eq!(a.len, 8);
    assert_eq!(Identity::parse(&a.to_string()), Some(a.clone()));
    assert_eq!(Identity::parse("8:abc"), None);
    std::fs::write(&p, "a,b\n1,3\n").unwrap();
    let b = open(&p).unwrap().origin.identity().unwrap().unwrap();
    assert_eq!(b.len, 8);
    assert_ne!(a, b);
}

#[test]
fn the_reader_notices_a_file_that_shrank_or_changed() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.csv");
    std::fs::write(&p, "a,b\n1,2\n3,4\n").unwrap();
    let mut src = open(&p).unwrap();
    let id = src.origin.identity().unwrap();
    assert_eq!(
        src.origin.changed_while_read(id.as_ref()),
        None,
        "not read yet"
    );
    std::fs::write(&p, "a,b\n1,2\n").unwrap();
    assert_eq!(read_all(&mut src), b"a,b\n1,2\n");
    let why = src.origin.changed_while_read(id.as_ref()).unwrap();
    assert!(
        why.starts_with("shrank while it was read: it had 12 bytes"),
        "{why}"
    );

    let mut src = open(&p).unwrap();
    let id = src.origin.identity().unwrap();
    std::fs::write(&p, "a,b\n1,3\n").unwrap();
    read_all(&mut src);
    let why = src.origin.changed_while_read(id.as_ref()).unwrap();
    assert!(
        why.starts_with("changed while it was read: same size"),
        "{why}"
    );

    let mut src = open(&p).unwrap();
    read_all(&mut src);
    assert_eq!(src.origin.changed_while_read(None), None);
}

#[test]
fn paths_that_are_not_files_say_what_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let msg = |r: Result<(), InputError>| r.unwrap_err().to_string();
    assert_eq!(
        msg(check_path(dir.path())),
        format!("{d}: is a directory, not a file")
    );
    assert_eq!(
        open(dir.path()).err().map(|e| e.to_string()),
        Some(format!("{d}: is a directory, not a file"))
    );
    let missing = dir.path().join("nope.csv");
    assert_eq!(
        msg(check_path(&missing)),
        format!("{}: no such file (check the path)", missing.display())
    );
    let null = open(Path::new("/dev/null")).unwrap();
    assert!(null.origin.is_stream());
    assert!(null.origin.identity().unwrap().is_none());
}

/// How many lines a file holds, counted from its start.
mod line_count {
    use super::*;

    #[test]
    fn lines_of_a_file_and_none_for_a_stream() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        for (text, want) in [("", 0), ("a\nb\n", 2), ("a\nb", 2), ("h\n1\n2\n3", 4)] {
            let p = dir.path().join("f.csv");
            std::fs::write(&p, text).unwrap_or_else(|e| panic!("{e}"));
            let src = open(&p).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(src.origin.line_count(), Some(want), "{text:?}");
        }
        assert_eq!(Origin::default().line_count(), None);
    }
}
