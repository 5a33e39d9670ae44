//! Unit tests of `exit`.
use super::*;

#[test]
fn codes_match_the_contract() {
    let all = [
        (Exit::Success, 0),
        (Exit::Incomplete, 1),
        (Exit::Usage, 2),
        (Exit::Stopped, 3),
        (Exit::Interrupted, 130),
        (Exit::Terminated, 143),
    ];
    for (e, c) in all {
        assert_eq!(e.code(), c);
    }
}
