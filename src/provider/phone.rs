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
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex, OnceLock};

use phonenumber::Validation;
use regex::{Regex, RegexBuilder};

use super::{rules, Cell, Rejection};

/// libphonenumber's `MIN_LENGTH_FOR_NSN` and `MAX_LENGTH_FOR_NSN`.
const MIN_NSN: usize = 2;
const MAX_NSN: usize = 17;
/// Country calling codes have 1 to 3 digits.
const MAX_CC: usize = 3;
/// itnio: an encrypted id has at most this many characters.
const MAX_ENCRYPTED: usize = 32;
/// Before → after examples kept for the dry-run plan view.
const EXAMPLES: usize = 2;

/// One phone number description (a number type, or the general one): its national number
/// pattern anchored at both ends, and the lengths numbers of it have.
struct Desc {
    pattern: Pattern,
    lengths: Vec<usize>,
}

/// A metadata pattern, anchored, compiled on first use: a region has a dozen, a number needs
/// two or three, and a country code may have dozens of regions (+1 has 25), each compiled
/// pattern costing tens of kilobytes.
struct Pattern {
    source: Cow<'static, str>,
    /// Anchored at both ends (else at the start only).
    whole: bool,
    compiled: OnceLock<Option<Regex>>,
}

impl Pattern {
    fn new(source: impl Into<Cow<'static, str>>, whole: bool) -> Pattern {
        Pattern {
            source: source.into(),
            whole,
            compiled: OnceLock::new(),
        }
    }

    /// The compiled pattern; `None` if it does not compile (no pattern of the table fails: a
    /// test compiles them all).
    fn regex(&self) -> Option<&Regex> {
        self.compiled
            .get_or_init(|| compile(&self.source, self.whole))
            .as_ref()
    }

    fn is_match(&self, text: &str) -> bool {
        self.regex().is_some_and(|re| re.is_match(text))
    }
}

impl Desc {
    /// libphonenumber's `isNumberMatchingDesc`: a possible length, and the whole pattern.
    fn matches(&self, nsn: &str) -> bool {
        (self.lengths.is_empty() || self.lengths.contains(&nsn.len())) && self.pattern.is_match(nsn)
    }
}

/// One region's numbering plan, compiled from the crate's metadata.
struct Plan {
    /// `ID`, or `001` for a non-geographic entity.
    id: &'static str,
    /// An English name for messages.
    name: Cow<'static, str>,
    code: u16,
    /// `code` as text.
    code_text: String,
    /// The general description's pattern; its lengths are the union of every type's, as
    /// libphonenumber's metadata builder computes them.
    general: Desc,
    /// Lengths only diallable locally (without an area code).
    local_only: Vec<usize>,
    /// The number types that make a number valid (mobile and fixed line first: most numbers).
    types: Vec<Desc>,
    /// The international dialling prefix, anchored at the start.
    idd: Option<Pattern>,
    /// The national prefix for parsing, anchored at the start, and its transform rule.
    national_prefix: Option<Pattern>,
    transform: Option<String>,
    /// The national number's leading digits that pick this region among those sharing its code.
    leading: Option<Pattern>,
}

impl std::fmt::Debug for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Plan({})", self.id)
    }
}

fn compile(pattern: &str, whole: bool) -> Option<Regex> {
    let anchored = if whole {
        format!("^(?:{pattern})$")
    } else {
        format!("^(?:{pattern})")
    };
    // `\d` is ASCII as in libphonenumber's Java patterns; Unicode's digits made each
    // compiled pattern several times larger.
    RegexBuilder::new(&anchored)
        .ignore_whitespace(true)
        .unicode(false)
        .dfa_size_limit(64 << 20)
        .build()
        .ok()
}

/// Java's `$1` in a transform rule as the regex crate writes it (`${1}`: `$15` would be group 15).
fn transform_rule(rule: &str) -> String {
    let mut out = String::with_capacity(rule.len() + 4);
    let mut chars = rule.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('$', Some(d)) if d.is_ascii_digit() => {
                out.push_str("${");
                out.push(*d);
                out.push('}');
                chars.next();
            }
            _ => out.push(c),
        }
    }
    out
}

/// One number description of the table (`table.rs`): the national number pattern and the
/// lengths numbers of it have, nationally and locally only.
struct TableDesc {
    pattern: &'static str,
    lengths: &'static [u16],
    local: &'static [u16],
}

