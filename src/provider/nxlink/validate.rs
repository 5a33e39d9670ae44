//! Validation of one nxlink record: each field read, checked against the API page's rules and
//! normalised into a [`Customer`], or the record refused with a [`Rejection`] naming the rule.
//!
//! Invariant: a customer that [`Nxlink::customer`] accepts satisfies every rule of the page, so
//! the provider never sees a row we could have refused locally.

use std::borrow::Cow;

use serde::Serialize;
use serde_json::{Map, Value};

use super::fields::{field, FIELDS, PHONE_FIELDS};
use super::Nxlink;
use crate::provider::dates::DateStats;
use crate::provider::phone::{CountryCell, PhoneStats, Region};
use crate::provider::rules::{self, json_kind};
use crate::provider::{Cell, Mapped, Observed, Problems, Rejection};

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

impl Customer<'_> {
    /// The first present of `whats_app_phone`, `sms_phone` and `email` (see
    /// [`Prepared::contact_key`](super::Prepared::contact_key)).
    pub fn contact_key(&self) -> Option<&str> {
        self.whats_app_phone
            .as_deref()
            .or(self.sms_phone.as_deref())
            .or(self.email.as_deref())
    }

    /// The contact channels: each field's name, and whether this customer has it.
    fn channels(&self) -> [(&'static str, bool); 8] {
        [
            ("sms_phone", self.sms_phone.is_some()),
            ("whats_app_phone", self.whats_app_phone.is_some()),
            ("email", self.email.is_some()),
            ("viber_phone", self.viber_phone.is_some()),
            ("messenger", self.messenger.is_some()),
            ("instagram", self.instagram.is_some()),
            ("line", self.line.is_some()),
            ("zalo", self.zalo.is_some()),
        ]
    }

    /// A customer needs at least one contact channel.
    fn require_channel(&self) -> Result<(), Rejection> {
        let channels = self.channels();
        if channels.iter().any(|(_, has)| *has) {
            return Ok(());
        }
        let names: Vec<&str> = channels.iter().map(|(name, _)| *name).collect();
        Err(Rejection::new(
            "no_contact",
            format!("needs at least one contact channel: {}", names.join(", ")),
        ))
    }
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
        seen: &mut PhoneStats,
    ) -> Result<Option<Cow<'a, str>>, Rejection> {
        match self.cell(m, idx)? {
            Some(v) => self
                .phones
                .normalise(FIELDS[idx].name, &v, 30, region, seen)
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
                Some(Cell::Json(v @ Value::Object(o))) => {
                    rules::json_text_kept("customize_field", v)?;
                    o.clone()
                }
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

    /// `email`: at most 50 characters, one `@` with text on both sides, no spaces.
    fn email<'a>(&self, m: &Mapped<'a>) -> Result<Option<Cow<'a, str>>, Rejection> {
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
        Ok(email)
    }

    /// `country`: at most 50 characters; sent as written when it is an ISO 3166 code or a
    /// country's name, else absent: a placeholder (`N/A`, `-`, `unknown`, …) silently, any
    /// other value counted in `seen` for one warning. Also what the cell says, for the row's
    /// phone region.
    fn country<'a>(
        &self,
        m: &Mapped<'a>,
        seen: &mut PhoneStats,
    ) -> Result<(Option<Cow<'a, str>>, Option<CountryCell>), Rejection> {
        let country = self.text(m, field::COUNTRY, Some(50))?;
        let cell = self.phones.country(country.as_deref(), seen);
        let known = matches!(cell, Some(CountryCell::Known(_)));
        Ok((country.filter(|_| known), cell))
    }

    /// `full_name`: required, at most 255 characters.
    fn full_name<'a>(&self, m: &Mapped<'a>) -> Result<Cow<'a, str>, Rejection> {
        self.text(m, field::FULL_NAME, Some(255))?
            .filter(|n| !n.trim().is_empty())
            .ok_or_else(|| {
                Rejection::new(
                    "missing_full_name",
                    "full_name: required, and not only spaces (map a column to it)",
                )
            })
    }

    fn gender(&self, m: &Mapped<'_>) -> Result<Option<u8>, Rejection> {
        match self.cell(m, field::GENDER)? {
            Some(g) => Ok(Some(u8::from(rules::gender("gender", &g)?))),
            None => Ok(None),
        }
    }

    fn birthday<'a>(
        &self,
        m: &Mapped<'a>,
        seen: &mut DateStats,
    ) -> Result<Option<Cow<'a, str>>, Rejection> {
        match self.cell(m, field::BIRTHDAY)? {
            Some(b) => Ok(Some(Cow::Owned(self.dates.birthday("birthday", &b, seen)?))),
            None => Ok(None),
        }
    }

    /// Validate and normalise one mapped record (borrowing its text where it can). Every field
    /// is checked, in the order below, and a refusal lists every problem found (see
    /// [`Problems`]). What reading sees of phones and birthdays is noted in `seen`.
    pub fn customer<'a>(
        &self,
        m: &Mapped<'a>,
        seen: &mut Observed,
    ) -> Result<Customer<'a>, Rejection> {
        let mut p = Problems::default();
        let full_name = p.take(self.full_name(m)).unwrap_or_default();
        let gender = p.take(self.gender(m)).flatten();
        let birthday = p.take(self.birthday(m, &mut seen.dates)).flatten();
        let before = p.len();
        let email = p.take(self.email(m)).flatten();
        let mut channel_problem = p.len() > before;
        let (country, cell) = p
            .take(self.country(m, &mut seen.phones))
            .unwrap_or_default();
        let region = self.phones.row_region(cell);
        let first_name = p.take(self.text(m, field::FIRST_NAME, Some(128))).flatten();
        let last_name = p.take(self.text(m, field::LAST_NAME, Some(128))).flatten();
        let before = p.len();
        let mut c = Customer {
            full_name,
            first_name,
            last_name,
            sms_phone: p
                .take(self.phone(m, field::SMS_PHONE, region, &mut seen.phones))
                .flatten(),
            whats_app_phone: p
                .take(self.phone(m, field::WHATS_APP_PHONE, region, &mut seen.phones))
                .flatten(),
            viber_phone: p
                .take(self.phone(m, field::VIBER_PHONE, region, &mut seen.phones))
                .flatten(),
            messenger: p.take(self.digits(m, field::MESSENGER)).flatten(),
            instagram: p.take(self.digits(m, field::INSTAGRAM)).flatten(),
            zalo: p.take(self.digits(m, field::ZALO)).flatten(),
            line: p.take(self.text(m, field::LINE, Some(50))).flatten(),
            country,
            email,
            birthday,
            gender,
            ..Customer::default()
        };
        channel_problem |= p.len() > before;
        c.address = p.take(self.text(m, field::ADDRESS, Some(100))).flatten();
        c.tag_str = p.take(self.text(m, field::TAG_STR, None)).flatten();
        c.remark = p.take(self.text(m, field::REMARK, Some(2000))).flatten();
        c.time_zone = p.take(self.text(m, field::TIME_ZONE, None)).flatten();
        c.customize_field = p.take(self.customize(m)).flatten();
        c.belong_seat_user = p
            .take(self.text(m, field::BELONG_SEAT_USER, Some(128)))
            .flatten();
        c.weight = p.take(self.small_int(m, field::WEIGHT, 1..=5)).flatten();
        // A channel given but refused is a problem of its own, not a missing contact.
        if !channel_problem {
            p.take(c.require_channel());
        }
        if p.is_empty() {
            let phones = [
                c.sms_phone.as_deref(),
                c.whats_app_phone.as_deref(),
                c.viber_phone.as_deref(),
            ];
            self.phones.note_row(region, &phones, &mut seen.phones);
        }
        p.finish(c)
    }
}
