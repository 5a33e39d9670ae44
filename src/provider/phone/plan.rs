//! libphonenumber's reading and validity, ported step by step onto its metadata: each region's
//! numbering plan (compiled from `table.rs` on first use and kept for the process), the country
//! calling code's regions, `parse(number, defaultRegion)` and `isValidNumber`. The rest of the
//! phone module (settings, country cells, what reading saw) builds on [`parse`] and
//! [`is_valid`].

use std::borrow::Cow;
use std::sync::{LazyLock, OnceLock};

use phonenumber::Validation;
use regex::{Regex, RegexBuilder};

use super::table;
use super::table_types::TableRegion;

/// libphonenumber's `MIN_LENGTH_FOR_NSN` and `MAX_LENGTH_FOR_NSN`.
pub(super) const MIN_NSN: usize = 2;
pub(super) const MAX_NSN: usize = 17;
/// Country calling codes have 1 to 3 digits.
pub(super) const MAX_CC: usize = 3;

/// One phone number description (a number type, or the general one): its national number
/// pattern anchored at both ends, and the lengths numbers of it have.
pub(super) struct Desc {
    pub(super) pattern: Pattern,
    pub(super) lengths: Vec<usize>,
}

/// A metadata pattern, anchored, compiled on first use: a region has a dozen, a number needs
/// two or three, and a country code may have dozens of regions (+1 has 25), each compiled
/// pattern costing tens of kilobytes.
pub(super) struct Pattern {
    pub(super) source: Cow<'static, str>,
    /// Anchored at both ends (else at the start only).
    pub(super) whole: bool,
    pub(super) compiled: OnceLock<Option<Regex>>,
}

impl Pattern {
    pub(super) fn new(source: impl Into<Cow<'static, str>>, whole: bool) -> Pattern {
        Pattern {
            source: source.into(),
            whole,
            compiled: OnceLock::new(),
        }
    }

    /// The compiled pattern; `None` if it does not compile (no pattern of the table fails: a
    /// test compiles them all).
    pub(super) fn regex(&self) -> Option<&Regex> {
        self.compiled
            .get_or_init(|| compile(&self.source, self.whole))
            .as_ref()
    }

    pub(super) fn is_match(&self, text: &str) -> bool {
        self.regex().is_some_and(|re| re.is_match(text))
    }
}

impl Desc {
    /// libphonenumber's `isNumberMatchingDesc`: a possible length, and the whole pattern.
    pub(super) fn matches(&self, nsn: &str) -> bool {
        (self.lengths.is_empty() || self.lengths.contains(&nsn.len())) && self.pattern.is_match(nsn)
    }
}

/// One region's numbering plan, compiled from the crate's metadata.
pub(super) struct NumberingPlan {
    /// `ID`, or `001` for a non-geographic entity.
    pub(super) id: &'static str,
    /// An English name for messages.
    pub(super) name: Cow<'static, str>,
    pub(super) code: u16,
    /// `code` as text.
    pub(super) code_text: String,
    /// The general description's pattern; its lengths are the union of every type's, as
    /// libphonenumber's metadata builder computes them.
    pub(super) general: Desc,
    /// Lengths only diallable locally (without an area code).
    pub(super) local_only: Vec<usize>,
    /// The number types that make a number valid (mobile and fixed line first: most numbers).
    pub(super) types: Vec<Desc>,
    /// The international dialling prefix, anchored at the start.
    pub(super) idd: Option<Pattern>,
    /// The national prefix for parsing, anchored at the start, and its transform rule.
    pub(super) national_prefix: Option<Pattern>,
    pub(super) transform: Option<String>,
    /// The national number's leading digits that pick this region among those sharing its code.
    pub(super) leading: Option<Pattern>,
}

impl std::fmt::Debug for NumberingPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NumberingPlan({})", self.id)
    }
}

