//! nxlink (NXCLOUD customer data platform) `customers/batch_create`: schema, validation,
//! request body, signature and answer interpretation. Pure code.
//!
//! Invariant: a customer that `prepare` accepts satisfies every rule of the provider's page,
//! so the provider never sees a row we could have refused locally.

use std::borrow::Cow;
use std::io::Write as _;

use serde::Serialize;
use serde_json::{Map, Value};

use super::answer::{self, escape_control};
use super::phone::{Phones, Region};
use super::rules::{self, json_kind};
use super::StateAccount;
use super::{Answer, Cell, FieldDef, Mapped, Provider, Rejection, RetryKind, RowAnswer};
use crate::secret::Secret;
use crate::sign::{self, Algorithm};

pub const PATH: &str = "/saas/cdp/openapi/customers/batch_create";

/// Field indexes into [`FIELDS`].
mod field {
    pub const FULL_NAME: usize = 0;
    pub const FIRST_NAME: usize = 1;
    pub const LAST_NAME: usize = 2;
    pub const SMS_PHONE: usize = 3;
    pub const WHATS_APP_PHONE: usize = 4;
    pub const VIBER_PHONE: usize = 5;
    pub const MESSENGER: usize = 6;
    pub const INSTAGRAM: usize = 7;
    pub const ZALO: usize = 8;
    pub const LINE: usize = 9;
    pub const COUNTRY: usize = 10;
    pub const EMAIL: usize = 11;
    pub const ADDRESS: usize = 12;
    pub const BIRTHDAY: usize = 13;
    pub const TAG_STR: usize = 14;
    pub const REMARK: usize = 15;
    pub const TIME_ZONE: usize = 16;
    pub const GENDER: usize = 17;
    pub const CUSTOMIZE_FIELD: usize = 18;
    pub const BELONG_SEAT_USER: usize = 19;
    pub const WEIGHT: usize = 20;
}

const fn field_def(name: &'static str, aliases: &'static [&'static str]) -> FieldDef {
    FieldDef { name, aliases }
}

/// Every customer field of the API page, in its order, with the header aliases we accept.
pub static FIELDS: [FieldDef; 21] = [
    field_def(
        "full_name",
        &[
            "name",
            "customer name",
            "customer",
            "姓名",
            "名字",
            "客户名称",
            "客户姓名",
            "nama",
            "nama lengkap",
        ],
    ),
    field_def("first_name", &["given name", "名", "nama depan"]),
    field_def(
        "last_name",
        &["surname", "family name", "姓", "nama belakang"],
    ),
    field_def(
        "sms_phone",
        &["sms", "tel", "telephone", "电话", "电话号码", "telepon"],
    ),
    field_def(
        "whats_app_phone",
        &[
            "whatsapp",
            "wa",
            "whatsapp number",
            "phone",
            "phone number",
            "mobile",
            "mobile phone",
            "cell",
            "手机",
            "手机号",
            "手机号码",
            "hp",
            "no hp",
            "nomor hp",
            "nomor whatsapp",
        ],
    ),
    field_def("viber_phone", &["viber"]),
    field_def("messenger", &["messenger id"]),
    field_def("instagram", &["instagram id"]),
    field_def("zalo", &["zalo id"]),
    field_def("line", &["line id"]),
    field_def("country", &["国家", "negara"]),
    field_def("email", &["e-mail", "mail", "邮箱", "电子邮件", "邮件"]),
    field_def("address", &["地址", "alamat"]),
    field_def(
        "birthday",
        &[
            "birth date",
            "date of birth",
            "dob",
            "生日",
            "出生日期",
            "tanggal lahir",
        ],
    ),
    field_def("tagStr", &["tags", "tag", "标签"]),
    field_def(
        "remark",
        &["remarks", "note", "notes", "comment", "备注", "catatan"],
    ),
    field_def("time_zone", &["timezone", "tz", "时区"]),
    field_def("gender", &["sex", "性别", "jenis kelamin"]),
    field_def("customize_field", &["custom fields", "自定义字段"]),
    field_def("belong_seat_user", &["seat", "agent", "坐席"]),
    field_def("weight", &["level", "customer level", "等级"]),
];

const PHONE_FIELDS: [usize; 3] = [field::SMS_PHONE, field::WHATS_APP_PHONE, field::VIBER_PHONE];
const CHANNELS: [&str; 8] = [
    "sms_phone",
    "whats_app_phone",
    "email",
    "viber_phone",
    "messenger",
    "instagram",
    "line",
    "zalo",
];

/// A validated nxlink customer, serialised in the page's field order.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Customer<'a> {
    pub full_name: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sms_phone: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub whats_app_phone: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub viber_phone: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messenger: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instagram: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zalo: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub birthday: Option<Cow<'a, str>>,
    #[serde(rename = "tagStr", skip_serializing_if = "Option::is_none")]
    pub tag_str: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remark: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gender: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customize_field: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub belong_seat_user: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<u8>,
}

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

