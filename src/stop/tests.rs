//! Unit tests of `stop`.
use super::*;

#[test]
fn first_reason_wins() {
    let s = Stop::default();
    assert!(!s.is_set());
    assert!(s.set(Reason::Fatal, "bad key"));
    assert!(!s.set(Reason::Interrupt, "sig"));
    assert_eq!(s.reason(), Some(Reason::Fatal));
    assert_eq!(s.message().as_deref(), Some("bad key"));
    assert_eq!(Reason::Terminate.exit(), Exit::Terminated);
}
