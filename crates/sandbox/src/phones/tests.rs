//! Unit tests of `phones`.
use super::*;

#[test]
fn e164_digits() {
    for ok in [
        "8618163725558",
        "6281234567801",
        "639171234567",
        "919876543210",
        "12015550123",
        "5511961234567",
        "16045550123",
        "390212345678",
    ] {
        assert!(is_e164_digits(ok), "{ok}");
    }
    for bad in [
        "",
        "081234567801",
        "6281",
        "62812345678901234",
        "999123456789",
        "8612345678901",
        "62 812",
        "+6281234567801",
    ] {
        assert!(!is_e164_digits(bad), "{bad}");
    }
}

#[test]
fn refusals_per_provider() {
    let c = serde_json::json!({"full_name": "a", "sms_phone": "18163725558",
        "whats_app_phone": "8618163725558", "viber_phone": "0812"});
    assert_eq!(
        nxlink_refusal(&c).as_deref(),
        Some(
            "viber_phone: not a valid international number (country code and number, digits only)"
        )
    );
    let c = serde_json::json!({"full_name": "a", "sms_phone": "0812", "email": "a@b"});
    assert_eq!(nxlink_refusal(&c), None);
    assert!(itnio_refuses("081234567801"));
    assert!(!itnio_refuses("6281234567801"));
    assert!(!itnio_refuses("a1B2+c3/D4=e5"));
}
