//! An nxlink request: the endpoint, each customer serialised once into the text its request
//! carries ([`Prepared`]), the batch body written around those texts, and the signed headers.

use std::borrow::Cow;
use std::io::Write as _;

use super::validate::Customer;
use super::Nxlink;
use crate::sign::{self, Algorithm};

pub const PATH: &str = "/saas/cdp/openapi/customers/batch_create";

/// A validated customer as it travels through the pipeline: its JSON object, exactly as it goes
/// into a request body, its contact key, and the two texts `success.csv` shows, in one buffer
/// (one allocation per row, a few words to move).
#[derive(Clone, PartialEq, Eq)]
pub struct Prepared {
    /// The JSON object, then the contact key, then the WhatsApp number (empty when there is
    /// none: a number given always has digits), then the full name.
    buf: String,
    json_end: usize,
    key_end: usize,
    phone_end: usize,
}

impl Prepared {
    /// Serialise a validated customer.
    pub fn new(c: &Customer<'_>) -> Prepared {
        let phone = c.whats_app_phone.as_deref();
        // Serialising a struct of strings and integers cannot fail.
        let mut buf = serde_json::to_string(c).unwrap_or_default();
        let json_end = buf.len();
        buf.push_str(c.contact_key().unwrap_or_default());
        let key_end = buf.len();
        buf.push_str(phone.unwrap_or_default());
        let phone_end = buf.len();
        buf.push_str(&c.full_name);
        Prepared {
            buf,
            json_end,
            key_end,
            phone_end,
        }
    }

    /// The customer's JSON object.
    pub fn json(&self) -> &str {
        self.buf.get(..self.json_end).unwrap_or_default()
    }

    /// The contact key nxlink's duplicate rule matches customers by: the first present of
    /// `whats_app_phone`, `sms_phone` and `email`.
    pub fn contact_key(&self) -> Option<&str> {
        Some(self.buf.get(self.json_end..self.key_end)?).filter(|k| !k.is_empty())
    }

    pub fn whats_app_phone(&self) -> Option<&str> {
        Some(self.buf.get(self.key_end..self.phone_end)?).filter(|p| !p.is_empty())
    }

    pub fn full_name(&self) -> &str {
        self.buf.get(self.phone_end..).unwrap_or_default()
    }

    /// A top-level text field of the JSON object (`sms_phone`, `email`, ...), unescaped.
    pub fn text_field(&self, name: &str) -> Option<Cow<'_, str>> {
        json_text_field(self.json(), name)
    }
}

/// The value of the top-level string field `name` of a compact JSON object as serde_json
/// writes it. Sound without parsing the whole object: inside a JSON string every `"` is
/// escaped, so `,"name":"` (or `{"name":"`) can only be a key of the object itself (nested
/// objects, such as `customize_field`, travel as escaped strings).
fn json_text_field<'a>(json: &'a str, name: &str) -> Option<Cow<'a, str>> {
    let b = json.as_bytes();
    let pattern = format!("\"{name}\":\"");
    let start = memchr::memmem::find_iter(b, pattern.as_bytes())
        .find(|&i| i > 0 && matches!(b[i - 1], b',' | b'{'))?
        + pattern.len();
    // The closing quote: the first `"` not escaped by an odd run of backslashes.
    let mut i = start;
    let mut escaped = false;
    while i < b.len() {
        match b[i] {
            b'\\' => {
                escaped = true;
                i += 2;
                continue;
            }
            b'"' => break,
            _ => i += 1,
        }
    }
    let raw = json.get(start..i)?;
    if !escaped {
        return Some(Cow::Borrowed(raw));
    }
    let quoted = json.get(start - 1..=i)?;
    serde_json::from_str::<String>(quoted).ok().map(Cow::Owned)
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("json", &self.json())
            .finish()
    }
}

impl Nxlink {
    /// The batch_create body for these customers, written into `buf` (cleared first).
    pub(super) fn body_into(&self, customers: &[&Prepared], buf: &mut Vec<u8>) {
        buf.clear();
        // One allocation of the right size: no copying as the body grows.
        buf.reserve(
            customers.iter().map(|c| c.json().len() + 1).sum::<usize>()
                + 96
                + self.credentials.app_key.len() * 6,
        );
        // The same text serde_json writes for a struct of these fields, customers included.
        // Writing into a Vec cannot fail.
        let _ = write!(
            buf,
            "{{\"type\":{},\"tenant_id\":{},\"app_key\":",
            self.mode.wire(),
            self.credentials.tenant_id
        );
        // Serialising a string into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *buf, &self.credentials.app_key);
        buf.extend_from_slice(if self.strict_binding {
            b",\"strict_binding\":true,\"customers\":["
        } else {
            b",\"strict_binding\":false,\"customers\":["
        });
        for (i, c) in customers.iter().enumerate() {
            if i > 0 {
                buf.push(b',');
            }
            buf.extend_from_slice(c.json().as_bytes());
        }
        buf.extend_from_slice(b"]}");
    }

    /// The request headers, signed over exactly `body` for the clock reading `now_ms`.
    pub(super) fn signed_headers(&self, body: &[u8], now_ms: i64) -> Vec<(&'static str, String)> {
        let ts = now_ms.to_string();
        let sign = sign::nxlink_sign(
            &self.credentials.access_key,
            "mt",
            "2",
            &ts,
            body,
            self.credentials.access_secret.expose(),
            self.algorithm,
        );
        let mut h = vec![
            ("Content-Type", "application/json".to_owned()),
            ("accessKey", self.credentials.access_key.clone()),
            ("ts", ts),
            ("bizType", "2".to_owned()),
            ("action", "mt".to_owned()),
            ("sign", sign),
        ];
        if self.algorithm == Algorithm::Sha256 {
            h.push(("algorithm", "sha256".to_owned()));
        }
        h
    }
}
