//! Unit tests of `messages`.
use super::*;

#[test]
fn long_lines_are_cut_and_lists_counted() {
    let long = "é".repeat(5000);
    let text = format!("short\n{long}\nend");
    let b = bounded(&text);
    assert!(b.split('\n').all(|l| l.len() <= MAX_LINE), "{}", b.len());
    assert!(b.starts_with("short\n") && b.ends_with("bytes not shown)\nend"));
    assert!(b.contains(&format!("({} more bytes not shown)", 10_000 - 4032)));
    assert_eq!(bounded("a\nb"), "a\nb");
    let items = (0..1000).map(|i| format!("col{i}"));
    let l = list(items, 40);
    assert_eq!(l, "col0, col1, col2, col3, col4, col5, col6 … and 993 more");
    assert_eq!(list(["a", "b"], 40), "a, b");
}