impl Customer<'_> {
    /// The first present of `whats_app_phone`, `sms_phone` and `email` (see [`Prepared::contact_key`]).
    pub fn contact_key(&self) -> Option<&str> {
        self.whats_app_phone
            .as_deref()
            .or(self.sms_phone.as_deref())
            .or(self.email.as_deref())
    }
}

/// Credentials and request options of an nxlink run.
#[derive(Debug, Clone)]
pub struct Nxlink {
    pub access_key: String,
    pub access_secret: Secret,
    pub tenant_id: i64,
    pub app_key: String,
    /// Body `type`: 0 replace, 1 merge, 2 keep.
    pub mode: u8,
    pub strict_binding: bool,
    pub algorithm: Algorithm,
    /// How phone-like fields are read (`--phone-region`, the country column).
    pub phones: Phones,
}

impl Nxlink {
    /// The field's text, borrowed from the cell where it can be.
    fn cell<'a>(&self, m: &Mapped<'a>, idx: usize) -> Result<Option<Cow<'a, str>>, Rejection> {
        let cell = m.fields.get(idx).copied().flatten();
        rules::text(FIELDS[idx].name, cell, PHONE_FIELDS.contains(&idx))
    }

    fn text<'a>(
        &self,
        m: &Mapped<'a>,
        idx: usize,
        max: Option<usize>,
    ) -> Result<Option<Cow<'a, str>>, Rejection> {
        let Some(v) = self.cell(m, idx)? else {
            return Ok(None);
        };
        if let Some(max) = max {
            rules::max_len(FIELDS[idx].name, &v, max)?;
        }
        Ok(Some(v))
    }

    fn phone<'a>(
        &self,
        m: &Mapped<'a>,
        idx: usize,
        region: Option<Region>,
    ) -> Result<Option<Cow<'a, str>>, Rejection> {
        match self.cell(m, idx)? {
            Some(v) => self
                .phones
                .normalise(FIELDS[idx].name, &v, 30, region)
                .map(|p| Some(Cow::Owned(p))),
            None => Ok(None),
        }
    }

    fn digits<'a>(&self, m: &Mapped<'a>, idx: usize) -> Result<Option<Cow<'a, str>>, Rejection> {
        let v = self.text(m, idx, None)?;
        if let Some(v) = &v {
            rules::digits(FIELDS[idx].name, v, 32)?;
        }
        Ok(v)
    }

    fn customize<'a>(&self, m: &Mapped<'a>) -> Result<Option<Cow<'a, str>>, Rejection> {
        let bad = |msg: &str| {
            Rejection::new("invalid_customize_field", format!("customize_field: {msg}"))
        };
        // A customize_field cell that already holds a JSON object is sent verbatim when no
        // customize.KEY column adds to it, so the user's text reaches nxlink unchanged.
        let mut verbatim: Option<Cow<'a, str>> = None;
        let mut obj: Map<String, Value> =
            match m.fields.get(field::CUSTOMIZE_FIELD).copied().flatten() {
                Some(Cell::Json(Value::Object(o))) => o.clone(),
                Some(Cell::Json(v)) if !v.is_string() && !v.is_null() => {
                    return Err(bad(&format!(
                        "expected a JSON object, found {}",
                        json_kind(v)
                    )))
                }
                other => match rules::text("customize_field", other, false)? {
                    None => Map::new(),
                    Some(t) => match serde_json::from_str::<Value>(&t) {
                        Ok(Value::Object(o)) => {
                            verbatim = Some(t);
                            o
                        }
                        Ok(v) => {
                            return Err(bad(&format!(
                                "expected a JSON object, found {}",
                                json_kind(&v)
                            )))
                        }
                        Err(_) => return Err(bad(
                            "is not valid JSON (expected an object such as {\"key\": \"value\"})",
                        )),
                    },
                },
            };
        let before = obj.len();
        rules::extras_into(&m.extras, &mut obj)?;
        if obj.is_empty() {
            return Ok(None);
        }
        if let (Some(text), true) = (verbatim, obj.len() == before && m.extras.is_empty()) {
            return Ok(Some(text));
        }
        serde_json::to_string(&obj)
            .map(|t| Some(Cow::Owned(t)))
            .map_err(|e| bad(&e.to_string()))
    }

    fn small_int(
        &self,
        m: &Mapped<'_>,
        idx: usize,
        range: std::ops::RangeInclusive<u8>,
    ) -> Result<Option<u8>, Rejection> {
        let name = FIELDS[idx].name;
        let Some(v) = self.text(m, idx, None)? else {
            return Ok(None);
        };
        match v.trim().parse::<u8>() {
            Ok(n) if range.contains(&n) => Ok(Some(n)),
            _ => Err(Rejection::new(
                format!("invalid_{name}"),
                format!(
                    "{name}: expected a whole number from {} to {}",
                    range.start(),
                    range.end()
                ),
            )),
        }
    }

    /// Validate and normalise one mapped record (borrowing its text where it can).
    pub fn customer<'a>(&self, m: &Mapped<'a>) -> Result<Customer<'a>, Rejection> {
        let full_name = self
            .text(m, field::FULL_NAME, Some(255))?
            .filter(|n| !n.trim().is_empty())
            .ok_or_else(|| {
                Rejection::new(
                    "missing_full_name",
                    "full_name: required, and not only spaces (map a column to it)",
                )
            })?;
        let gender = match self.cell(m, field::GENDER)? {
            Some(g) => Some(u8::from(rules::gender("gender", &g)?)),
            None => None,
        };
        let birthday = match self.cell(m, field::BIRTHDAY)? {
            Some(b) => Some(Cow::Owned(rules::birthday("birthday", &b)?)),
            None => None,
        };
        let email = self.text(m, field::EMAIL, Some(50))?;
        if let Some(e) = &email {
            let ok = e.split_once('@').is_some_and(|(l, d)| {
                !l.is_empty()
                    && !d.is_empty()
                    && !d.contains('@')
                    && !e.chars().any(char::is_whitespace)
            });
            if !ok {
                return Err(Rejection::new(
                    "invalid_email",
                    "email: not an e-mail address",
                ));
            }
        }
        let country = self.text(m, field::COUNTRY, Some(50))?;
        let region = self.phones.row_region(country.as_deref());
        let c = Customer {
            full_name,
            first_name: self.text(m, field::FIRST_NAME, Some(128))?,
            last_name: self.text(m, field::LAST_NAME, Some(128))?,
            sms_phone: self.phone(m, field::SMS_PHONE, region)?,
            whats_app_phone: self.phone(m, field::WHATS_APP_PHONE, region)?,
            viber_phone: self.phone(m, field::VIBER_PHONE, region)?,
            messenger: self.digits(m, field::MESSENGER)?,
            instagram: self.digits(m, field::INSTAGRAM)?,
            zalo: self.digits(m, field::ZALO)?,
            line: self.text(m, field::LINE, Some(50))?,
            country,
            email,
            address: self.text(m, field::ADDRESS, Some(100))?,
            birthday,
            tag_str: self.text(m, field::TAG_STR, None)?,
            remark: self.text(m, field::REMARK, Some(2000))?,
            time_zone: self.text(m, field::TIME_ZONE, None)?,
            gender,
            customize_field: self.customize(m)?,
            belong_seat_user: self.text(m, field::BELONG_SEAT_USER, Some(128))?,
            weight: self.small_int(m, field::WEIGHT, 1..=5)?,
        };
        let has_channel = [
            &c.sms_phone,
            &c.whats_app_phone,
            &c.email,
            &c.viber_phone,
            &c.messenger,
            &c.instagram,
            &c.line,
            &c.zalo,
        ]
        .iter()
        .any(|v| v.is_some());
        if !has_channel {
            return Err(Rejection::new(
                "no_contact",
                format!(
                    "needs at least one contact channel: {}",
                    CHANNELS.join(", ")
                ),
            ));
        }
        let watched = [c.whats_app_phone.as_deref(), c.viber_phone.as_deref()];
        self.phones.note_row(region, watched);
        Ok(c)
    }
}