/// One region of the table (`table.rs`): the metadata fields [`Plan::compile`] reads.
struct TableRegion {
    id: &'static str,
    code: u16,
    /// The main region of its country calling code.
    main: bool,
    general: &'static str,
    /// Mobile, fixed line, toll free, premium rate, shared cost, personal, VoIP, pager, UAN,
    /// voicemail: those the region has, in that order.
    types: &'static [TableDesc],
    idd: Option<&'static str>,
    prefix_for_parsing: Option<&'static str>,
    prefix: Option<&'static str>,
    transform: Option<&'static str>,
    leading: Option<&'static str>,
}

mod table;

impl Plan {
    fn compile(meta: &'static TableRegion) -> Plan {
        let typed = meta.types;
        let mut lengths: Vec<usize> = typed
            .iter()
            .flat_map(|t| t.lengths.iter().map(|&l| usize::from(l)))
            .collect();
        lengths.sort_unstable();
        lengths.dedup();
        let mut local_only: Vec<usize> = typed
            .iter()
            .flat_map(|t| t.local.iter().map(|&l| usize::from(l)))
            .filter(|l| !lengths.contains(l))
            .collect();
        local_only.sort_unstable();
        local_only.dedup();
        let types = typed
            .iter()
            .map(|t| Desc {
                pattern: Pattern::new(t.pattern, true),
                lengths: t.lengths.iter().map(|&l| usize::from(l)).collect(),
            })
            .collect();
        let national_prefix = match meta.prefix_for_parsing {
            Some(re) => Some(Pattern::new(re, false)),
            None => meta
                .prefix
                .filter(|p| !p.is_empty())
                .map(|p| Pattern::new(regex::escape(p), false)),
        };
        Plan {
            id: meta.id,
            name: english_name(meta.id),
            code: meta.code,
            code_text: meta.code.to_string(),
            general: Desc {
                pattern: Pattern::new(meta.general, true),
                lengths,
            },
            local_only,
            types,
            idd: meta.idd.map(|re| Pattern::new(re, false)),
            national_prefix,
            transform: meta.transform.filter(|r| !r.is_empty()).map(transform_rule),
            leading: meta.leading.map(|re| Pattern::new(re, false)),
        }
    }

    /// The regions sharing this one's country calling code.
    fn siblings(&'static self) -> &'static [&'static Plan] {
        regions(self.code)
    }

    /// libphonenumber's `testNumberLength` for any number type.
    fn test_length(&self, n: usize) -> Validation {
        let l = &self.general.lengths;
        if self.local_only.contains(&n) {
            return Validation::IsPossibleLocalOnly;
        }
        let (Some(&min), Some(&max)) = (l.first(), l.last()) else {
            return Validation::InvalidLength;
        };
        if n < min {
            Validation::TooShort
        } else if n > max {
            Validation::TooLong
        } else if l.contains(&n) {
            Validation::IsPossible
        } else {
            Validation::InvalidLength
        }
    }

    /// libphonenumber's `getNumberTypeHelper(..) != UNKNOWN`.
    fn has_type(&self, nsn: &str) -> bool {
        self.general.matches(nsn) && self.types.iter().any(|t| t.matches(nsn))
    }

    /// libphonenumber's `maybeStripNationalPrefixAndCarrierCode`: the number without its
    /// national (trunk) prefix, when it has one that may go.
    fn strip_national_prefix(&self, number: &str) -> Option<String> {
        let re = self.national_prefix.as_ref()?.regex()?;
        let end = re.find(number)?.end();
        let viable = self.general.pattern.is_match(number);
        // Capture groups (slower to find than the match) only matter to a transform rule.
        let transformed = self.transform.as_ref().and_then(|rule| {
            let caps = re.captures(number)?;
            caps.get(caps.len() - 1)?;
            let mut t = String::with_capacity(number.len() + rule.len());
            caps.expand(rule, &mut t);
            t.push_str(&number[end..]);
            Some(t)
        });
        let stripped = transformed.unwrap_or_else(|| number[end..].to_owned());
        if viable && !self.general.pattern.is_match(&stripped) {
            return None;
        }
        Some(stripped)
    }
}

/// Each region's plan, compiled on first use and kept for the life of the process (compiling
/// a region's patterns costs milliseconds, using them nanoseconds); indexed like
/// `table::REGIONS`.
static PLANS: LazyLock<Box<[OnceLock<Plan>]>> =
    LazyLock::new(|| table::REGIONS.iter().map(|_| OnceLock::new()).collect());

/// The plan of a region id (`ID`).
fn plan(id: &str) -> Option<&'static Plan> {
    plan_at(table::REGIONS.binary_search_by(|r| r.id.cmp(id)).ok()?)
}

