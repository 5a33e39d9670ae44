//! Unit tests of the field rules.

use super::*;

#[test]
fn phones_are_normalised() {
    assert_eq!(
        phone("p", "+62 812-3456-7890", 30).unwrap(),
        "6281234567890"
    );
    assert_eq!(phone("p", "(021) 555.1234", 30).unwrap(), "0215551234");
    assert_eq!(phone("p", " +62 812 ", 30).unwrap(), "62812");
    assert!(phone("p", "++62812", 30).is_err());
    assert!(phone("p", "62812a", 30).is_err());
    assert!(phone("p", "-", 30).is_err());
    assert!(phone("p", "1234567890", 9).is_err());
    let e = phone("p", "6.28123E+12", 30).unwrap_err();
    assert!(e.message.contains("scientific"), "{}", e.message);
    assert!(phone("p", "62+812", 30).is_err());
}

#[test]
fn guard_marks_are_removed() {
    let t = |s: &str, p: bool| {
        text("f", Some(Cell::Text(s)), p)
            .unwrap()
            .map(|c| c.into_owned())
    };
    assert_eq!(t("'=SUM(A1)", false).as_deref(), Some("=SUM(A1)"));
    assert_eq!(t("'+62812", true).as_deref(), Some("+62812"));
    assert_eq!(t("'62812", true).as_deref(), Some("62812"));
    assert_eq!(t("'62812", false).as_deref(), Some("'62812"));
    assert_eq!(t("'hello", true).as_deref(), Some("'hello"));
    assert_eq!(t("'\tx", false).as_deref(), Some("\tx"));
    assert_eq!(t("", false), None);
    // Free text is sent as it is; a cell of whitespace only is absent.
    assert_eq!(t(" a b ", false).as_deref(), Some(" a b "));
    for blank in [" ", "\t", " \u{3000}\u{a0} "] {
        assert_eq!(t(blank, false), None, "{blank:?}");
        assert_eq!(t(blank, true), None, "{blank:?}");
    }
    let e = text("name", Some(Cell::Text("Bu\u{FFFD}i")), false).unwrap_err();
    assert_eq!(e.code, "invalid_encoding");
}

#[test]
fn replacement_char_found_among_its_byte_neighbours() {
    // Full-width forms and U+FFFC share the lead byte EF (and U+FFFC also BF).
    for clean in [
        "",
        "abc",
        "\u{FF01}\u{FFFC}\u{FFFE}",
        "中文",
        "\u{EFFF}",
        "锟斤",
        "锟 斤拷",
        "開",
    ] {
        assert!(!has_lost_text(clean), "{clean:?}");
    }
    for dirty in [
        "\u{FFFD}",
        "a\u{FFFD}",
        "\u{FFFC}\u{FFFD}",
        "\u{FF01}x\u{FFFD}y",
        "锟斤拷",
        "Budi 锟斤拷锟斤拷",
        "锟锟斤拷",
    ] {
        assert!(has_lost_text(dirty), "{dirty:?}");
    }
}

#[test]
fn json_cells() {
    let n: Value = serde_json::from_str("6281234567890123456789").unwrap();
    assert_eq!(
        text("f", Some(Cell::Json(&n)), true).unwrap().as_deref(),
        Some("6281234567890123456789")
    );
    assert_eq!(
        text("f", Some(Cell::Json(&Value::Null)), true).unwrap(),
        None
    );
    for bad in ["6281234567802.0", "-6281", "6.2e12"] {
        let v: Value = serde_json::from_str(bad).unwrap();
        assert_eq!(
            text("p", Some(Cell::Json(&v)), true).unwrap_err().code,
            "invalid_phone",
            "{bad}"
        );
    }
    let arr: Value = serde_json::from_str("[1]").unwrap();
    assert_eq!(
        text("f", Some(Cell::Json(&arr)), true).unwrap_err().code,
        "invalid_type"
    );
}

#[test]
fn genders() {
    for m in [
        "1",
        "male",
        "MALE",
        "m",
        "M",
        "男",
        "L",
        "l",
        "Laki-laki",
        "LAKI-LAKI",
        "pria",
        "Pria",
        "lelaki",
        "Lalaki",
        "nam",
        "NAM",
        "ชาย",
        "男性",
        "先生",
        " L ",
    ] {
        assert!(gender("g", m).unwrap(), "{m}");
    }
    for f in [
        "0",
        "female",
        "Female",
        "f",
        "F",
        "女",
        "P",
        "p",
        "Perempuan",
        "wanita",
        "WANITA",
        "babae",
        "nữ",
        "Nữ",
        "NỮ",
        "nu\u{031B}\u{0303}",
        "หญิง",
        "女性",
        "女士",
    ] {
        assert!(!gender("g", f).unwrap(), "{f}");
    }
    for bad in ["2", "man", "x", "", "laki", "nu", "男女"] {
        assert!(gender("g", bad).is_err(), "{bad}");
    }
}