impl Provider for Nxlink {
    type Customer = Prepared;

    fn name(&self) -> &'static str {
        "nxlink"
    }
    fn fields(&self) -> &'static [FieldDef] {
        &FIELDS
    }
    fn extras_prefix(&self) -> &'static str {
        "customize"
    }
    fn unmapped_to_extras(&self) -> bool {
        false
    }
    fn path(&self) -> &'static str {
        PATH
    }

    fn prepare(&self, m: &Mapped<'_>) -> Result<Prepared, Rejection> {
        self.customer(m).map(|c| Prepared::new(&c))
    }

    fn dedup_key<'c>(&self, c: &'c Prepared) -> Option<&'c str> {
        c.contact_key()
    }

    fn dedup_noun(&self) -> &'static str {
        "contact (the first of whats_app_phone, sms_phone, email)"
    }

    fn write_body(&self, customers: &[&Prepared], buf: &mut Vec<u8>) {
        buf.clear();
        // One allocation of the right size: no copying as the body grows.
        buf.reserve(
            customers.iter().map(|c| c.json().len() + 1).sum::<usize>()
                + 96
                + self.app_key.len() * 6,
        );
        // The same text serde_json writes for a struct of these fields, customers included.
        // Writing into a Vec cannot fail.
        let _ = write!(
            buf,
            "{{\"type\":{},\"tenant_id\":{},\"app_key\":",
            self.mode, self.tenant_id
        );
        // Serialising a string into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *buf, &self.app_key);
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

    fn headers(&self, body: &[u8], now_ms: i64) -> Vec<(&'static str, String)> {
        let ts = now_ms.to_string();
        let sign = sign::nxlink_sign(
            &self.access_key,
            "mt",
            "2",
            &ts,
            body,
            self.access_secret.expose(),
            self.algorithm,
        );
        let mut h = vec![
            ("Content-Type", "application/json".to_owned()),
            ("accessKey", self.access_key.clone()),
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

    fn interpret(&self, body: &[u8], customers: &[&Prepared]) -> Answer {
        let phones: Vec<Option<&str>> = customers.iter().map(|c| c.whats_app_phone()).collect();
        interpret(body, &phones, self.tenant_id)
    }

    fn success_header(&self) -> &'static [&'static str] {
        &["customer_id", "whats_app_phone", "full_name"]
    }

    fn success_cells<'c>(&self, c: &'c Prepared, id: Option<&'c str>) -> Vec<Cow<'c, str>> {
        vec![
            Cow::Borrowed(id.unwrap_or_default()),
            Cow::Borrowed(c.whats_app_phone().unwrap_or_default()),
            Cow::Borrowed(c.full_name()),
        ]
    }

    fn required_fields(&self) -> &'static [&'static str] {
        &["full_name"]
    }

    fn is_phone_field(&self, field: &str) -> bool {
        matches!(field, "sms_phone" | "whats_app_phone" | "viber_phone")
    }

    fn phones(&self) -> Option<&Phones> {
        Some(&self.phones)
    }

    fn state_account(&self) -> StateAccount {
        StateAccount {
            account: self.access_key.clone(),
            tenant: Some(self.tenant_id),
            app: self.app_key.clone(),
            job: None,
        }
    }

    /// The contact key of the duplicate rule (so one input holds each key once).
    fn state_key<'c>(&self, c: &'c Prepared) -> Option<Cow<'c, str>> {
        c.contact_key().map(Cow::Borrowed)
    }

    fn sent_bytes<'c>(&self, c: &'c Prepared, _buf: &'c mut Vec<u8>) -> &'c [u8] {
        c.json().as_bytes()
    }

    fn state_salt(&self) -> String {
        format!("type={}", self.mode)
    }

    fn unchanged_header(&self) -> &'static [&'static str] {
        &["whats_app_phone", "sms_phone", "email"]
    }

    fn unchanged_cells<'c>(&self, c: &'c Prepared) -> Vec<Cow<'c, str>> {
        vec![
            Cow::Borrowed(c.whats_app_phone().unwrap_or_default()),
            c.text_field("sms_phone").unwrap_or_default(),
            c.text_field("email").unwrap_or_default(),
        ]
    }
}

