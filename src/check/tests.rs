//! Unit tests of `check`.
use super::*;
use std::time::Duration;

#[test]
fn offsets_are_signed_whole_seconds() {
    let sent = UNIX_EPOCH + Duration::from_millis(1_000_000_700);
    let at = Exchange {
        sent,
        received: sent + Duration::from_millis(100),
    };
    let date = |s: u64| Some(UNIX_EPOCH + Duration::from_secs(s));
    assert_eq!(offset_text(None, at), "unknown (no Date header)");
    // Stamped within the exchange's second, or the second before (cut).
    assert_eq!(offset_text(date(1_000_000), at), "+0 s");
    assert_eq!(offset_text(date(1_000_300), at), "+300 s");
    assert_eq!(offset_text(date(999_910), at), "-90 s");
    assert_eq!(offset_text(date(1_000_001), at), "+1 s");
    assert_eq!(offset_text(date(999_999), at), "-1 s");
}
