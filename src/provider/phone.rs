//! Phone numbers for a region: `--phone-region`, the per-row `country` column and itnio's
//! `--encrypted-phones`. A phone-like value is read with the numbering plan of its row's region
//! (national `0812…`, international `+62…` or with the region's international prefix, bare
//! `62812…`) and sent as the digits of its E.164 form; a number that is not valid for its country
//! is refused with what was understood.
//!
//! The numbering plans are Google's libphonenumber metadata as the `phonenumber` crate ships it,
//! copied into `table.rs` (a test keeps the copy equal to the crate's).
//! Reading and validating follow libphonenumber's `parse` and `isValidNumber` step by step (the
//! crate's own parser differs from them in places: prefix-only pattern matches, other IDD
//! handling), with each region's patterns compiled once, anchored, and kept for the process.
//!
//! Invariant: without a region for a row, a value is read as before (separators removed,
//! digits sent as given); with one, what is sent is always `country code + national significant
//! number` of a number libphonenumber calls valid.

use std::borrow::Cow;

use phonenumber::Validation;

use super::{rules, Cell, Rejection};

mod plan;
mod table;
mod table_types;

pub use plan::is_valid_international;
use plan::{is_valid, parse, plan, region_of, NumberingPlan, ParseError, Source, MAX_NSN, MIN_NSN};

/// itnio: an encrypted id has at most this many characters.
const MAX_ENCRYPTED: usize = 32;
/// Before → after examples kept for the dry-run plan view.
const EXAMPLES: usize = 2;

/// A region with a numbering plan (an ISO 3166-1 alpha-2 code libphonenumber knows).
#[derive(Clone, Copy)]
pub struct Region(&'static NumberingPlan);

impl std::fmt::Debug for Region {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Region({})", self.0.id)
    }
}

impl PartialEq for Region {
    fn eq(&self, other: &Region) -> bool {
        std::ptr::eq(self.0, other.0)
    }
}

impl Region {
    /// An ISO 3166-1 alpha-2 code (any case) of a region with a numbering plan.
    pub fn from_code(code: &str) -> Option<Region> {
        let code = code.trim();
        let upper = match code.as_bytes() {
            [a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
                [a.to_ascii_uppercase(), b.to_ascii_uppercase()]
            }
            _ => return None,
        };
        let id = std::str::from_utf8(&upper).ok()?;
        plan(id).map(Region)
    }

    /// An ISO 3166-1 alpha-2 or alpha-3 code (any case: `ID`, `idn`) of a region with a
    /// numbering plan (`--phone-region`).
    pub fn from_iso(code: &str) -> Option<Region> {
        let code = code.trim();
        match code.len() {
            3 if code.bytes().all(|b| b.is_ascii_alphabetic()) => {
                let country = celes::Country::from_alpha3(code).ok()?;
                Region::from_code(country.alpha2)
            }
            _ => Region::from_code(code),
        }
    }

    /// The region of a country cell that names a country with a numbering plan (see
    /// [`read_country`]).
    pub fn from_country(text: &str) -> Option<Region> {
        match read_country(text) {
            CountryCell::Known(region) => region,
            CountryCell::Placeholder | CountryCell::Unknown => None,
        }
    }

    /// `ID`.
    pub fn id(&self) -> &'static str {
        self.0.id
    }

    /// `Indonesia`.
    pub fn name(&self) -> &str {
        &self.0.name
    }
}

/// What a country cell says.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CountryCell {
    /// An ISO 3166-1 code or a country's name; its region when that has a numbering plan.
    Known(Option<Region>),
    /// A stand-in for "no value" (`N/A`, `-`, `unknown`, …): the cell is absent.
    Placeholder,
    /// Anything else: no country either, and counted for a warning.
    Unknown,
}

/// Cells that stand for "no value" (compared trimmed and lowercased): the strings pandas reads
/// as missing by default, and the words people type. `na` and `no` are among them: in a
/// country column they far more often mean "not available" and "no" than Namibia and Norway,
/// which are written `NAM`, `NOR` or by name. Cells of punctuation only (`-`, `?`, `--`) too.
const PLACEHOLDERS: &[&str] = &[
    "n/a",
    "na",
    "n.a.",
    "n.a",
    "#n/a",
    "#na",
    "<na>",
    "nan",
    "-nan",
    "null",
    "nil",
    "none",
    "no",
    "unknown",
    "unk",
    "tbd",
    "tba",
    "not available",
    "not applicable",
    "empty",
];

