//! Tests of the fault kinds that give bad answers (vague, omitted, contradictory, miscounted,
//! variant spellings, anonymous lines, redirects, huge and endless bodies, escapes, parameter
//! errors) and of the `--refuse` rules, over HTTP: the answer, what is held, the stats and the
//! events.
//!
//! Invariant: every test uses a plan whose kind has probability 1, so each request draws it.

use std::time::Duration;

use serde_json::{json, Value};

use super::{client, get_json, it_body, nx_body, start, Req};
use crate::hostile::{variant_line, ANON_LINE, ESCAPE_MESSAGE};
use crate::{FaultKind, FaultPlan, Sandbox, SandboxConfig};

async fn with(faults: FaultPlan) -> Sandbox {
    start(SandboxConfig {
        faults,
        fault_seed: 5,
        ..SandboxConfig::default()
    })
    .await
}

async fn with_plan(plan: &str) -> Sandbox {
    with(plan.parse().expect("valid plan")).await
}

fn fault_count(sb: &Sandbox, kind: &str) -> u64 {
    sb.stats().faults.get(kind).copied().unwrap_or(0)
}

/// Five nxlink customers, phones `62810000001`..`62810000005`.
fn nx_five() -> Req {
    let rows: Vec<Value> = (1..=5)
        .map(|i| json!({"full_name": format!("N{i}"), "whats_app_phone": format!("6281000000{i}")}))
        .collect();
    Req::nxlink(nx_body(1, json!(rows)))
}

/// Five itnio persons for job 9, phones `62810000001`..`62810000005`.
fn it_five() -> Req {
    let rows: Vec<Value> = (1..=5)
        .map(|i| json!({"name": format!("N{i}"), "phoneNumber": format!("6281000000{i}")}))
        .collect();
    Req::itnio(it_body(9, json!(rows)))
}

fn indexes(v: &Value, list: &str) -> Vec<u64> {
    v["data"][list]
        .as_array()
        .unwrap_or_else(|| panic!("{list} in {v}"))
        .iter()
        .map(|i| i["index"].as_u64().expect("index"))
        .collect()
}

/// The one event of the sandbox.
fn only_event(sb: &Sandbox) -> crate::Event {
    let events = sb.events();
    assert_eq!(events.len(), 1, "{events:?}");
    events.into_iter().next().expect("one event")
}

#[tokio::test]
async fn vague_forms_are_applied_and_confirm_nothing() {
    let nx = [
        ("vague_missing", None),
        ("vague_null", Some(json!(null))),
        ("vague_empty", Some(json!({}))),
        ("vague_string", Some(json!("internal error"))),
        (
            "vague_lists",
            Some(json!({"successItems": [], "failItems": []})),
        ),
    ];
    for (kind, data) in nx {
        let sb = with_plan(&format!("{kind}=1")).await;
        let v = nx_five().send(&sb).await.json();
        assert_eq!(v["code"], json!(0), "{kind}");
        assert_eq!(v.get("data").cloned(), data, "{kind}");
        assert_eq!(sb.nxlink_customers().len(), 5, "{kind}: applied");
        assert_eq!(fault_count(&sb, kind), 1);
        assert_eq!(only_event(&sb).fault, Some(kind));
    }
    for (kind, data) in [
        ("vague_string", json!("internal error")),
        ("vague_empty", json!({})),
    ] {
        let sb = with_plan(&format!("{kind}=1")).await;
        let v = it_five().send(&sb).await.json();
        assert_eq!(
            v,
            json!({"status": "0", "reason": "success", "data": data}),
            "{kind}"
        );
        assert_eq!(sb.itnio_persons(9).len(), 5, "{kind}: applied");
    }
}

