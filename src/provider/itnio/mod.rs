//! itnio (itniotech AI voice) `importCustomer`: the [`Itnio`] provider, built from plain
//! [`Credentials`] and [`Options`], with validation, the request body and its signature. Pure
//! code. The field table is in `fields`, the reading of itnio's answer in `answer`.

use std::borrow::Cow;

use serde::Serialize;
use serde_json::{Map, Value};

use super::phone::{PhoneStats, Phones, Region};
use super::rules;
use super::StateAccount;
use super::{Answer, Cell, Mapped, Observed, Problems, Provider, ProviderSpec, Rejection};
use crate::secret::Secret;
use crate::sign;

mod answer;
mod fields;
mod properties;
mod spec;

pub use answer::interpret;
pub use fields::FIELDS;
use fields::{GENDER, NAME, PHONE};
pub use spec::ITNIO;

pub const PATH: &str = "/aivoice/importCustomer";

/// A validated customer person, serialised as the API expects.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Person {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(rename = "phoneNumber")]
    pub phone_number: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gender: Option<&'static str>,
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub properties: Map<String, Value>,
}

/// The credentials of an itnio account and the job leads go to: where they come from (flags,
/// environment, config file) is the caller's business.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    pub api_key: String,
    pub api_secret: Secret,
    pub app_id: String,
    pub job_id: u64,
}

/// The request options of an itnio run.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Body `callRecordDup`.
    pub call_record_dup: bool,
    /// The region numbers without a country code are read in (`--phone-region`).
    pub phone_region: Option<Region>,
    /// `phoneNumber` holds encrypted ids, sent as given (`--encrypted-phones`).
    pub encrypted_phones: bool,
}

/// Credentials and request options of an itnio run.
#[derive(Debug, Clone)]
pub struct Itnio {
    credentials: Credentials,
    call_record_dup: bool,
    /// How `phoneNumber` is read (`--phone-region`, the country property, `--encrypted-phones`).
    phones: Phones,
}

impl Itnio {
    /// The provider for these credentials and options.
    pub fn new(credentials: Credentials, options: Options) -> Itnio {
        Itnio {
            credentials,
            call_record_dup: options.call_record_dup,
            phones: Phones::new(options.phone_region, options.encrypted_phones),
        }
    }

    /// The account and job this provider signs and imports for.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }
}

impl Itnio {
    /// `phoneNumber`: required, normalised for the row's region.
    fn phone_number(
        &self,
        cell: Option<Cell<'_>>,
        region: Option<Region>,
        seen: &mut PhoneStats,
    ) -> Result<String, Rejection> {
        match rules::text("phoneNumber", cell, true)? {
            Some(p) => self.phones.normalise("phoneNumber", &p, 32, region, seen),
            None => Err(Rejection::new(
                "missing_phone",
                "phoneNumber: required (map a column to it)",
            )),
        }
    }
}