/// Whether a cell stands for "no value" (see [`PLACEHOLDERS`]); an empty cell does.
pub fn is_placeholder(text: &str) -> bool {
    let text = text.trim();
    let punctuation = |c: char| c.is_ascii_punctuation() || matches!(c, '—' | '–' | '？');
    text.chars().all(punctuation) || PLACEHOLDERS.iter().any(|p| p.eq_ignore_ascii_case(text))
}

/// Read a country cell: an ISO 3166-1 alpha-2 or alpha-3 code, or a country's English name
/// as the `celes` crate knows it ("Indonesia", "The Philippines", "United States", "Viet
/// Nam"), exactly, case, spaces and punctuation inside a name aside. Anything else is a
/// placeholder or unknown (`N/A` is no Namibia, `No` no Norway, `Jawa` no country).
pub fn read_country(text: &str) -> CountryCell {
    if is_placeholder(text) {
        return CountryCell::Placeholder;
    }
    let text = text.trim();
    let lower = text.to_lowercase();
    let letters = text.bytes().all(|b| b.is_ascii_alphabetic());
    let country = match text.len() {
        2 if letters => celes::Country::from_alpha2(&lower).ok(),
        3 if letters => celes::Country::from_alpha3(&lower).ok(),
        _ => {
            // "South Korea", "Viet-Nam" → "southkorea", "vietnam", as celes keys its names.
            let key: String = lower.chars().filter(|c| c.is_alphanumeric()).collect();
            celes::Country::from_name(&key)
                .or_else(|_| celes::Country::from_alias(&key))
                .ok()
        }
    };
    match country {
        Some(c) => CountryCell::Known(Region::from_code(c.alpha2)),
        None => CountryCell::Unknown,
    }
}

/// Phone settings of a run: `--phone-region` and itnio's `--encrypted-phones`, and whether the
/// provider leaves an unrecognised country out of what it sends (nxlink's `country` field).
/// What reading saw of the phone numbers is kept apart, in the reader's [`PhoneStats`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Phones {
    region: Option<Region>,
    encrypted: bool,
    country_field: bool,
}

/// What reading saw of the phone numbers (for the end-of-reading warnings and the dry-run plan
/// view), and the country cell it read last. A plain value of the reading stage, passed to
/// each row's reading.
#[derive(Default)]
pub struct PhoneStats {
    /// Phone numbers read without a region that are not valid international numbers.
    not_international: u64,
    /// Up to [`EXAMPLES`] values as written and as sent, where they differ.
    examples: Vec<(String, String)>,
    /// Rows whose country cell is neither a country nor a placeholder (in every run).
    unknown_countries: u64,
    /// The last country cell read and what it says: a column holds few distinct countries,
    /// usually one after another.
    last_country: Option<(Box<str>, CountryCell)>,
}

/// The counts only: the examples and the country cell hold customer data, which never goes to
/// logs.
impl std::fmt::Debug for PhoneStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PhoneStats")
            .field("not_international", &self.not_international)
            .field("examples", &self.examples.len())
            .field("unknown_countries", &self.unknown_countries)
            .finish_non_exhaustive()
    }
}

/// What reading saw of the phone numbers, once it is done.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PhoneReport {
    /// `--phone-region` (id and name), if given.
    pub region: Option<(String, String)>,
    pub encrypted: bool,
    /// Phone numbers read without a region that are not valid international numbers.
    pub not_international: u64,
    /// Up to two values as written and as sent, where they differ.
    pub examples: Vec<(String, String)>,
    /// Rows whose country cell is neither a country nor a placeholder.
    pub unknown_countries: u64,
    /// Such a country is left out of what is sent (nxlink's `country` field).
    pub country_left_out: bool,
}

impl Phones {
    /// `region`: from `--phone-region` or the config; `encrypted`: itnio `--encrypted-phones`.
    pub fn new(region: Option<Region>, encrypted: bool) -> Phones {
        Phones {
            region,
            encrypted,
            country_field: false,
        }
    }

    /// The same settings for a provider with a country field of its own (nxlink), which leaves
    /// an unrecognised country out of what it sends; the warning says so.
    pub fn with_country_field(self) -> Phones {
        Phones {
            country_field: true,
            ..self
        }
    }

    pub fn region(&self) -> Option<Region> {
        self.region
    }

    pub fn encrypted(&self) -> bool {
        self.encrypted
    }