#[tokio::test]
async fn seeded_vague_counts_under_both_names() {
    let sb = with_plan("vague=1").await;
    for _ in 0..20 {
        let v = nx_five().send(&sb).await.json();
        assert_eq!(v["code"], json!(0));
        assert!(
            v.get("data")
                .is_none_or(|d| d["successItems"].as_array().is_none_or(|a| a.is_empty())),
            "{v}"
        );
    }
    let stats = sb.stats();
    assert_eq!(stats.faults["vague"], 20);
    let forms: u64 = [
        "vague_missing",
        "vague_null",
        "vague_empty",
        "vague_string",
        "vague_lists",
    ]
    .iter()
    .map(|k| stats.faults[*k])
    .sum();
    assert_eq!(forms, 20);
    assert!(stats.faults["vague_string"] > 0 && stats.faults["vague_lists"] > 0);
    // itnio knows only two of the forms.
    let sb = with_plan("vague=1").await;
    for _ in 0..10 {
        let v = it_five().send(&sb).await.json();
        assert!(v["data"].is_string() || v["data"] == json!({}), "{v}");
    }
    let stats = sb.stats();
    assert_eq!(
        stats.faults["vague_string"] + stats.faults["vague_empty"],
        10
    );
}

#[tokio::test]
async fn omit_leaves_the_picked_row_out_with_agreeing_counts() {
    let sb = with_plan("omit=1").await;
    let v = nx_five().send(&sb).await.json();
    let e = only_event(&sb);
    let k = e.row.expect("a row is picked") as u64;
    assert_eq!(e.phone, Some(format!("6281000000{}", k + 1)));
    let want: Vec<u64> = (0..5).filter(|i| *i != k).collect();
    assert_eq!(indexes(&v, "successItems"), want);
    assert_eq!(indexes(&v, "failItems"), Vec::<u64>::new());
    assert_eq!(
        (&v["data"]["totalCount"], &v["data"]["successCount"]),
        (&json!(4), &json!(4))
    );
    assert_eq!(
        sb.nxlink_customers().len(),
        5,
        "applied, the omitted row too"
    );
    // itnio has no such answer: answered correctly, not counted.
    let v = it_five().send(&sb).await.json();
    assert_eq!(v["data"], json!([]));
    assert_eq!(fault_count(&sb, "omit"), 1);
}

#[tokio::test]
async fn contradictions_list_the_picked_row_twice() {
    let sb = with_plan("contradict_both=1").await;
    let v = nx_five().send(&sb).await.json();
    let k = only_event(&sb).row.expect("row") as u64;
    assert_eq!(indexes(&v, "successItems"), [0, 1, 2, 3, 4]);
    assert_eq!(indexes(&v, "failItems"), [k]);
    assert_eq!(v["data"]["totalCount"], json!(6));

    let sb = with_plan("contradict_twice=1").await;
    let v = nx_five().send(&sb).await.json();
    let k = only_event(&sb).row.expect("row") as u64;
    let mut want: Vec<u64> = (0..5).collect();
    want.insert(k as usize + 1, k);
    assert_eq!(indexes(&v, "successItems"), want);
    assert_eq!(v["data"]["successCount"], json!(6));
    assert_eq!(sb.nxlink_customers().len(), 5);
}

#[tokio::test]
async fn miscount_keeps_the_lists_and_breaks_the_counts() {
    let sb = with_plan("miscount=1").await;
    let body = json!({"type": 1, "tenant_id": 1, "app_key": "sandbox", "strict_binding": true,
        "customers": [{"full_name": "a", "sms_phone": "1"},
                      {"full_name": "b", "sms_phone": "2", "belong_seat_user": "ghost"}]})
    .to_string();
    let v = Req::nxlink(body).send(&sb).await.json();
    assert_eq!(indexes(&v, "successItems"), [0]);
    assert_eq!(indexes(&v, "failItems"), [1]);
    assert_eq!(
        (
            &v["data"]["totalCount"],
            &v["data"]["successCount"],
            &v["data"]["failCount"]
        ),
        (&json!(3), &json!(2), &json!(0))
    );
    assert_eq!(sb.nxlink_customers().len(), 1);
}

