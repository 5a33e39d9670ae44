//! The provider abstraction: everything that differs between nxlink and itnio, as pure code.
//!
//! A provider turns a mapped record into a validated, normalised customer (or a rejection),
//! writes the request body for a batch, signs it, and interprets the answer into one result per
//! row. It does no I/O: the pipeline and the HTTP layer do that, so all of this is unit-testable.

use std::borrow::Cow;

use serde_json::Value;

#[cfg(test)]
mod accounting_props;
pub mod answer;
pub mod dates;
pub mod itnio;
pub mod nxlink;
pub mod phone;
pub mod rules;
pub mod spec;

pub use crate::secret::Secret;
pub use crate::sign::Algorithm;
pub use spec::{spec_named, ProviderSpec};

/// A provider field that input columns can be mapped to.
#[derive(Debug, Clone, Copy)]
pub struct FieldDef {
    pub name: &'static str,
    /// Extra header names (compared after normalisation) that match this field.
    pub aliases: &'static [&'static str],
}

/// One input value as handed to a provider: a text cell (CSV) or a JSON value (JSONL).
#[derive(Debug, Clone, Copy)]
pub enum Cell<'a> {
    Text(&'a str),
    Json(&'a Value),
}

/// The mapped values of one record: by provider field index, plus free-form extras
/// (`customize_field` keys for nxlink, `properties` for itnio) in input order.
#[derive(Debug, Default)]
pub struct Mapped<'a> {
    pub fields: Vec<Option<Cell<'a>>>,
    pub extras: Vec<(std::borrow::Cow<'a, str>, Cell<'a>)>,
}

/// What reading saw of a run's values, for the warnings said once reading is done and the
/// dry-run plan view: a plain value the reading stage owns and passes to each
/// [`Provider::prepare`], so that providers hold settings only.
#[derive(Debug, Default)]
pub struct Observed {
    pub phones: phone::PhoneStats,
    pub dates: dates::DateStats,
}

/// Why a record is refused locally (never sent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub code: String,
    pub message: String,
}

impl Rejection {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Rejection {
        Rejection {
            code: code.into(),
            message: message.into(),
        }
    }
}

/// Every problem found in one record, in the order its fields are checked: a validation
/// driver checks every field and refuses the record once, with all of them.
#[derive(Debug, Default)]
pub struct Problems(Vec<Rejection>);

impl Problems {
    /// The value a field's check gave, or `None` once its problem is noted.
    pub fn take<T>(&mut self, checked: Result<T, Rejection>) -> Option<T> {
        match checked {
            Ok(v) => Some(v),
            Err(r) => {
                self.0.push(r);
                None
            }
        }
    }

    /// How many problems were found so far.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `value` when nothing was found; else one rejection: the first problem's code, and every
    /// problem's message joined by `; `.
    pub fn finish<T>(self, value: T) -> Result<T, Rejection> {
        let mut problems = self.0.into_iter();
        let Some(mut first) = problems.next() else {
            return Ok(value);
        };
        for next in problems {
            first.message.push_str("; ");
            first.message.push_str(&next.message);
        }
        Err(first)
    }
}

/// The provider's answer for one row of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowAnswer {
    /// Accepted; `id` is the provider's identifier when it gives one (kept as exact text).
    Accepted { id: Option<String> },
    /// Refused by the provider for this row.
    Refused { code: String, message: String },
    /// itnio: "already exists in this task". A failure on a first send, a success when an
    /// earlier attempt of the same row may have been applied.
    AlreadyExists { code: String, message: String },
    /// The answer neither confirmed nor refused this row unambiguously (left out, named twice,
    /// named on both sides, counts that disagree, a line that names no row): it may or may not
    /// be held by the provider.
    Unknown { code: String, message: String },
}

/// Why a request should be tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryKind {
    /// The provider says the timestamp expired: correct the clock and re-sign.
    Clock,
    /// The provider says we are going too fast: back off and lower concurrency.
    Throttle,
    /// The answer could not be understood (maybe cut short).
    Unparsable,
}

/// The interpretation of one answered request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// One answer per row of the batch, in batch order; `unattributed` lists answer lines the
    /// provider gave that match no row of the batch.
    Rows {
        rows: Vec<RowAnswer>,
        unattributed: Vec<String>,
    },
    /// The whole batch was refused. `bisect`: the refusal may be caused by some rows only, so
    /// splitting the batch can isolate them.
    BatchRefused {
        code: String,
        message: String,
        bisect: bool,
    },
    /// Try again (re-signed).
    Retry { kind: RetryKind, message: String },
    /// The run cannot succeed: stop it. `message` says what to fix.
    Fatal { code: String, message: String },
}