/// The plan of `table::REGIONS[i]`.
fn plan_at(i: usize) -> Option<&'static Plan> {
    let meta = table::REGIONS.get(i)?;
    Some(PLANS.get(i)?.get_or_init(|| Plan::compile(meta)))
}

/// The regions of each country calling code, once looked up.
static BY_CODE: [OnceLock<&'static [&'static Plan]>; 1000] = [const { OnceLock::new() }; 1000];

/// Which numbers are assigned country calling codes.
static CODES: LazyLock<Vec<bool>> = LazyLock::new(|| {
    let mut codes = vec![false; 1000];
    for m in table::REGIONS {
        if let Some(slot) = codes.get_mut(usize::from(m.code)) {
            *slot = true;
        }
    }
    codes
});

/// The regions sharing a country calling code: the main one first, then by id (the order
/// of libphonenumber's country-code map). Empty when the code is not assigned.
fn regions(code: u16) -> &'static [&'static Plan] {
    let Some(slot) = BY_CODE.get(usize::from(code)) else {
        return &[];
    };
    slot.get_or_init(|| {
        // The table is sorted by id: the main region first, the others keep that order.
        let of_code = || (table::REGIONS.iter().enumerate()).filter(|(_, r)| r.code == code);
        let plans: Vec<&'static Plan> = of_code()
            .filter(|(_, r)| r.main)
            .chain(of_code().filter(|(_, r)| !r.main))
            .filter_map(|(i, _)| plan_at(i))
            .collect();
        Box::leak(plans.into_boxed_slice())
    })
}

/// The regions of a country calling code (`near`'s siblings when it is its own).
fn regions_of(near: &'static Plan, code: u16) -> &'static [&'static Plan] {
    if code == near.code {
        near.siblings()
    } else {
        regions(code)
    }
}

/// An English name for a region id: the ISO 3166 short name (without a leading "The").
fn english_name(id: &str) -> Cow<'static, str> {
    match celes::Country::from_alpha2(id) {
        Ok(c) => Cow::Borrowed(c.long_name.strip_prefix("The ").unwrap_or(c.long_name)),
        Err(_) => Cow::Owned(format!("region {id}")),
    }
}

/// A region with a numbering plan (an ISO 3166-1 alpha-2 code libphonenumber knows).
#[derive(Clone, Copy)]
pub struct Region(&'static Plan);

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

/// How a number was read (libphonenumber's country code source).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Plus,
    Idd,
    Bare,
    National,
}

/// A number that parsed: its country calling code and national significant number.
#[derive(Debug)]
struct Parsed {
    code: u16,
    nsn: String,
    source: Source,
    /// The plan the national prefix was judged by.
    plan: &'static Plan,
}

/// Why a number did not parse (libphonenumber's `NumberParseException` types).
#[derive(Debug, PartialEq, Eq)]
enum ParseError {
    InvalidCountryCode { after_idd: bool },
    TooShortAfterIdd,
    TooShortNsn,
    TooLong,
}

/// libphonenumber's `extractCountryCode`: the code and the rest.
fn extract_code(digits: &str) -> Option<(u16, &str)> {
    if digits.starts_with('0') {
        return None;
    }
    (1..=MAX_CC.min(digits.len())).find_map(|i| {
        let code: u16 = digits.get(..i)?.parse().ok()?;
        CODES
            .get(usize::from(code))
            .copied()
            .unwrap_or(false)
            .then(|| (code, &digits[i..]))
    })
}

/// libphonenumber's `maybeExtractCountryCode` for a number without `+`: the region's IDD, or
/// the region's own code written without `+`. `Ok(None)`: no country code (a national number).
fn code_without_plus<'d>(
    default: &'static Plan,
    digits: &'d str,
) -> Result<Option<(u16, Cow<'d, str>, Source)>, ParseError> {
    if let Some(m) = (default.idd.as_ref()).and_then(|idd| idd.regex()?.find(digits)) {
        let rest = &digits[m.end()..];
        // A country calling code never starts with 0: then the prefix was not an IDD.
        if !rest.starts_with('0') {
            if rest.len() <= MIN_NSN {
                return Err(ParseError::TooShortAfterIdd);
            }
            return match extract_code(rest) {
                Some((code, nsn)) => Ok(Some((code, Cow::Borrowed(nsn), Source::Idd))),
                None => Err(ParseError::InvalidCountryCode { after_idd: true }),
            };
        }
    }
    if let Some(potential) = digits.strip_prefix(default.code_text.as_str()) {
        let potential = default
            .strip_national_prefix(potential)
            .map_or(Cow::Borrowed(potential), Cow::Owned);
        let general = &default.general.pattern;
        if (!general.is_match(digits) && general.is_match(&potential))
            || default.test_length(digits.len()) == Validation::TooLong
        {
            return Ok(Some((default.code, potential, Source::Bare)));
        }
    }
    Ok(None)
}