/// A code that may come as a number or a string.
fn code_of(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn text_of(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// Interpret a batch_create answer for a request whose rows carry these WhatsApp numbers (in
/// request order; `None` where a row has none).
///
/// The accounting rules (cli.md, "What counts as an answer"): with code 0 every row must be
/// named exactly once across `successItems` and `failItems`; a row left out, named twice or on
/// both sides is `Unknown`; `data` missing, null, not an object, or with both lists empty makes
/// every row `Unknown`; counts that disagree with the lists leave only the rows individually
/// confirmed as accepted; a success item whose `whatsAppPhone` is not the row's contradicts it.
pub fn interpret(body: &[u8], phones: &[Option<&str>], tenant_id: i64) -> Answer {
    interpret_fast(body, phones).unwrap_or_else(|| interpret_value(body, phones, tenant_id))
}

/// The usual answer (code 0, well-formed item lists naming every row once, counts that agree),
/// read into typed structs without building a `Value` tree. `None` for anything else, which
/// [`interpret_value`] then reads by the full rules.
fn interpret_fast(body: &[u8], phones: &[Option<&str>]) -> Option<Answer> {
    #[derive(serde::Deserialize)]
    struct Fast {
        code: i64,
        data: FastData,
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct FastData {
        success_items: Vec<Success>,
        #[serde(default)]
        fail_items: Vec<Fail>,
        total_count: Option<u64>,
        success_count: Option<u64>,
        fail_count: Option<u64>,
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Success {
        index: usize,
        /// Ids are whole numbers; anything else (text, a fraction, beyond u64) falls back to
        /// the liberal path, which keeps the id's exact text.
        customer_id: Option<u64>,
        whats_app_phone: Option<String>,
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Fail {
        index: usize,
        error_code: Option<i64>,
        error_message: Option<String>,
    }
    let fast: Fast = serde_json::from_slice(body).ok()?;
    let FastData {
        success_items,
        fail_items,
        total_count,
        success_count,
        fail_count,
    } = fast.data;
    let n = phones.len();
    let agrees = |count: Option<u64>, len: usize| count.is_none_or(|c| c == len as u64);
    if fast.code != 0
        || n == 0
        || success_items.len() + fail_items.len() != n
        || !agrees(total_count, n)
        || !agrees(success_count, success_items.len())
        || !agrees(fail_count, fail_items.len())
    {
        return None;
    }
    let mut rows: Vec<Option<RowAnswer>> = vec![None; n];
    for it in success_items {
        let slot = rows.get_mut(it.index).filter(|r| r.is_none())?;
        if it
            .whats_app_phone
            .as_deref()
            .is_some_and(|p| phone_contradicts(p, phones.get(it.index).copied().flatten()))
        {
            return None;
        }
        *slot = Some(RowAnswer::Accepted {
            id: it.customer_id.map(|c| c.to_string()),
        });
    }
    for it in fail_items {
        let slot = rows.get_mut(it.index).filter(|r| r.is_none())?;
        *slot = Some(RowAnswer::Refused {
            code: it.error_code?.to_string(),
            message: escape_control(&it.error_message.unwrap_or_default()).into_owned(),
        });
    }
    Some(Answer::Rows {
        rows: rows.into_iter().collect::<Option<Vec<_>>>()?,
        unattributed: vec![],
    })
}

/// Whether a success item's `whatsAppPhone` names another number than the row's. Compared as
/// digits; one may carry a country code the other lacks, so a suffix match is no contradiction.
fn phone_contradicts(answered: &str, sent: Option<&str>) -> bool {
    let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
    let (a, s) = (digits(answered), digits(sent.unwrap_or_default()));
    if a.is_empty() || s.is_empty() {
        // Nothing to compare: an empty echo says nothing, and a row sent without a WhatsApp
        // number may be echoed with whatever number nxlink keys it by.
        return false;
    }
    !(a.ends_with(&s) || s.ends_with(&a))
}

/// Any answer, read liberally through a `Value` tree and accounted strictly.
fn interpret_value(body: &[u8], phones: &[Option<&str>], tenant_id: i64) -> Answer {
    let n = phones.len();
    let (root, code, message, trace) = match envelope(body) {
        Ok(e) => e,
        Err(retry) => return retry,
    };
    if code != 0 {
        return whole_request(code, message, trace.as_deref(), tenant_id);
    }
    let traced = |what: &str| match &trace {
        Some(t) => format!("{what} (nxlink trace id {t})"),
        None => what.to_owned(),
    };
    let all_unknown = |what: &str| Answer::Rows {
        rows: vec![answer::unknown(answer::UNCONFIRMED, &traced(what)); n],
        unattributed: vec![],
    };
    let data = match root.get("data") {
        Some(Value::Object(d)) => d,
        None => return all_unknown("nxlink answered code 0 without data: no row was confirmed"),
        Some(Value::Null) => {
            return all_unknown("nxlink answered code 0 with data null: no row was confirmed")
        }
        Some(other) => {
            return all_unknown(&format!(
                "nxlink answered code 0 with data that is {} instead of the per-row results: no row was confirmed",
                json_kind(other)
            ))
        }
    };
    let items = |key: &str| -> &[Value] {
        match data.get(key) {
            Some(Value::Array(a)) => a,
            _ => &[],
        }
    };
    let (successes, failures) = (items("successItems"), items("failItems"));
    if successes.is_empty() && failures.is_empty() {
        return all_unknown(
            "nxlink answered code 0 without naming any row as a success or a failure: no row was confirmed",
        );
    }
    let mut ledger = answer::Ledger::new(n);
    let mut unattributed = Vec::new();
    for (value, verdict) in successes
        .iter()
        .map(|v| (v, success_verdict(v, phones, &traced)))
        .chain(failures.iter().map(|v| (v, failure_verdict(v))))
    {
        let named = value
            .as_object()
            .and_then(index_of)
            .is_some_and(|i| ledger.name(i, verdict));
        if !named {
            unattributed.push(escape_control(&value.to_string()).into_owned());
        }
    }
    let count = |key: &str| match data.get(key) {
        None | Some(Value::Null) => None,
        Some(v) => Some(code_of(Some(v))),
    };
    let disagree =
        |key: &str, expected: usize| count(key).is_some_and(|c| c != i64::try_from(expected).ok());
    let miscounted = disagree("totalCount", n)
        || disagree("successCount", successes.len())
        || disagree("failCount", failures.len());
    let doubt_text = traced(
        "nxlink's counts (totalCount, successCount, failCount) disagree with its lists of rows: this row was not confirmed",
    );
    let rows = ledger.finish(
        || {
            answer::unknown(
                answer::UNCONFIRMED,
                &traced("nxlink listed this row neither as a success nor as a failure"),
            )
        },
        miscounted.then_some((answer::MISCOUNTED, doubt_text.as_str())),
    );
    if let Some(t) = &trace {
        if !unattributed.is_empty() {
            tracing::info!(trace_id = %t, "nxlink answer named items matching no row");
        }
    }
    Answer::Rows { rows, unattributed }
}

/// An answer's envelope: the object, its code, its message and its trace id.
type Envelope = (Map<String, Value>, i64, String, Option<String>);

/// The answer's envelope (the message from `message` or `msg`); an unreadable answer is to be
/// retried.
fn envelope(body: &[u8]) -> Result<Envelope, Answer> {
    let Ok(Value::Object(root)) = serde_json::from_slice::<Value>(body) else {
        return Err(Answer::Retry {
            kind: RetryKind::Unparsable,
            message: "nxlink answered with something that is not a JSON object".into(),
        });
    };
    let Some(code) = code_of(root.get("code")) else {
        return Err(Answer::Retry {
            kind: RetryKind::Unparsable,
            message: "nxlink answered without a result code".into(),
        });
    };
    let message = Some(text_of(root.get("message")))
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| text_of(root.get("msg")));
    let trace = Some(text_of(root.get("traceId"))).filter(|t| !t.is_empty());
    Ok((root, code, message, trace))
}

/// What a `successItems` entry says of its row: accepted with its id, unless it echoes another
/// WhatsApp number than the row's.
fn success_verdict(
    value: &Value,
    phones: &[Option<&str>],
    traced: &dyn Fn(&str) -> String,
) -> RowAnswer {
    let item = value.as_object();
    let id = match item.and_then(|i| i.get("customerId")) {
        Some(Value::Number(num)) => Some(num.to_string()),
        Some(Value::String(s)) if !s.is_empty() => Some(escape_control(s).into_owned()),
        _ => None,
    };
    let echoed = item.map(|i| text_of(i.get("whatsAppPhone")));
    match (item.and_then(index_of), echoed) {
        (Some(i), Some(p)) if phone_contradicts(&p, phones.get(i).copied().flatten()) => {
            answer::unknown(
                answer::CONTRADICTORY,
                &traced(&format!(
                    "nxlink confirmed this row with another WhatsApp number ({})",
                    crate::provider::rules::mask_phone(&escape_control(&p))
                )),
            )
        }
        _ => RowAnswer::Accepted { id },
    }
}

/// What a `failItems` entry says of its row: refused, with the code and message given.
fn failure_verdict(value: &Value) -> RowAnswer {
    let item = value.as_object();
    let code = item
        .and_then(|i| code_of(i.get("errorCode")).map(|c| c.to_string()))
        .unwrap_or_else(|| text_of(item.and_then(|i| i.get("errorCode"))));
    RowAnswer::Refused {
        code: escape_control(&code).into_owned(),
        message: escape_control(&text_of(item.and_then(|i| i.get("errorMessage")))).into_owned(),
    }
}

/// An item's `index`, as a number or a numeric string.
fn index_of(item: &Map<String, Value>) -> Option<usize> {
    match item.get("index")? {
        Value::Number(n) => usize::try_from(n.as_u64()?).ok(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn whole_request(code: i64, message: String, trace: Option<&str>, tenant_id: i64) -> Answer {
    let message = match trace {
        Some(t) => format!(
            "{} (nxlink trace id {})",
            escape_control(&message),
            escape_control(t)
        ),
        None => escape_control(&message).into_owned(),
    };
    let fatal = |what: String| Answer::Fatal {
        code: code.to_string(),
        message: format!("nxlink answered code {code} ({message}): {what}"),
    };
    match code {
        1004 => Answer::Retry {
            kind: RetryKind::Clock,
            message: format!("nxlink answered code 1004 (timestamp expired): {message}"),
        },
        1001 => fatal("a required header was missing; please report this as a bug".into()),
        1003 => fatal("the signature was refused: check that access_secret (CUSTIMPORT_NXLINK_ACCESS_SECRET) belongs to access_key".into()),
        1005 => fatal("the access key was refused: check access_key (CUSTIMPORT_NXLINK_ACCESS_KEY) and that the customer data business is enabled for it".into()),
        21058 => fatal("tenant_id is required: set --tenant-id, tenant_id in [nxlink] or CUSTIMPORT_NXLINK_TENANT_ID".into()),
        21059 => fatal("app_key is required: set --app-key, app_key in [nxlink] or CUSTIMPORT_NXLINK_APP_KEY".into()),
        22124 => fatal(format!("the application is unavailable: check that app_key belongs to tenant {tenant_id} and is enabled")),
        22125 => fatal("the account's balance is insufficient: top it up, then run again with --resume".into()),
        // A seat that does not exist (12148) or a parameter error (1002) may come from some
        // rows only: bisect to find them.
        12148 | 1002 => Answer::BatchRefused {
            code: code.to_string(),
            message,
            bisect: true,
        },
        _ => Answer::BatchRefused {
            code: code.to_string(),
            message,
            bisect: false,
        },
    }
}

#[cfg(test)]
#[path = "nxlink_tests.rs"]
mod tests;
