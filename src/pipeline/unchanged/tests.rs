//! Unit tests of `pipeline::unchanged`.
use std::borrow::Cow;
use std::sync::Arc;

use super::*;
use crate::input::RecordData;
use crate::pipeline::Event;
use crate::provider::itnio::Person;
use crate::provider::nxlink::{Customer, Mode, Nxlink, Prepared};
use crate::state::writer::{Writer, MAX_WAIT};
use crate::state::{Fingerprint, ScopeSpec};

fn nx(mode: Mode) -> Nxlink {
    crate::fixtures::nxlink_with(crate::provider::nxlink::Options {
        mode,
        ..Default::default()
    })
}

fn customer(name: &str, wa: Option<&str>, sms: Option<&str>, email: Option<&str>) -> Prepared {
    Prepared::new(&Customer {
        full_name: name.into(),
        whats_app_phone: wa.map(Cow::from),
        sms_phone: sms.map(Cow::from),
        email: email.map(Cow::from),
        remark: Some(r#"a "quoted" ,"sms_phone":"1" remark"#.into()),
        ..Default::default()
    })
}

fn item(row: u64, c: Prepared) -> Item<Prepared> {
    Item {
        row,
        customer: c,
        data: RecordData::Line(String::new()),
    }
}

fn row_customer(i: u64, name: &str) -> Prepared {
    customer(name, Some(&format!("6281{i:07}")), None, None)
}

#[test]
fn nxlink_keys_are_the_first_contact() {
    let p = nx(Mode::Merge);
    let key = |c: &Prepared| p.state_key(c).map(Cow::into_owned);
    assert_eq!(
        key(&customer("A", Some("628"), Some("629"), Some("a@x"))),
        Some("628".into())
    );
    assert_eq!(
        key(&customer("A", None, Some("629"), Some("a@x"))),
        Some("629".into())
    );
    // An e-mail with characters JSON escapes is read back as written.
    assert_eq!(
        key(&customer("A", None, None, Some(r#"a"b\c@x"#))),
        Some(r#"a"b\c@x"#.into())
    );
    assert_eq!(key(&customer("A", None, None, None)), None);
    let c = customer("A", None, Some("629"), Some("a@x"));
    assert_eq!(
        p.unchanged_cells(&c),
        vec![Cow::from(""), Cow::from("629"), Cow::from("a@x")]
    );
    // A remark that contains the text of a key is not a key.
    assert_eq!(
        customer("A", None, None, None).text_field("sms_phone"),
        None
    );
    // What is fingerprinted is the row's JSON as sent; the mode is the salt.
    let mut buf = Vec::new();
    assert_eq!(p.sent_bytes(&c, &mut buf), c.json().as_bytes());
    assert_ne!(nx(Mode::Replace).state_salt(), nx(Mode::Merge).state_salt());
    let a = p.state_account();
    assert_eq!(
        (a.account.as_str(), a.tenant, a.app.as_str(), a.job),
        ("fme2na3kdi3ki", Some(123), "46oKF=os", None)
    );
}

#[test]
fn itnio_sends_what_the_body_carries_keyed_by_phone() {
    let p = crate::fixtures::itnio();
    let mut properties = serde_json::Map::new();
    properties.insert("amount".into(), "100".into());
    let person = Person {
        name: Some("Ann".into()),
        phone_number: "6285000001".into(),
        gender: Some("FEMALE"),
        properties,
    };
    assert_eq!(p.state_key(&person).as_deref(), Some("6285000001"));
    let mut buf = Vec::new();
    let sent = p.sent_bytes(&person, &mut buf).to_vec();
    let mut body = Vec::new();
    p.write_body(&[&person], &mut body);
    let body = String::from_utf8(body).unwrap();
    let sent = String::from_utf8(sent).unwrap();
    assert!(
        body.contains(&format!("\"customerPersons\":[{sent}]")),
        "{body} / {sent}"
    );
    assert_eq!(p.state_account().job, Some(9));
    assert_eq!(p.unchanged_cells(&person), vec![Cow::from("6285000001")]);
}

fn spec() -> ScopeSpec {
    ScopeSpec {
        provider: "nxlink".into(),
        endpoint: "https://x".into(),
        account: "AK".into(),
        tenant: Some(7),
        app: "app".into(),
        job: None,
    }
}

#[test]
fn the_filter_passes_changed_rows_in_full_batches_and_reports_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let provider = Arc::new(nx(Mode::Merge));
    let mut state = State::open(&path).unwrap();
    let scope = state.enter_scope(&spec(), 1).unwrap();
    // Rows 1..=150 were sent as they are now, except row 7 (sent with another name).
    let recorded: Vec<(Cow<'_, str>, Fingerprint)> = (1..=150u64)
        .map(|i| {
            let c = row_customer(i, if i == 7 { "Old" } else { "N" });
            let key = provider.state_key(&c).unwrap().into_owned();
            let fp = fingerprint(provider.state_salt().as_bytes(), c.json().as_bytes());
            (Cow::Owned(key), fp)
        })
        .collect();
    state.record(scope, &recorded, &[], 1).unwrap();
    state.merge().unwrap();

    let filter = Filter {
        provider: provider.clone(),
        state: Some((state, scope)),
        batch_size: 100,
    };
    let (in_tx, in_rx) = tokio::sync::mpsc::channel(8);
    let (out_tx, mut out_rx) = tokio::sync::mpsc::channel(8);
    let (ev_tx, mut ev_rx) = tokio::sync::mpsc::channel(8);
    let rows: Vec<u64> = (1..=250).collect();
    for (n, chunk) in rows.chunks(100).enumerate() {
        let items = chunk
            .iter()
            .map(|&i| item(i, row_customer(i, "N")))
            .collect();
        in_tx
            .try_send(Batch {
                id: n as u64 + 1,
                items,
            })
            .unwrap();
    }
    drop(in_tx);
    filter.run(in_rx, out_tx, ev_tx);

    let mut batches = vec![];
    while let Ok(b) = out_rx.try_recv() {
        batches.push((b.id, b.items.iter().map(|i| i.row).collect::<Vec<_>>()));
    }
    let first: Vec<u64> = std::iter::once(7).chain(151..=249).collect();
    assert_eq!(batches, vec![(1, first), (2, vec![250])]);
    let mut unchanged = vec![];
    while let Ok(ev) = ev_rx.try_recv() {
        match ev {
            Event::Unchanged(items) => unchanged.extend(items.iter().map(|i| i.row)),
            other => panic!("unexpected {other:?}"),
        }
    }
    let expected: Vec<u64> = (1..=150).filter(|&i| i != 7).collect();
    assert_eq!(unchanged, expected);
}

#[test]
fn without_a_state_every_row_is_passed_on() {
    let filter = Filter {
        provider: Arc::new(nx(Mode::Merge)),
        state: None,
        batch_size: 2,
    };
    let (in_tx, in_rx) = tokio::sync::mpsc::channel(8);
    let (out_tx, mut out_rx) = tokio::sync::mpsc::channel(8);
    let (ev_tx, mut ev_rx) = tokio::sync::mpsc::channel(8);
    in_tx
        .try_send(Batch {
            id: 1,
            items: (1..=3).map(|i| item(i, row_customer(i, "N"))).collect(),
        })
        .unwrap();
    drop(in_tx);
    filter.run(in_rx, out_tx, ev_tx);
    assert_eq!(out_rx.try_recv().unwrap().items.len(), 2);
    assert_eq!(out_rx.try_recv().unwrap().items.len(), 1);
    assert!(ev_rx.try_recv().is_err());
}

#[test]
fn the_recorder_remembers_successes_forgets_unknowns_and_keeps_failures() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let p = nx(Mode::Merge);
    let mut state = State::open(&path).unwrap();
    let scope = state.enter_scope(&spec(), 1).unwrap();
    let old = |i: u64| row_customer(i, "Old");
    let recorder = || {
        let writer = Writer::start(State::open(&path).unwrap(), spec(), 42, MAX_WAIT);
        Recorder::new(writer, p.state_salt())
    };
    let mut r = recorder();
    let ok = Outcome::Succeeded {
        id: None,
        already_present: false,
    };
    for i in 1..=3 {
        r.note(&p, &old(i), &ok);
    }
    assert!(r.finish().is_none());
    // Changed rows: 1 fails (refused: the provider still holds what was recorded), 2 is
    // unknown (it may hold the new row: the record goes), 3 is pending (never sent).
    let new = |i: u64| row_customer(i, "New");
    let failed = Outcome::Failed {
        code: "x".into(),
        message: "x".into(),
    };
    let unknown = Outcome::Unknown {
        code: "x".into(),
        message: "x".into(),
    };
    let mut r = recorder();
    r.note(&p, &new(1), &failed);
    r.note(&p, &new(2), &unknown);
    r.note(&p, &new(3), &Outcome::Pending);
    assert!(r.finish().is_none());

    let remembered = state.remembered(scope, 100).unwrap();
    let keys: Vec<String> = (1..=3)
        .map(|i| p.state_key(&old(i)).unwrap().into_owned())
        .collect();
    let refs: Vec<Option<&str>> = keys.iter().map(|k| Some(k.as_str())).collect();
    let fps = |c: &dyn Fn(u64) -> Prepared| -> Vec<Fingerprint> {
        (1..=3)
            .map(|i| fingerprint(p.state_salt().as_bytes(), c(i).json().as_bytes()))
            .collect()
    };
    let old_fps = fps(&old);
    assert_eq!(
        state.unchanged(&remembered, &refs, |i| old_fps[i]).unwrap(),
        vec![true, false, true]
    );
    // The changed rows are changed: all three are sent next time.
    let new_fps = fps(&new);
    assert_eq!(
        state.unchanged(&remembered, &refs, |i| new_fps[i]).unwrap(),
        vec![false, false, false]
    );
}
