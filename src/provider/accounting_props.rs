//! Property tests of the answer accounting: random answers (well-formed and not) to random
//! requests, read by each provider's `interpret` and by a small model written from the contract
//! (cli.md, "What counts as an answer"), which must agree row by row. Above all, no row is
//! confirmed that the answer did not name as accepted exactly once.

use proptest::prelude::*;
use serde_json::{json, Value};

use super::{itnio, nxlink, Answer, RowAnswer};

/// A row's fate in a few letters: `S` confirmed, `F` refused, `U` unknown.
fn kind(a: &RowAnswer) -> char {
    match a {
        RowAnswer::Accepted { .. } => 'S',
        RowAnswer::Refused { .. } | RowAnswer::AlreadyExists { .. } => 'F',
        RowAnswer::Unknown { .. } => 'U',
    }
}

/// One random nxlink answer: the item lists by index (possibly out of range, repeated or
/// missing), the counts (possibly wrong), or a vague shape.
#[derive(Debug, Clone)]
enum NxData {
    Vague(Value),
    Lists {
        success: Vec<i64>,
        fail: Vec<i64>,
        counts: Option<(i64, i64, i64)>,
    },
}

fn nx_data(n: usize) -> impl Strategy<Value = NxData> {
    let idx = -1i64..(n as i64 + 2);
    prop_oneof![
        1 => prop_oneof![
            Just(Value::Null),
            Just(json!({})),
            Just(json!("internal error")),
            Just(json!([])),
            Just(json!({"successItems": [], "failItems": []})),
        ]
        .prop_map(NxData::Vague),
        6 => (
            proptest::collection::vec(idx.clone(), 0..n + 3),
            proptest::collection::vec(idx, 0..n + 2),
            proptest::option::of((0i64..8, 0i64..8, 0i64..8)),
        )
            .prop_map(|(success, fail, counts)| NxData::Lists { success, fail, counts }),
        // Often a consistent answer, so confirmations are exercised.
        3 => proptest::collection::vec(any::<bool>(), n).prop_map(|ok| {
            let success: Vec<i64> = (0..ok.len() as i64).filter(|&i| ok[i as usize]).collect();
            let fail: Vec<i64> = (0..ok.len() as i64).filter(|&i| !ok[i as usize]).collect();
            let counts = Some((ok.len() as i64, success.len() as i64, fail.len() as i64));
            NxData::Lists { success, fail, counts }
        }),
    ]
}

fn nx_body(d: &NxData) -> String {
    let data = match d {
        NxData::Vague(v) => v.clone(),
        NxData::Lists {
            success,
            fail,
            counts,
        } => {
            let mut o = json!({
                "successItems": success.iter().map(|i| json!({"index": i, "customerId": 100 + i})).collect::<Vec<_>>(),
                "failItems": fail.iter().map(|i| json!({"index": i, "errorCode": 12148, "errorMessage": "seat"})).collect::<Vec<_>>(),
            });
            if let Some((t, s, f)) = counts {
                o["totalCount"] = json!(t);
                o["successCount"] = json!(s);
                o["failCount"] = json!(f);
            }
            o
        }
    };
    json!({"code": 0, "message": "ok", "traceId": "t", "data": data}).to_string()
}

/// The contract's nxlink rules, written out plainly.
fn nx_model(d: &NxData, n: usize) -> Vec<char> {
    let NxData::Lists {
        success,
        fail,
        counts,
    } = d
    else {
        return vec!['U'; n];
    };
    if success.is_empty() && fail.is_empty() {
        return vec!['U'; n];
    }
    let miscounted = counts.is_some_and(|(t, s, f)| {
        t != n as i64 || s != success.len() as i64 || f != fail.len() as i64
    });
    (0..n as i64)
        .map(|row| {
            let s = success.iter().filter(|&&i| i == row).count();
            let f = fail.iter().filter(|&&i| i == row).count();
            match (s, f) {
                (1, 0) => 'S',
                (0, 1) if !miscounted => 'F',
                _ => 'U',
            }
        })
        .collect()
}

/// How a failure line spells a phone number.
fn spell(phone: &str, style: u8) -> String {
    match style % 6 {
        0 => format!("The customer already exists in this task,Phone Number:{phone}"),
        1 => format!("该客户已存在于此任务中，手机号：{phone}"),
        2 => format!("Customer custom property is incomplete,Phone Number:+{phone}"),
        3 => {
            let (a, b) = phone.split_at(4);
            format!("failed: {a}-{b} (retry)")
        }
        4 => phone
            .chars()
            .map(|c| char::from_u32(c as u32 - '0' as u32 + 0xff10).unwrap_or(c))
            .collect::<String>(),
        _ => format!("x,Phone Number: {phone} "),
    }
}

/// A random itnio line: naming one of the request's rows (by index, in a style), or none.
#[derive(Debug, Clone)]
enum ItLine {
    Names(usize, u8),
    Nobody(u8),
}

fn it_line(n: usize) -> impl Strategy<Value = ItLine> {
    prop_oneof![
        5 => (0..n, any::<u8>()).prop_map(|(i, s)| ItLine::Names(i, s)),
        1 => any::<u8>().prop_map(ItLine::Nobody),
    ]
}

fn it_model(lines: &[ItLine], n: usize) -> Vec<char> {
    let anonymous = lines.iter().any(|l| matches!(l, ItLine::Nobody(_)));
    (0..n)
        .map(|row| {
            let named = lines
                .iter()
                .filter(|l| matches!(l, ItLine::Names(i, _) if *i == row))
                .count();
            match named {
                0 if anonymous => 'U',
                0 => 'S',
                1 => 'F',
                _ => 'U',
            }
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn nxlink_interpret_matches_the_contract(
        (n, d) in (1usize..6).prop_flat_map(|n| (Just(n), nx_data(n)))
    ) {
        let body = nx_body(&d);
        let phones = vec![None; n];
        let Answer::Rows { rows, .. } = nxlink::interpret(body.as_bytes(), &phones, 1) else {
            return Err(TestCaseError::fail(format!("not rows: {body}")));
        };
        let got: Vec<char> = rows.iter().map(kind).collect();
        prop_assert_eq!(got, nx_model(&d, n), "{}", body);
    }

    #[test]
    fn itnio_interpret_matches_the_contract(
        (n, lines) in (1usize..6).prop_flat_map(|n| (Just(n), proptest::collection::vec(it_line(n), 0..6)))
    ) {
        // Distinct twelve-digit numbers: no number hides inside another's spelling.
        let phones: Vec<String> = (0..n).map(|i| format!("62{}{:07}", 811 + i, 1_234_567 + i * 1_111)).collect();
        let refs: Vec<&str> = phones.iter().map(String::as_str).collect();
        let data: Vec<String> = lines
            .iter()
            .map(|l| match l {
                ItLine::Names(i, style) => spell(&phones[*i], *style),
                ItLine::Nobody(k) => ["Import failed", "系统繁忙", "Phone Number:", "error, try later"][usize::from(*k % 4)].to_owned(),
            })
            .collect();
        let body = json!({"status": "0", "reason": "success", "data": data}).to_string();
        let Answer::Rows { rows, .. } = itnio::interpret(body.as_bytes(), &refs, 9, "a") else {
            return Err(TestCaseError::fail(format!("not rows: {body}")));
        };
        let got: Vec<char> = rows.iter().map(kind).collect();
        prop_assert_eq!(got, it_model(&lines, n), "{}", body);
    }
}