    /// What a row's country cell says (`None` for no cell or a blank one). A cell that is
    /// neither a country nor a placeholder is counted in `seen` for
    /// [`PhoneReport::country_warning`], in every run.
    pub fn country(&self, country: Option<&str>, seen: &mut PhoneStats) -> Option<CountryCell> {
        let country = country.map(str::trim).filter(|c| !c.is_empty())?;
        let found = match &seen.last_country {
            Some((text, cell)) if **text == *country => *cell,
            _ => {
                let cell = read_country(country);
                seen.last_country = Some((country.into(), cell));
                cell
            }
        };
        if found == CountryCell::Unknown {
            seen.unknown_countries += 1;
        }
        Some(found)
    }

    /// The region a row's phones are read with, given what its country cell says (see
    /// [`Phones::country`]): none without `--phone-region` (numbers are then read as before,
    /// whatever the row's country); with it, the row's country when that names a region with
    /// a numbering plan, else `--phone-region`'s.
    pub fn row_region(&self, country: Option<CountryCell>) -> Option<Region> {
        let run = self.region.filter(|_| !self.encrypted)?;
        match country {
            Some(CountryCell::Known(Some(region))) => Some(region),
            _ => Some(run),
        }
    }

    /// The region of an itnio row: from the property whose name (compared as headers are:
    /// any case, spaces, `_` and `-` ignored) is `country`, `国家` or `negara` (read and
    /// counted as [`Phones::country`] says; the property itself is sent as written).
    pub fn extras_region(
        &self,
        extras: &[(Cow<'_, str>, Cell<'_>)],
        seen: &mut PhoneStats,
    ) -> Option<Region> {
        let country = extras.iter().find_map(|(k, v)| {
            if !is_country_key(k) {
                return None;
            }
            match v {
                Cell::Text(s) => Some(*s),
                Cell::Json(serde_json::Value::String(s)) => Some(s.as_str()),
                Cell::Json(_) => None,
            }
        });
        let cell = self.country(country, seen);
        self.row_region(cell)
    }

    /// Normalise one phone-like value for `region` (see the module doc), at most `max`
    /// characters; with `--encrypted-phones` the value is an id sent as it is. The first values
    /// changed are kept in `seen` as examples.
    pub fn normalise(
        &self,
        field: &str,
        value: &str,
        max: usize,
        region: Option<Region>,
        seen: &mut PhoneStats,
    ) -> Result<String, Rejection> {
        if self.encrypted {
            return encrypted_id(field, value);
        }
        let digits = rules::phone(field, value, max)?;
        let Some(region) = region else {
            return Ok(digits);
        };
        let plus = value.trim_start().starts_with('+');
        let e164 = e164(field, region, plus, &digits)?;
        if e164 != value && seen.examples.len() < EXAMPLES {
            seen.examples.push((value.to_owned(), e164.clone()));
        }
        Ok(e164)
    }

    /// Count, for a row read with `region` (None: without one), its phone numbers (as sent)
    /// that are not valid international numbers when read as `+digits`: without a region (and
    /// without `--encrypted-phones`) they go out as given, which is right only for those.
    pub fn note_row(&self, region: Option<Region>, phones: &[Option<&str>], seen: &mut PhoneStats) {
        if region.is_some() || self.encrypted {
            return;
        }
        let n = phones
            .iter()
            .flatten()
            .filter(|p| !is_valid_international(p))
            .count();
        seen.not_international += n as u64;
    }

    /// These settings and what reading saw (`seen`).
    pub fn report(&self, seen: &PhoneStats) -> PhoneReport {
        PhoneReport {
            region: self
                .region
                .map(|r| (r.id().to_owned(), r.name().to_owned())),
            encrypted: self.encrypted,
            not_international: seen.not_international,
            examples: seen.examples.clone(),
            unknown_countries: seen.unknown_countries,
            country_left_out: self.country_field,
        }
    }
}

impl PhoneReport {
    /// The warning for the phone numbers that are not valid international numbers, if any
    /// were read.
    pub fn national_warning(&self) -> Option<String> {
        let n = self.not_international;
        (n > 0).then(|| {
            let (numbers, are) = if n == 1 {
                ("phone number is not a valid international number", "it")
            } else {
                ("phone numbers are not valid international numbers", "them")
            };
            format!(
                "{n} {numbers} as written (national, such as 0812…, or without a country \
                 code) and will be sent as given; give --phone-region <CC> (e.g. \
                 --phone-region ID) to read {are} with that country's numbering plan"
            )
        })
    }
}

