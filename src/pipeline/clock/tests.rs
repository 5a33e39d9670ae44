//! Unit tests of `pipeline::clock`.
use super::*;
use std::time::Duration;

#[test]
fn corrects_once() {
    let c = Clock::default();
    let before = c.now_ms();
    assert_eq!(c.correct(SystemTime::now()), None);
    let ahead = SystemTime::now() + Duration::from_secs(300);
    let skew = c.correct(ahead).unwrap_or_default();
    assert!((299_000..=301_000).contains(&skew), "{skew}");
    assert!(c.now_ms() - before >= 299_000);
    assert_eq!(c.correct(ahead), None);
}