#[tokio::test]
async fn variant_spellings_name_the_withheld_row() {
    for kind in [
        FaultKind::FullwidthCn,
        FaultKind::FullwidthPlus,
        FaultKind::FullwidthText,
    ] {
        let sb = with(FaultPlan::default().with(kind, 1.0)).await;
        let v = it_five().send(&sb).await.json();
        let e = only_event(&sb);
        let phone = e.phone.expect("phone of the picked row");
        assert_eq!(v["status"], json!("0"));
        assert_eq!(v["data"], json!([variant_line(kind, &phone)]), "{kind:?}");
        let held: Vec<Value> = sb
            .itnio_persons(9)
            .iter()
            .map(|p| p["phoneNumber"].clone())
            .collect();
        assert_eq!(held.len(), 4);
        assert!(!held.contains(&json!(phone)), "the named row is not stored");
        // nxlink has no such answer.
        assert_eq!(nx_five().send(&sb).await.code(), 0);
        assert_eq!(sb.nxlink_customers().len(), 5);
    }
    assert!(variant_line(FaultKind::FullwidthPlus, "62810000003").ends_with(":+62 810-0000-03"));
}

#[tokio::test]
async fn anon_names_no_phone_and_withholds_one_row() {
    let sb = with_plan("anon=1").await;
    let v = it_five().send(&sb).await.json();
    assert_eq!(v["data"], json!([ANON_LINE]));
    assert!(!ANON_LINE.bytes().any(|b| b.is_ascii_digit()));
    let phone = only_event(&sb).phone.expect("phone");
    let held = sb.itnio_persons(9);
    assert_eq!(held.len(), 4);
    assert!(held.iter().all(|p| p["phoneNumber"] != json!(phone)));
}

#[tokio::test]
async fn redirects_point_at_a_perfect_success_and_apply_nothing() {
    let no_follow = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    for (kind, status) in [
        ("redirect301", 301),
        ("redirect302", 302),
        ("redirect307", 307),
        ("redirect308", 308),
    ] {
        let sb = with_plan(&format!("{kind}=1")).await;
        let r = nx_five().try_send(&sb, &no_follow).await.expect("answered");
        assert_eq!(r.status, status);
        let location = only_event(&sb).location.expect("location");
        assert_eq!(
            location,
            format!("{}/_sandbox/redirected/nxlink/5", sb.base_url())
        );
        assert!(sb.nxlink_customers().is_empty());
        assert_eq!(sb.stats().redirected_requests, 0);
        // A client that follows it gets a perfect success for anything, and nothing is held.
        let followed = nx_five().send(&sb).await;
        assert_eq!(followed.status, 200, "{kind}");
        let v = followed.json();
        assert_eq!(indexes(&v, "successItems"), [0, 1, 2, 3, 4], "{kind}");
        assert_eq!(sb.stats().redirected_requests, 1);
        assert!(sb.nxlink_customers().is_empty());
        let followed = it_five().send(&sb).await;
        assert_eq!(
            followed.json(),
            json!({"status": "0", "reason": "success", "data": []})
        );
        assert!(sb.itnio_persons(9).is_empty());
    }
    let sb = with_plan("redirect=1").await;
    for _ in 0..12 {
        let r = it_five().try_send(&sb, &no_follow).await.expect("answered");
        assert!([301, 302, 307, 308].contains(&r.status), "{}", r.status);
    }
    assert_eq!(sb.stats().faults["redirect"], 12);
}

#[tokio::test]
async fn huge_answers_are_streamed_to_their_size_and_end_in_a_perfect_success() {
    let sb = with_plan("huge=1,huge_mb=3").await;
    let r = nx_five().send(&sb).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text.len(), 3 << 20);
    assert!(r.text.starts_with("{\"code\":0,"));
    assert_eq!(indexes(&r.json(), "successItems"), [0, 1, 2, 3, 4]);
    assert!(sb.nxlink_customers().is_empty(), "nothing applied");
    let r = it_five().send(&sb).await;
    assert_eq!(r.text.len(), 3 << 20);
    assert_eq!(
        r.json(),
        json!({"status": "0", "reason": "success", "data": []})
    );
    assert!(sb.itnio_persons(9).is_empty());
}