impl PhoneReport {
    /// The warning for country cells that name no country, if any did: what became of the
    /// value (left out of nxlink's request; an itnio property sent as written) and, with
    /// `--phone-region`, what the row's phone numbers were read as.
    pub fn country_warning(&self) -> Option<String> {
        let n = self.unknown_countries;
        if n == 0 {
            return None;
        }
        let (rows, has) = if n == 1 {
            ("row", "has")
        } else {
            ("rows", "have")
        };
        let mut what = Vec::new();
        if self.country_left_out {
            what.push("the country field is left out of what is sent".to_owned());
        }
        match &self.region {
            Some((_, name)) if !self.encrypted => what.push(format!(
                "their phone numbers were read as numbers of {name} (--phone-region)"
            )),
            _ if what.is_empty() => what.push("the property is sent as written".to_owned()),
            _ => {}
        }
        Some(format!(
            "{n} {rows} {has} a country that is no ISO 3166 code or country name \
             (write e.g. ID, IDN or Indonesia): {}",
            what.join(", and ")
        ))
    }
}

/// Whether an itnio property name is the country column.
fn is_country_key(key: &str) -> bool {
    let norm = || {
        key.chars()
            .filter(|c| !matches!(c, ' ' | '_' | '-') && !c.is_whitespace())
            .flat_map(char::to_lowercase)
    };
    ["country", "国家", "negara"]
        .iter()
        .any(|want| norm().eq(want.chars()))
}

/// itnio's encrypted id: printable ASCII without spaces, at most 32 characters, as given.
fn encrypted_id(field: &str, value: &str) -> Result<String, Rejection> {
    if !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Rejection::new(
            "invalid_phone",
            format!(
                "{field}: an encrypted id (--encrypted-phones) must be printable ASCII without spaces"
            ),
        ));
    }
    if value.len() > MAX_ENCRYPTED {
        return Err(Rejection::new(
            "invalid_phone",
            format!(
                "{field}: an encrypted id has at most {MAX_ENCRYPTED} characters, this one has {}",
                value.len()
            ),
        ));
    }
    Ok(value.to_owned())
}

/// The E.164 digits (without `+`) of a number written in `region`, or why it is not valid.
fn e164(field: &str, region: Region, plus: bool, digits: &str) -> Result<String, Rejection> {
    let default = region.0;
    let bad = |msg: String| Rejection::new("invalid_phone", format!("{field}: {msg}"));
    let parsed = parse(default, plus, digits).map_err(|e| {
        bad(match e {
            ParseError::InvalidCountryCode { after_idd: true } => format!(
                "read as dialled from {} with an international prefix, but no country calling code follows it",
                default.name
            ),
            ParseError::InvalidCountryCode { after_idd: false } => {
                "written with +, but the digits after it do not start with a country calling code"
                    .to_owned()
            }
            ParseError::TooShortAfterIdd => {
                "too short: hardly any digits after the international prefix".to_owned()
            }
            ParseError::TooShortNsn => format!(
                "too short for {} (+{}): fewer than {MIN_NSN} digits",
                default.name, default.code
            ),
            ParseError::TooLong => format!("too long: more than {MAX_NSN} digits after the country code"),
        })
    })?;
    if is_valid(&parsed) {
        let mut out = parsed.code.to_string();
        out.push_str(&parsed.nsn);
        return Ok(out);
    }
    // Explain it with the plan of the region the number belongs to (or its code's main one).
    let plan = region_of(parsed.plan, parsed.code, &parsed.nsn).unwrap_or(parsed.plan);
    let n = parsed.nsn.len();
    let why = match plan.test_length(n) {
        Validation::TooShort => "too short",
        Validation::TooLong => "too long",
        Validation::InvalidLength => "a length no number there has",
        Validation::IsPossibleLocalOnly => "a local number without its area code",
        _ => "not a number in use",
    };
    let after = format!("{n} digits after the country code");
    let how = match parsed.source {
        Source::National => format!("a national number of {} digits", digits.len()),
        Source::Plus => format!("an international number (+{}), {after}", parsed.code),
        Source::Idd => format!(
            "an international number dialled with {}'s international prefix, {after}",
            default.name
        ),
        Source::Bare => format!(
            "a number starting with the country code {}, {after}",
            parsed.code
        ),
    };
    Err(bad(format!(
        "{why} for {} (+{}): read as {how}",
        plan.name, plan.code
    )))
}

#[cfg(test)]
mod tests;