/// What a provider must provide to the pipeline. Implementations are pure.
pub trait Provider: Send + Sync + 'static {
    /// A validated, normalised customer ready to be serialised.
    type Customer: Send + Sync + 'static;

    /// What the provider is, as data: its name, path, fields, report columns, credential
    /// names.
    fn spec(&self) -> &'static ProviderSpec;

    /// Validate and normalise one mapped record, noting in `seen` what the closing warnings
    /// need (phone numbers read, birthdays refused).
    fn prepare(
        &self,
        mapped: &Mapped<'_>,
        seen: &mut Observed,
    ) -> Result<Self::Customer, Rejection>;
    /// A key two rows must not share within one input (itnio: the phone number; nxlink: the
    /// contact key of its duplicate rule).
    fn dedup_key<'c>(&self, _customer: &'c Self::Customer) -> Option<&'c str> {
        None
    }
    /// Write the request body for these customers into `buf` (cleared first).
    fn write_body(&self, customers: &[&Self::Customer], buf: &mut Vec<u8>);
    /// The request headers, signed over exactly `body`, for the clock reading `now_ms`.
    fn headers(&self, body: &[u8], now_ms: i64) -> Vec<(&'static str, String)>;
    /// Interpret an HTTP 200 answer to a request carrying `customers`.
    fn interpret(&self, body: &[u8], customers: &[&Self::Customer]) -> Answer;

    /// The `success.csv` cells (after `row`, in the order of [`ProviderSpec::success_header`])
    /// for an accepted customer.
    fn success_cells<'c>(
        &self,
        customer: &'c Self::Customer,
        id: Option<&'c str>,
    ) -> Vec<Cow<'c, str>>;
    /// How phone numbers are read (what reading saw of them is in [`Observed::phones`]).
    fn phones(&self) -> Option<&phone::Phones> {
        None
    }
    /// How dates are read (`--date-order`; what reading saw of them is in
    /// [`Observed::dates`]).
    fn dates(&self) -> Option<&dates::Dates> {
        None
    }

    // Incremental imports (`--skip-unchanged`, see `crate::state`).

    /// The account a row is remembered under (with the endpoint, the state's scope).
    fn state_account(&self) -> StateAccount {
        StateAccount::default()
    }
    /// The provider's identity of the customer: rows with the same key are the same customer
    /// to the provider. `None`: the row has none, it is always sent and never remembered.
    fn state_key<'c>(&self, _customer: &'c Self::Customer) -> Option<Cow<'c, str>> {
        None
    }
    /// Exactly what a request carries for this row (its JSON object), borrowed from the
    /// customer or written into `buf` (cleared first).
    fn sent_bytes<'c>(&self, _customer: &'c Self::Customer, buf: &'c mut Vec<u8>) -> &'c [u8] {
        buf.clear();
        buf
    }
    /// Request options that change what the provider does with a row (nxlink's `type`): part
    /// of every row's fingerprint, so that changing them sends every row again.
    fn state_salt(&self) -> String {
        String::new()
    }
    /// The `unchanged.csv` cells (after `row`, in the order of
    /// [`ProviderSpec::unchanged_header`]) for a customer.
    fn unchanged_cells<'c>(&self, _customer: &'c Self::Customer) -> Vec<Cow<'c, str>> {
        vec![]
    }
    /// A whole-request refusal caused by one named seat (nxlink 12148, "Assigned seat X does
    /// not exist"): the seat, so that only its rows fail and the others are sent again.
    fn refused_seat(&self, _code: &str, _message: &str) -> Option<String> {
        None
    }
    /// The seat a customer is assigned to (see [`Provider::refused_seat`]).
    fn seat_of<'c>(&self, _customer: &'c Self::Customer) -> Option<Cow<'c, str>> {
        None
    }
}

/// The account part of a state scope: the public identifiers of the credentials (never a
/// secret), the application, and for itnio the job.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StateAccount {
    /// nxlink access key / itnio api key.
    pub account: String,
    /// nxlink tenant id.
    pub tenant: Option<i64>,
    /// nxlink app key / itnio app id.
    pub app: String,
    /// itnio job id.
    pub job: Option<u64>,
}
