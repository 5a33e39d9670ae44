//! Unit tests of `secret`.
use super::*;

#[test]
fn never_formatted() {
    let s = Secret::new("S3CRETxyz");
    assert_eq!(s.expose(), "S3CRETxyz");
    assert!(!format!("{s:?} {s} {:?}", Some(&s)).contains("S3CRET"));
}
