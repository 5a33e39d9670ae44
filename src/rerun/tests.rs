//! Unit tests of `rerun`.
use super::*;

#[test]
fn quoted_words_and_absolute_paths() {
    let given: Vec<OsString> = ["custimport", "nxlink", "--map", "full_name=Full Name"]
        .map(OsString::from)
        .into();
    let line = command(&given, Path::new("/r/out dir"), Path::new("/in/a'b.csv")).unwrap();
    assert_eq!(
        line,
        r#"custimport nxlink --map 'full_name=Full Name' --resume --out '/r/out dir' "/in/a'b.csv""#
    );
    assert_eq!(
        shlex::split(&line).unwrap()[7],
        "/in/a'b.csv",
        "a shell reads the words back"
    );
    assert!(command(&given, Path::new("/r"), Path::new("-")).is_none());
}

#[test]
fn a_value_starting_with_a_dash_is_joined() {
    assert_eq!(
        option("map", OsStr::new("-x")),
        vec![OsString::from("--map=-x")]
    );
    assert_eq!(option("map", OsStr::new("x")).len(), 2);
}