#[tokio::test]
async fn endless_answers_go_on_until_the_client_hangs_up() {
    let sb = with_plan("endless=1").await;
    let req = nx_five();
    let mut rb = client().post(format!("{}{}", sb.base_url(), req.path));
    for (n, v) in &req.headers {
        rb = rb.header(n.as_str(), v.as_str());
    }
    let mut resp = rb.body(req.body.clone()).send().await.expect("answered");
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.content_length(), None);
    let mut read = 0usize;
    let mut first = Vec::new();
    while read < 8 << 20 {
        let chunk = resp.chunk().await.expect("readable").expect("never ends");
        if first.len() < 16 {
            first.extend_from_slice(&chunk);
        }
        read += chunk.len();
    }
    assert!(first.starts_with(b"{\"code\":0,"));
    drop(resp);
    assert!(sb.nxlink_customers().is_empty());
    // The sandbox still serves after the client hung up.
    assert_eq!(get_json(&sb, "/_sandbox/stats").await["requests"], json!(1));
}

#[tokio::test]
async fn escape_refusals_carry_control_characters_and_a_trace_id() {
    let sb = with_plan("escape=1").await;
    let v = nx_five().send(&sb).await.json();
    assert_eq!(v["code"], json!(22000));
    assert_eq!(v["message"], json!(ESCAPE_MESSAGE));
    for c in ['\u{1b}', '\r', '\u{7}'] {
        assert!(ESCAPE_MESSAGE.contains(c));
    }
    let e = only_event(&sb);
    assert_eq!(v["traceId"].as_str(), e.trace_id.as_deref());
    assert_eq!(e.code, Some(22000));
    let v = it_five().send(&sb).await.json();
    assert_eq!(
        v,
        json!({"status": "-35", "reason": ESCAPE_MESSAGE, "data": null})
    );
    assert!(sb.nxlink_customers().is_empty() && sb.itnio_persons(9).is_empty());
}

#[tokio::test]
async fn param_refuses_whole_requests_with_the_parameter_error_code() {
    let sb = with_plan("param=1").await;
    let v = nx_five().send(&sb).await.json();
    assert_eq!(v["code"], json!(1002));
    assert_eq!(v["data"], json!(null));
    let v = it_five().send(&sb).await.json();
    assert_eq!(v["status"], json!("-27"));
    assert!(sb.nxlink_customers().is_empty() && sb.itnio_persons(9).is_empty());
    let codes: Vec<Option<i64>> = sb.events().iter().map(|e| e.code).collect();
    assert_eq!(codes, [Some(1002), Some(-27)]);
}

#[tokio::test]
async fn refuse_rules_refuse_requests_holding_the_phone() {
    let plan = FaultPlan::default()
        .refuse("62810000003=1002")
        .and_then(|p| p.refuse("777=12148"))
        .and_then(|p| p.refuse("62810000004=-51"))
        .expect("rules");
    let sb = with(plan).await;
    let v = nx_five().send(&sb).await.json();
    assert_eq!(v["code"], json!(1002));
    assert_eq!(
        v["message"],
        json!("parameter error: customers[2].whats_app_phone")
    );
    let e = only_event(&sb);
    assert_eq!(e.fault, None);
    assert_eq!(e.code, Some(1002));
    assert_eq!(e.rows, 5);
    assert_eq!(v["traceId"].as_str(), e.trace_id.as_deref());
    // sms_phone counts too, and the rule's code is the answer's.
    let body = nx_body(1, json!([{"full_name": "a", "sms_phone": "777"}]));
    assert_eq!(Req::nxlink(body).send(&sb).await.code(), 12148);
    // A request without the phone is applied.
    let body = nx_body(1, json!([{"full_name": "a", "sms_phone": "62810000004"}]));
    assert_eq!(Req::nxlink(body).send(&sb).await.code(), 0);
    assert_eq!(sb.nxlink_customers().len(), 1);
    // itnio: the negative rule.
    let v = it_five().send(&sb).await.json();
    assert_eq!(
        v,
        json!({"status": "-51", "reason": "customer properties incomplete", "data": null})
    );
    assert!(sb.itnio_persons(9).is_empty());
    let body = it_body(9, json!([{"phoneNumber": "62810000003"}]));
    assert_eq!(Req::itnio(body).send(&sb).await.status_code(), "0");
    assert_eq!(sb.stats().faults.values().sum::<u64>(), 0);
}
