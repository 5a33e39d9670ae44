//! The nxlink customer store: the customers held by the sandbox, all tenants, with the lookup
//! by contact (WhatsApp, SMS, Viber, e-mail) that decides whether a row creates a customer or
//! updates one, and the ids it hands out.
//!
//! Invariant: within a tenant, a contact value leads to at most one held customer; ids are
//! handed out once each, in creation order, from [`FIRST_CUSTOMER_ID`].

use std::collections::HashMap;

use serde_json::{Map, Value};

/// The first `customerId` handed out (the seed page's first example id).
pub const FIRST_CUSTOMER_ID: u64 = 1_214_631_327_620_775_936;
/// Fields by which an incoming customer matches a held one (same field, equal value); the
/// first is also the `whatsAppPhone` of a success item.
const MATCH_FIELDS: [&str; 4] = ["whats_app_phone", "sms_phone", "viber_phone", "email"];

/// Body `type`: what to do with a customer that is already held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Replace,
    Merge,
    Keep,
}

/// One held customer: the fields as JSON text, kept as text because a benchmark run holds
/// millions of them. The text is the customer object exactly as received (type 0 and new
/// customers) or re-serialised after a merge (type 1); either way it parses to the fields.
#[derive(Debug)]
struct Held {
    tenant: i64,
    id: u64,
    fields: Box<[u8]>,
}

/// Per-field lookup from value to position in `held`.
/// Phone and e-mail keys hashed with foldhash: the sandbox indexes millions of short keys
/// from a local client, where SipHash's flood resistance buys nothing and costs most.
type Index = [HashMap<Box<str>, usize, foldhash::fast::RandomState>; 4];

/// The customers held by the sandbox, all tenants.
#[derive(Debug)]
pub(crate) struct Store {
    next_id: u64,
    held: Vec<Held>,
    index: HashMap<i64, Index>,
}

impl Default for Store {
    fn default() -> Self {
        Store {
            next_id: FIRST_CUSTOMER_ID,
            held: Vec::new(),
            index: HashMap::new(),
        }
    }
}

/// The string values of [`MATCH_FIELDS`] in `fields`, in that order, read in one pass (a hashed
/// `get` per name costs more than comparing a customer's few keys).
pub(crate) fn read_contacts(fields: &Map<String, Value>) -> [Option<&str>; 4] {
    let mut found = [None; 4];
    for (key, value) in fields {
        if let Some(k) = MATCH_FIELDS.iter().position(|f| f == key) {
            found[k] = value.as_str();
        }
    }
    found
}

/// The non-empty contacts as (match field position, value): the index keys of a customer.
fn match_keys(contacts: [Option<&str>; 4]) -> impl Iterator<Item = (usize, &str)> {
    contacts
        .into_iter()
        .enumerate()
        .filter_map(|(k, v)| v.filter(|s| !s.is_empty()).map(|s| (k, s)))
}

fn parse_fields(text: &[u8]) -> Map<String, Value> {
    serde_json::from_slice(text).unwrap_or_default()
}

pub(crate) fn to_text(fields: &Map<String, Value>) -> Box<[u8]> {
    serde_json::to_vec(fields).unwrap_or_default().into()
}

impl Store {
    /// Creates or updates the customer matching `row` (whose [`read_contacts`] are given and whose
    /// JSON text is `text`); returns its id.
    pub(crate) fn upsert(
        &mut self,
        tenant: i64,
        mode: Mode,
        row: &Map<String, Value>,
        contacts: &[Option<&str>; 4],
        text: Box<[u8]>,
    ) -> u64 {
        let index = self.index.entry(tenant).or_default();
        let found = match_keys(*contacts).find_map(|(k, v)| index[k].get(v).copied());
        if let Some((pos, held)) = found.and_then(|pos| self.held.get_mut(pos).map(|h| (pos, h))) {
            if mode == Mode::Keep {
                return held.id;
            }
            let mut fields = parse_fields(&held.fields);
            for (k, v) in match_keys(read_contacts(&fields)) {
                if index[k].get(v) == Some(&pos) {
                    index[k].remove(v);
                }
            }
            if mode == Mode::Replace {
                held.fields = text;
                for (k, v) in match_keys(*contacts) {
                    index[k].insert(v.into(), pos);
                }
            } else {
                for (k, v) in row {
                    fields.insert(k.clone(), v.clone());
                }
                held.fields = to_text(&fields);
                for (k, v) in match_keys(read_contacts(&fields)) {
                    index[k].insert(v.into(), pos);
                }
            }
            return held.id;
        }
        let pos = self.held.len();
        let id = self.next_id;
        self.next_id += 1;
        for (k, v) in match_keys(*contacts) {
            index[k].insert(v.into(), pos);
        }
        self.held.push(Held {
            tenant,
            id,
            fields: text,
        });
        id
    }

    /// Every held customer: its fields plus `customerId` and `tenant_id`, in creation order.
    pub(crate) fn customers(&self) -> Vec<Value> {
        self.held
            .iter()
            .map(|h| {
                let mut fields = parse_fields(&h.fields);
                fields.insert("customerId".into(), Value::from(h.id));
                fields.insert("tenant_id".into(), Value::from(h.tenant));
                Value::Object(fields)
            })
            .collect()
    }
}
