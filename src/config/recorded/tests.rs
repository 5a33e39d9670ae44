//! Unit tests of `config::recorded`.
use super::*;
use serde_json::json;

#[test]
fn values_are_described_as_options() {
    assert_eq!(describe("job", &json!(9)), "--job 9");
    assert_eq!(describe("phone_region", &json!("ID")), "--phone-region ID");
    assert_eq!(describe("phone_region", &Value::Null), "no --phone-region");
    assert_eq!(describe("strict_binding", &json!(true)), "--strict-binding");
    assert_eq!(
        describe("strict_binding", &json!(false)),
        "no --strict-binding"
    );
    assert_eq!(describe("endpoint", &json!("sandbox")), "--sandbox");
    assert_eq!(
        describe("endpoint", &json!("https://a.test")),
        "--base-url https://a.test"
    );
    assert_eq!(
        describe("map", &json!(["name=A", "phone=B"])),
        "--map name=A --map phone=B"
    );
    assert_eq!(
        describe("account", &json!({"api_key": "k\u{1b}", "app_id": "a"})),
        "the account api key \"k\\\\x1b\", app id \"a\""
    );
}