/// libphonenumber's `parse(number, defaultRegion)` for `digits` (already stripped of
/// separators), written with a leading `+` or not.
fn parse(default: &'static Plan, plus: bool, digits: &str) -> Result<Parsed, ParseError> {
    let extracted = if plus {
        if digits.len() <= MIN_NSN {
            return Err(ParseError::TooShortAfterIdd);
        }
        match extract_code(digits) {
            Some((code, nsn)) => Some((code, Cow::Borrowed(nsn), Source::Plus)),
            // libphonenumber tries again as if the `+` were not there, and needs a code then.
            None => match code_without_plus(default, digits)? {
                Some(found) => Some(found),
                None => return Err(ParseError::InvalidCountryCode { after_idd: false }),
            },
        }
    } else {
        code_without_plus(default, digits)?
    };
    // libphonenumber judges the national prefix by the main region of an extracted code,
    // and by the default region for a national number.
    let (code, nsn, source, plan) = match extracted {
        Some((code, nsn, source)) => match regions_of(default, code).first() {
            Some(main) => (code, nsn, source, *main),
            None => return Err(ParseError::InvalidCountryCode { after_idd: false }),
        },
        None => (
            default.code,
            Cow::Borrowed(digits),
            Source::National,
            default,
        ),
    };
    if nsn.len() < MIN_NSN {
        return Err(ParseError::TooShortNsn);
    }
    let nsn = match plan.strip_national_prefix(&nsn) {
        Some(stripped)
            if !matches!(
                plan.test_length(stripped.len()),
                Validation::TooShort | Validation::IsPossibleLocalOnly | Validation::InvalidLength
            ) =>
        {
            stripped
        }
        _ => nsn.into_owned(),
    };
    if nsn.len() < MIN_NSN {
        return Err(ParseError::TooShortNsn);
    }
    if nsn.len() > MAX_NSN {
        return Err(ParseError::TooLong);
    }
    Ok(Parsed {
        code,
        nsn,
        source,
        plan,
    })
}

/// libphonenumber's `getRegionCodeForNumber`: among the regions of the code, the one whose
/// leading digits the number has, else the first for which it is a number of some type.
fn region_of(near: &'static Plan, code: u16, nsn: &str) -> Option<&'static Plan> {
    match regions_of(near, code) {
        [] => None,
        [only] => Some(only),
        many => many.iter().copied().find(|p| match &p.leading {
            Some(re) => re.is_match(nsn),
            None => p.has_type(nsn),
        }),
    }
}

/// libphonenumber's `isValidNumber`.
fn is_valid(p: &Parsed) -> bool {
    region_of(p.plan, p.code, &p.nsn).is_some_and(|r| r.has_type(&p.nsn))
}

/// Whether `digits` (separators removed) read as `+digits` is a valid international number:
/// a country calling code, then a number valid in its region.
pub fn is_valid_international(digits: &str) -> bool {
    let Some((code, _)) = extract_code(digits) else {
        return false;
    };
    let Some(&main) = regions(code).first() else {
        return false;
    };
    parse(main, true, digits).is_ok_and(|p| p.source == Source::Plus && is_valid(&p))
}

/// Phone settings of a run and what reading saw of its phone numbers. Clones share what was
/// seen.
#[derive(Clone, Default)]
pub struct Phones {
    region: Option<Region>,
    encrypted: bool,
    seen: Arc<Seen>,
}

/// The settings only: what was seen holds phone numbers, which never go to logs.
impl std::fmt::Debug for Phones {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Phones")
            .field("region", &self.region)
            .field("encrypted", &self.encrypted)
            .finish_non_exhaustive()
    }
}

/// What reading saw (for the end-of-reading warning and the dry-run plan view).
#[derive(Default)]
struct Seen {
    /// Phone numbers read without a region that are not valid international numbers.
    not_international: AtomicU64,
    taken: AtomicUsize,
    examples: Mutex<Vec<(String, String)>>,
    /// The last country cell read and what it says.
    last_country: Mutex<Option<(Box<str>, CountryCell)>>,
    /// Rows read with a region whose country cell is neither a country nor a placeholder.
    unknown_countries: AtomicU64,
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
    /// Rows read with a region whose country cell is neither a country nor a placeholder.
    pub unknown_countries: u64,
}

