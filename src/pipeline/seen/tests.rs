//! Unit tests of `pipeline::seen`.
use super::*;

#[test]
fn first_rows() {
    let mut s = Seen::default();
    assert_eq!(s.first("6281", 1), First::New);
    assert_eq!(s.first("a@b.c", 2), First::New);
    assert_eq!(s.first("6281", 3), First::At(Some(1)));
    assert_eq!(s.first("a@b.c", 9), First::At(Some(2)));
    assert_eq!(s.first("big", u64::from(u32::MAX) + 5), First::New);
    assert_eq!(s.first("big", u64::from(u32::MAX) + 6), First::At(None));
    for i in 0..100_000u64 {
        assert_eq!(s.first(&format!("k{i}"), i + 10), First::New);
    }
    for i in (0..100_000u64).step_by(997) {
        assert_eq!(s.first(&format!("k{i}"), 0), First::At(Some(i + 10)));
    }
}

#[test]
fn sized_from_the_start_it_does_not_grow() {
    let mut s = Seen::with_capacity(20_000);
    let room = |s: &Seen| s.shards.iter().map(HashMap::capacity).sum::<usize>();
    let before = room(&s);
    for i in 0..20_000u64 {
        assert_eq!(s.first(&format!("6281{i:07}"), i + 1), First::New);
    }
    assert_eq!(room(&s), before, "no table grew");
    assert_eq!(s.first("62810000007", 0), First::At(Some(8)));
}

#[test]
fn an_entry_is_twelve_bytes() {
    assert_eq!(std::mem::size_of::<(Key, u32)>(), 12);
}