pub(super) fn compile(pattern: &str, whole: bool) -> Option<Regex> {
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
pub(super) fn transform_rule(rule: &str) -> String {
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

impl NumberingPlan {
    pub(super) fn compile(meta: &'static TableRegion) -> NumberingPlan {
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
        NumberingPlan {
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
    pub(super) fn siblings(&'static self) -> &'static [&'static NumberingPlan] {
        regions(self.code)
    }

    /// libphonenumber's `testNumberLength` for any number type.
    pub(super) fn test_length(&self, n: usize) -> Validation {
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
    pub(super) fn has_type(&self, nsn: &str) -> bool {
        self.general.matches(nsn) && self.types.iter().any(|t| t.matches(nsn))
    }

    /// libphonenumber's `maybeStripNationalPrefixAndCarrierCode`: the number without its
    /// national (trunk) prefix, when it has one that may go.
    pub(super) fn strip_national_prefix(&self, number: &str) -> Option<String> {
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
pub(super) static PLANS: LazyLock<Box<[OnceLock<NumberingPlan>]>> =
    LazyLock::new(|| table::REGIONS.iter().map(|_| OnceLock::new()).collect());

/// The plan of a region id (`ID`).
pub(super) fn plan(id: &str) -> Option<&'static NumberingPlan> {
    plan_at(table::REGIONS.binary_search_by(|r| r.id.cmp(id)).ok()?)
}

/// The plan of `table::REGIONS[i]`.
pub(super) fn plan_at(i: usize) -> Option<&'static NumberingPlan> {
    let meta = table::REGIONS.get(i)?;
    Some(PLANS.get(i)?.get_or_init(|| NumberingPlan::compile(meta)))
}

/// The regions of each country calling code, once looked up.
pub(super) static BY_CODE: [OnceLock<&'static [&'static NumberingPlan]>; 1000] =
    [const { OnceLock::new() }; 1000];

/// Which numbers are assigned country calling codes.
pub(super) static CODES: LazyLock<Vec<bool>> = LazyLock::new(|| {
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
pub(super) fn regions(code: u16) -> &'static [&'static NumberingPlan] {
    let Some(slot) = BY_CODE.get(usize::from(code)) else {
        return &[];
    };
    slot.get_or_init(|| {
        // The table is sorted by id: the main region first, the others keep that order.
        let of_code = || (table::REGIONS.iter().enumerate()).filter(|(_, r)| r.code == code);
        let plans: Vec<&'static NumberingPlan> = of_code()
            .filter(|(_, r)| r.main)
            .chain(of_code().filter(|(_, r)| !r.main))
            .filter_map(|(i, _)| plan_at(i))
            .collect();
        Box::leak(plans.into_boxed_slice())
    })
}

/// The regions of a country calling code (`near`'s siblings when it is its own).
pub(super) fn regions_of(
    near: &'static NumberingPlan,
    code: u16,
) -> &'static [&'static NumberingPlan] {
    if code == near.code {
        near.siblings()
    } else {
        regions(code)
    }
}

/// An English name for a region id: the ISO 3166 short name (without a leading "The").
pub(super) fn english_name(id: &str) -> Cow<'static, str> {
    match celes::Country::from_alpha2(id) {
        Ok(c) => Cow::Borrowed(c.long_name.strip_prefix("The ").unwrap_or(c.long_name)),
        Err(_) => Cow::Owned(format!("region {id}")),
    }
}

/// How a number was read (libphonenumber's country code source).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Source {
    Plus,
    Idd,
    Bare,
    National,
}

/// A number that parsed: its country calling code and national significant number.
#[derive(Debug)]
pub(super) struct Parsed {
    pub(super) code: u16,
    pub(super) nsn: String,
    pub(super) source: Source,
    /// The plan the national prefix was judged by.
    pub(super) plan: &'static NumberingPlan,
}

/// Why a number did not parse (libphonenumber's `NumberParseException` types).
#[derive(Debug, PartialEq, Eq)]
pub(super) enum ParseError {
    InvalidCountryCode { after_idd: bool },
    TooShortAfterIdd,
    TooShortNsn,
    TooLong,
}

/// libphonenumber's `extractCountryCode`: the code and the rest.
pub(super) fn extract_code(digits: &str) -> Option<(u16, &str)> {
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
pub(super) fn code_without_plus<'d>(
    default: &'static NumberingPlan,
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
pub(super) fn parse(
    default: &'static NumberingPlan,
    plus: bool,
    digits: &str,
) -> Result<Parsed, ParseError> {
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
pub(super) fn region_of(
    near: &'static NumberingPlan,
    code: u16,
    nsn: &str,
) -> Option<&'static NumberingPlan> {
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
pub(super) fn is_valid(p: &Parsed) -> bool {
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