#[test]
fn birthdays() {
    let ymd = |v: &str| birthday("b", v, DateOrder::Ymd);
    assert_eq!(ymd("1990-1-2").unwrap(), "1990-01-02");
    assert_eq!(ymd(" 1990-1-2 ").unwrap(), "1990-01-02");
    assert!(gender("g", " M ").unwrap());
    assert_eq!(ymd("1990/12/31").unwrap(), "1990-12-31");
    assert_eq!(ymd("2000.02.29").unwrap(), "2000-02-29");
    for bad in [
        "1900-02-29",
        "1990-13-01",
        "1990-1-32",
        "90-1-2",
        "1990-01",
        "1990-1/2",
        "31/12/1990",
        "1990-01-02T00:00",
        "0000-01-01",
        "0000-02-29",
    ] {
        assert!(ymd(bad).is_err(), "{bad}");
    }
}

#[test]
fn birthdays_in_every_order_are_calendar_checked() {
    let read = |v: &str, o| birthday("b", v, o);
    assert_eq!(read("17/05/1990", DateOrder::Dmy).unwrap(), "1990-05-17");
    assert_eq!(read("1.2.1990", DateOrder::Dmy).unwrap(), "1990-02-01");
    assert_eq!(read("05/17/1990", DateOrder::Mdy).unwrap(), "1990-05-17");
    assert_eq!(read("1-2-1990", DateOrder::Mdy).unwrap(), "1990-01-02");
    // A four-digit year first is year-first in every order.
    assert_eq!(read("1990-05-17", DateOrder::Dmy).unwrap(), "1990-05-17");
    assert_eq!(read("1990/05/17", DateOrder::Mdy).unwrap(), "1990-05-17");
    for (bad, order) in [
        ("29/02/1900", DateOrder::Dmy),
        ("29/02/2001", DateOrder::Dmy),
        ("31/04/1990", DateOrder::Dmy),
        ("02/29/1900", DateOrder::Mdy),
        ("04/31/1990", DateOrder::Mdy),
        ("13/13/1990", DateOrder::Dmy),
        ("17/05/90", DateOrder::Dmy),
        ("17/05/1990", DateOrder::Mdy),
    ] {
        assert!(read(bad, order).is_err(), "{bad} {order:?}");
    }
    assert_eq!(read("29/02/2000", DateOrder::Dmy).unwrap(), "2000-02-29");
}

#[test]
fn a_date_that_reads_another_way_names_that_order() {
    let msg = |v: &str, o| birthday("birthday", v, o).unwrap_err().message;
    assert_eq!(
        msg("17/05/1990", DateOrder::Ymd),
        "birthday: expected a real date as yyyy-MM-dd (or yyyy/M/d, yyyy.M.d); it reads \
         day-first (d/M/yyyy): give --date-order dmy"
    );
    assert!(msg("05/17/1990", DateOrder::Ymd).ends_with("give --date-order mdy"));
    assert!(msg("05/17/1990", DateOrder::Dmy).ends_with("give --date-order mdy"));
    assert!(msg("17/05/1990", DateOrder::Mdy).ends_with("give --date-order dmy"));
    // Both other orders read it: day-first is named.
    assert!(msg("05/06/199x", DateOrder::Ymd).ends_with("(or yyyy/M/d, yyyy.M.d)"));
    assert_eq!(
        other_order("05/06/1990", DateOrder::Ymd),
        Some(DateOrder::Dmy)
    );
    assert_eq!(other_order("31/02/1990", DateOrder::Ymd), None);
    assert!(!msg("31/02/1990", DateOrder::Ymd).contains("--date-order"));
}

#[test]
fn lengths_count_characters() {
    assert!(max_len("n", "牛小信", 3).is_ok());
    assert!(max_len("n", "牛小信", 2).is_err());
    assert!(digits("d", "123", 3).is_ok());
    assert!(digits("d", "12a", 3).is_err());
}