impl Phones {
    /// `region`: from `--phone-region` or the config; `encrypted`: itnio `--encrypted-phones`.
    pub fn new(region: Option<Region>, encrypted: bool) -> Phones {
        Phones {
            region,
            encrypted,
            seen: Arc::default(),
        }
    }

    pub fn region(&self) -> Option<Region> {
        self.region
    }

    pub fn encrypted(&self) -> bool {
        self.encrypted
    }

    /// The region a row's phones are read with: none without `--phone-region` (numbers are
    /// then read as before, whatever the row's country); with it, the row's country cell when
    /// that names a region with a numbering plan, else `--phone-region`'s (a cell that is no
    /// country nor a placeholder is counted for [`PhoneReport::country_warning`]).
    pub fn row_region(&self, country: Option<&str>) -> Option<Region> {
        let run = self.region.filter(|_| !self.encrypted)?;
        let Some(country) = country.map(str::trim).filter(|c| !c.is_empty()) else {
            return Some(run);
        };
        // A column holds few distinct countries, usually one after another: the last one read
        // is remembered.
        let mut last = self
            .seen
            .last_country
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let found = match &*last {
            Some((text, cell)) if **text == *country => *cell,
            _ => {
                let cell = read_country(country);
                *last = Some((country.into(), cell));
                cell
            }
        };
        match found {
            CountryCell::Known(region) => Some(region.unwrap_or(run)),
            CountryCell::Placeholder => Some(run),
            CountryCell::Unknown => {
                self.seen.unknown_countries.fetch_add(1, Ordering::Relaxed);
                Some(run)
            }
        }
    }

    /// The region of an itnio row: from the property whose name (compared as headers are:
    /// any case, spaces, `_` and `-` ignored) is `country`, `国家` or `negara`.
    pub fn extras_region(&self, extras: &[(Cow<'_, str>, Cell<'_>)]) -> Option<Region> {
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
        self.row_region(country)
    }

    /// Normalise one phone-like value for `region` (see the module doc), at most `max`
    /// characters; with `--encrypted-phones` the value is an id sent as it is.
    pub fn normalise(
        &self,
        field: &str,
        value: &str,
        max: usize,
        region: Option<Region>,
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
        if e164 != value && self.seen.taken.load(Ordering::Relaxed) < EXAMPLES {
            let mut ex = self.seen.examples.lock().unwrap_or_else(|e| e.into_inner());
            if ex.len() < EXAMPLES {
                ex.push((value.to_owned(), e164.clone()));
                self.seen.taken.store(ex.len(), Ordering::Relaxed);
            }
        }
        Ok(e164)
    }

    /// Count, for a row read with `region` (None: without one), its phone numbers (as sent)
    /// that are not valid international numbers when read as `+digits`: without a region (and
    /// without `--encrypted-phones`) they go out as given, which is right only for those.
    pub fn note_row(&self, region: Option<Region>, phones: &[Option<&str>]) {
        if region.is_some() || self.encrypted {
            return;
        }
        let n = phones
            .iter()
            .flatten()
            .filter(|p| !is_valid_international(p))
            .count();
        if n > 0 {
            self.seen
                .not_international
                .fetch_add(n as u64, Ordering::Relaxed);
        }
    }

    /// What reading saw so far.
    pub fn report(&self) -> PhoneReport {
        PhoneReport {
            region: self
                .region
                .map(|r| (r.id().to_owned(), r.name().to_owned())),
            encrypted: self.encrypted,
            not_international: self.seen.not_international.load(Ordering::Relaxed),
            examples: self
                .seen
                .examples
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
            unknown_countries: self.seen.unknown_countries.load(Ordering::Relaxed),
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
    /// The warning for country cells that name no country, if any did.
    pub fn country_warning(&self) -> Option<String> {
        let n = self.unknown_countries;
        let (_, name) = self.region.as_ref()?;
        (n > 0).then(|| {
            let (rows, has) = if n == 1 {
                ("row", "has")
            } else {
                ("rows", "have")
            };
            format!(
                "{n} {rows} {has} a country that is no ISO 3166 code or country name \
                 (write e.g. ID, IDN or Indonesia): their phone numbers were read as numbers \
                 of {name} (--phone-region)"
            )
        })
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
