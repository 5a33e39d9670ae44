//! Unit tests of `events`.
use super::*;

#[test]
fn keeps_the_last_entries_numbered() {
    let events = Events::default();
    for rows in 0..KEEP + 5 {
        events.push(Event {
            rows,
            ..Event::default()
        });
    }
    let list = events.list();
    assert_eq!(list.len(), KEEP);
    assert_eq!((list[0].seq, list[0].rows), (6, 5));
    assert_eq!(list[KEEP - 1].seq, KEEP as u64 + 5);
    events.reset();
    assert!(events.list().is_empty());
    events.push(Event::default());
    assert_eq!(events.list()[0].seq, 1);
}
