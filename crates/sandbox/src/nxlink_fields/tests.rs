//! Unit tests of `nxlink_fields`.
use super::*;
use serde_json::json;

fn err(c: Value) -> String {
    check_customer(3, &c).expect_err("should be refused")
}

#[test]
fn accepts_the_seed_example() {
    let c = json!({"full_name": "zhang san", "first_name": "san", "last_name": "zhang",
        "sms_phone": "18163725558", "whats_app_phone": "8618163725558", "viber_phone": "8618163725558",
        "country": "China", "email": "a@example.com", "address": "Wujin District",
        "birthday": "1976-04-12", "remark": "Important customer", "tagStr": "test,99",
        "time_zone": "GMT+8", "gender": 1, "belong_seat_user": "x@sandbox.test", "weight": 5,
        "line": "line123456", "zalo": "1234567890", "messenger": "9876543210",
        "instagram": "1122334455", "customize_field": "{\"customize_1_14\": \"aa\"}"});
    assert_eq!(check_customer(0, &c), Ok(()));
    assert_eq!(
        check_customer(0, &json!({"full_name": "a", "line": "x", "gender": null})),
        Ok(())
    );
}

#[test]
fn names_index_and_field() {
    let base = |k: &str, v: Value| {
        let mut c = json!({"full_name": "n", "whats_app_phone": "62812"});
        c[k] = v;
        c
    };
    let cases = [
        (
            base("birthday", json!("1990-02-30")),
            "customers[3].birthday: must be yyyy-MM-dd",
        ),
        (
            base("birthday", json!("1990-2-3")),
            "customers[3].birthday: must be yyyy-MM-dd",
        ),
        (
            base("sms_phone", json!("+6281")),
            "customers[3].sms_phone: must be numeric (digits only)",
        ),
        (
            base("sms_phone", json!(6281)),
            "customers[3].sms_phone: must be a string",
        ),
        (
            base("whats_app_phone", json!("1".repeat(31))),
            "customers[3].whats_app_phone: at most 30 characters",
        ),
        (
            base("email", json!("a@b@c")),
            "customers[3].email: must be an email address (one @ with text on both sides)",
        ),
        (
            base("email", json!("@b")),
            "customers[3].email: must be an email address (one @ with text on both sides)",
        ),
        (
            base("gender", json!(2)),
            "customers[3].gender: must be the integer 0 or 1",
        ),
        (
            base("gender", json!("1")),
            "customers[3].gender: must be the integer 0 or 1",
        ),
        (
            base("weight", json!(6)),
            "customers[3].weight: must be an integer from 1 to 5",
        ),
        (
            base("customize_field", json!({"a": 1})),
            "customers[3].customize_field: must be a string",
        ),
        (
            base("customize_field", json!("[1]")),
            "customers[3].customize_field: must be a string holding a JSON object",
        ),
        (
            base("nickname", json!("x")),
            "customers[3].nickname: unknown field",
        ),
        (
            base("full_name", json!("")),
            "customers[3].full_name: required",
        ),
        (
            base("full_name", json!(" \t\u{3000} ")),
            "customers[3].full_name: required",
        ),
        (
            base("full_name", json!("😀".repeat(128))),
            "customers[3].full_name: at most 255 UTF-16 code units (a character beyond U+FFFF counts 2)",
        ),
        (
            base("line", json!(format!("{}a", "😀".repeat(25)))),
            "customers[3].line: at most 50 UTF-16 code units (a character beyond U+FFFF counts 2)",
        ),
        (
            base("line", json!("é".repeat(51))),
            "customers[3].line: at most 50 characters",
        ),
    ];
    for (c, want) in cases {
        assert_eq!(err(c), want);
    }
    assert!(err(json!({"whats_app_phone": "1"})).ends_with("full_name: required"));
    assert!(err(json!({"full_name": "a", "sms_phone": null})).contains("cannot all be empty"));
    assert_eq!(err(json!("x")), "customers[3]: must be a JSON object");
    // Lengths are characters and UTF-16 units, not bytes.
    assert_eq!(
        check_customer(0, &json!({"full_name": "é".repeat(255), "line": "x"})),
        Ok(())
    );
    assert_eq!(
        check_customer(
            0,
            &json!({"full_name": "中".repeat(255), "line": "😀".repeat(25)})
        ),
        Ok(())
    );
    assert_eq!(utf16_len("a中😀"), 4);
}

#[test]
fn dates() {
    assert!(is_date("2000-02-29"));
    assert!(!is_date("1900-02-29"));
    assert!(!is_date("2023-13-01"));
    assert!(is_date("2024-02-29") && !is_date("2023-02-29") && !is_date("2023-04-31"));
    assert!(is_date("9999-12-31") && !is_date("2023-00-10") && !is_date("2023-01-00"));
    assert!(!is_date("0000-01-01"));
    assert!(!is_date("2023-01-1a"));
    assert!(!is_date("2023/01/01"));
}
