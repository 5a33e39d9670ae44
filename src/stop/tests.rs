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

#[test]
fn advice_for_pending_rows_is_given_only_when_some_are_pending() {
    let s = Stop::default();
    assert!(s.fatal_advising("cause", ", and resume"));
    assert_eq!(s.message_for(3).as_deref(), Some("cause, and resume"));
    assert_eq!(s.message_for(0).as_deref(), Some("cause"));
    // A later stop changes neither the message nor the advice.
    assert!(!s.fatal_advising("other", ", other"));
    assert_eq!(s.message_for(1).as_deref(), Some("cause, and resume"));
    let plain = Stop::default();
    plain.fatal("plain cause");
    assert_eq!(plain.message_for(5).as_deref(), Some("plain cause"));
}