/// `gender`: `MALE` or `FEMALE`, from the words [`rules::gender`] knows.
fn gender(cell: Option<Cell<'_>>) -> Result<Option<&'static str>, Rejection> {
    match rules::text("gender", cell, false)? {
        Some(g) => Ok(Some(if rules::gender("gender", &g)? {
            "MALE"
        } else {
            "FEMALE"
        })),
        None => Ok(None),
    }
}

impl Provider for Itnio {
    type Customer = Person;

    fn spec(&self) -> &'static ProviderSpec {
        &ITNIO
    }

    /// Every field is checked, in the order below, and a refusal lists every problem found
    /// (see [`Problems`]). What reading sees of the phone numbers is noted in `seen`.
    fn prepare(&self, m: &Mapped<'_>, seen: &mut Observed) -> Result<Person, Rejection> {
        let mut p = Problems::default();
        let cell = |i: usize| m.fields.get(i).copied().flatten();
        let extras = properties::merged(&m.extras);
        let region = match &extras {
            Ok(extras) => self.phones.extras_region(extras, &mut seen.phones),
            Err(_) => self.phones.extras_region(&m.extras, &mut seen.phones),
        };
        let name = p
            .take(rules::text("name", cell(NAME), false))
            .flatten()
            .map(Cow::into_owned);
        let phone_number = p.take(self.phone_number(cell(PHONE), region, &mut seen.phones));
        let gender = p.take(gender(cell(GENDER))).flatten();
        let mut properties = Map::new();
        if let Some(extras) = p.take(extras) {
            p.take(rules::extras_into(&extras, &mut properties));
        }
        if let (true, Some(phone)) = (p.is_empty(), &phone_number) {
            self.phones
                .note_row(region, &[Some(phone.as_str())], &mut seen.phones);
        }
        p.finish(Person {
            name,
            phone_number: phone_number.unwrap_or_default(),
            gender,
            properties,
        })
    }

    fn dedup_key<'c>(&self, p: &'c Person) -> Option<&'c str> {
        Some(&p.phone_number)
    }

    fn write_body(&self, customers: &[&Person], buf: &mut Vec<u8>) {
        #[derive(Serialize)]
        struct Body<'a> {
            #[serde(rename = "appId")]
            app_id: &'a str,
            #[serde(rename = "jobId")]
            job_id: u64,
            #[serde(rename = "callRecordDup")]
            call_record_dup: bool,
            #[serde(rename = "customerPersons")]
            persons: &'a [&'a Person],
        }
        buf.clear();
        // About a hundred bytes per person: few reallocations as the body grows.
        buf.reserve(128 + 128 * customers.len());
        let body = Body {
            app_id: &self.credentials.app_id,
            job_id: self.credentials.job_id,
            call_record_dup: self.call_record_dup,
            persons: customers,
        };
        // Strings, integers and JSON values serialise into a Vec without error.
        let _ = serde_json::to_writer(&mut *buf, &body);
    }

    fn headers(&self, _body: &[u8], now_ms: i64) -> Vec<(&'static str, String)> {
        let ts = now_ms.div_euclid(1000).to_string();
        let sign = sign::itnio_sign(
            &self.credentials.api_key,
            self.credentials.api_secret.expose(),
            &ts,
        );
        vec![
            ("Content-Type", "application/json;charset=UTF-8".to_owned()),
            ("Api-Key", self.credentials.api_key.clone()),
            ("Timestamp", ts),
            ("Sign", sign),
        ]
    }

    fn interpret(&self, body: &[u8], customers: &[&Person]) -> Answer {
        let phones: Vec<&str> = customers.iter().map(|p| p.phone_number.as_str()).collect();
        interpret(
            body,
            &phones,
            self.credentials.job_id,
            &self.credentials.app_id,
        )
    }

    fn success_cells<'c>(&self, p: &'c Person, _id: Option<&'c str>) -> Vec<Cow<'c, str>> {
        vec![
            Cow::Borrowed(p.phone_number.as_str()),
            Cow::Borrowed(p.name.as_deref().unwrap_or_default()),
        ]
    }

    fn phones(&self) -> Option<&Phones> {
        Some(&self.phones)
    }

    fn state_account(&self) -> StateAccount {
        StateAccount {
            account: self.credentials.api_key.clone(),
            tenant: None,
            app: self.credentials.app_id.clone(),
            job: Some(self.credentials.job_id),
        }
    }

    /// The phone number (or encrypted id) as sent: itnio knows a lead by it within a job.
    fn state_key<'c>(&self, p: &'c Person) -> Option<Cow<'c, str>> {
        Some(Cow::Borrowed(p.phone_number.as_str()))
    }

    fn sent_bytes<'c>(&self, p: &'c Person, buf: &'c mut Vec<u8>) -> &'c [u8] {
        buf.clear();
        // Strings and JSON values serialise into a Vec without error; the same serialiser as
        // the request body, so these are the bytes the body carries for the person.
        let _ = serde_json::to_writer(&mut *buf, p);
        buf
    }

    fn unchanged_cells<'c>(&self, p: &'c Person) -> Vec<Cow<'c, str>> {
        vec![Cow::Borrowed(p.phone_number.as_str())]
    }
}

#[cfg(test)]
mod tests;
