//! Unit tests of `input::cells`.
use super::*;

#[test]
fn cells_keep_their_boundaries_including_empty_ones() {
    let cells: Cells = ["a", "", "bc", "", "中文"].into_iter().collect();
    assert_eq!(cells.len(), 5);
    assert_eq!(cells.get(0), Some("a"));
    assert_eq!(cells.get(1), Some(""));
    assert_eq!(cells.get(2), Some("bc"));
    assert_eq!(cells.get(3), Some(""));
    assert_eq!(cells.get(4), Some("中文"));
    assert_eq!(cells.get(5), None);
    assert_eq!(cells.to_vec(), ["a", "", "bc", "", "中文"]);
    assert_eq!(cells, vec!["a", "", "bc", "", "中文"]);
    assert_eq!(format!("{cells:?}"), r#"["a", "", "bc", "", "中文"]"#);
    assert!(Cells::default().is_empty());
    assert_eq!(Cells::default().get(0), None);
    let trailing_empty: Cells = ["x", ""].into_iter().collect();
    assert_eq!(trailing_empty.to_vec(), ["x", ""]);
}

#[test]
fn from_parts_accepts_only_char_boundaries_in_order() {
    let ok = Cells::from_parts("ab中x".into(), vec![0, 2, 2, 5]).unwrap();
    assert_eq!(ok.to_vec(), ["ab", "", "中", "x"]);
    assert_eq!(
        Cells::from_parts(String::new(), vec![]),
        Some(Cells::default())
    );
    assert_eq!(
        Cells::from_parts(String::new(), vec![0]).unwrap().to_vec(),
        [""]
    );
    // Inside the three bytes of 中.
    assert!(Cells::from_parts("ab中x".into(), vec![0, 3]).is_none());
    assert!(Cells::from_parts("abc".into(), vec![0, 2, 1]).is_none());
    assert!(Cells::from_parts("abc".into(), vec![1]).is_none());
    assert!(Cells::from_parts("abc".into(), vec![0, 4]).is_none());
    assert!(Cells::from_parts("abc".into(), vec![]).is_none());
}
