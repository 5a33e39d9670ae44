//! nxlink (NXCLOUD customer data platform) `customers/batch_create`: the [`Nxlink`] provider,
//! built from plain [`Credentials`] and [`Options`], and its [`Provider`] implementation. Pure
//! code; the work is done in the submodules:
//!
//! - `fields`: the field table and its header aliases;
//! - `validate`: reading and checking one record into a [`Customer`];
//! - `request`: the serialised customer ([`Prepared`]), the request body and its signed headers;
//! - `answer`: reading nxlink's answer into one answer per row.

use std::borrow::Cow;

use super::dates::Dates;
use super::phone::{Phones, Region};
use super::rules::DateOrder;
use super::StateAccount;
use super::{Answer, Mapped, Observed, Provider, ProviderSpec, Rejection};
use crate::secret::Secret;
use crate::sign::Algorithm;

mod answer;
mod fields;
mod request;
mod spec;
mod validate;

pub use answer::interpret;
pub use fields::FIELDS;
pub use request::{Prepared, PATH};
pub use spec::NXLINK;
pub use validate::Customer;

/// The credentials of an nxlink account: where they come from (flags, environment, config
/// file) is the caller's business.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    pub access_key: String,
    pub access_secret: Secret,
    pub tenant_id: i64,
    pub app_key: String,
}

/// How nxlink treats a customer it already holds: the body's `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Drop the old data and use the new (type 0).
    Replace,
    /// Update and add on top of the old (type 1).
    #[default]
    Merge,
    /// Keep the old data and drop the new (type 2).
    Keep,
}

impl Mode {
    /// Every mode, in the order of their numbers.
    pub const ALL: [Mode; 3] = [Mode::Replace, Mode::Merge, Mode::Keep];

    /// The body's `type` number for this mode.
    pub fn wire(self) -> u8 {
        match self {
            Mode::Replace => 0,
            Mode::Merge => 1,
            Mode::Keep => 2,
        }
    }

    /// The mode a body's `type` number stands for (`None` for any other number).
    pub fn from_wire(n: u8) -> Option<Mode> {
        Mode::ALL.into_iter().find(|m| m.wire() == n)
    }

    /// Its name on the command line and in the config file.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Replace => "replace",
            Mode::Merge => "merge",
            Mode::Keep => "keep",
        }
    }
}

/// The request options of an nxlink run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Body `type`.
    pub mode: Mode,
    pub strict_binding: bool,
    pub algorithm: Algorithm,
    /// The region numbers without a country code are read in (`--phone-region`).
    pub phone_region: Option<Region>,
    /// How birthdays written as three numbers are read (`--date-order`).
    pub date_order: DateOrder,
}

impl Default for Options {
    /// Merge, no strict binding, MD5 signatures, no phone region: the command line's defaults.
    fn default() -> Options {
        Options {
            mode: Mode::Merge,
            strict_binding: false,
            algorithm: Algorithm::Md5,
            phone_region: None,
            date_order: DateOrder::Ymd,
        }
    }
}

/// Credentials and request options of an nxlink run.
#[derive(Debug, Clone)]
pub struct Nxlink {
    credentials: Credentials,
    /// Body `type`.
    mode: Mode,
    strict_binding: bool,
    algorithm: Algorithm,
    /// How phone-like fields are read (`--phone-region`, the country column).
    phones: Phones,
    /// How birthdays are read (`--date-order`).
    dates: Dates,
}

impl Nxlink {
    /// The provider for these credentials and options.
    pub fn new(credentials: Credentials, options: Options) -> Nxlink {
        Nxlink {
            credentials,
            mode: options.mode,
            strict_binding: options.strict_binding,
            algorithm: options.algorithm,
            phones: Phones::new(options.phone_region, false).with_country_field(),
            dates: Dates::new(options.date_order),
        }
    }

    /// The account this provider signs for.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }
}

impl Provider for Nxlink {
    type Customer = Prepared;

    fn spec(&self) -> &'static ProviderSpec {
        &NXLINK
    }

    fn prepare(&self, m: &Mapped<'_>, seen: &mut Observed) -> Result<Prepared, Rejection> {
        self.customer(m, seen).map(|c| Prepared::new(&c))
    }

    fn dedup_key<'c>(&self, c: &'c Prepared) -> Option<&'c str> {
        c.contact_key()
    }

    fn write_body(&self, customers: &[&Prepared], buf: &mut Vec<u8>) {
        self.body_into(customers, buf);
    }

    fn headers(&self, body: &[u8], now_ms: i64) -> Vec<(&'static str, String)> {
        self.signed_headers(body, now_ms)
    }

    fn interpret(&self, body: &[u8], customers: &[&Prepared]) -> Answer {
        let phones: Vec<Option<&str>> = customers.iter().map(|c| c.whats_app_phone()).collect();
        interpret(body, &phones, self.credentials.tenant_id)
    }

    fn success_cells<'c>(&self, c: &'c Prepared, id: Option<&'c str>) -> Vec<Cow<'c, str>> {
        vec![
            Cow::Borrowed(id.unwrap_or_default()),
            Cow::Borrowed(c.whats_app_phone().unwrap_or_default()),
            Cow::Borrowed(c.full_name()),
        ]
    }

    fn phones(&self) -> Option<&Phones> {
        Some(&self.phones)
    }

    fn dates(&self) -> Option<&Dates> {
        Some(&self.dates)
    }

    fn state_account(&self) -> StateAccount {
        StateAccount {
            account: self.credentials.access_key.clone(),
            tenant: Some(self.credentials.tenant_id),
            app: self.credentials.app_key.clone(),
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
        format!("type={}", self.mode.wire())
    }

    fn unchanged_cells<'c>(&self, c: &'c Prepared) -> Vec<Cow<'c, str>> {
        vec![
            Cow::Borrowed(c.whats_app_phone().unwrap_or_default()),
            c.text_field("sms_phone").unwrap_or_default(),
            c.text_field("email").unwrap_or_default(),
        ]
    }

    fn refused_seat(&self, code: &str, message: &str) -> Option<String> {
        if code != "12148" {
            return None;
        }
        // "Assigned seat agent1 does not exist. Please check Admin -> Members."
        let lower = message.to_ascii_lowercase();
        let start = lower.find("seat ")? + "seat ".len();
        let len = lower[start..].find(" does not exist")?;
        let seat = message.get(start..start + len)?.trim();
        (!seat.is_empty() && !seat.contains(char::is_whitespace)).then(|| seat.to_owned())
    }

    fn seat_of<'c>(&self, c: &'c Prepared) -> Option<Cow<'c, str>> {
        c.text_field("belong_seat_user")
    }
}

#[cfg(test)]
mod tests;
