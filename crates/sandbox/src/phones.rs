//! The sandbox's strict phone rule (opt-in: `custimport sandbox --strict-phones`, and an
//! in-process `--sandbox` run given `--phone-region`). nxlink's documentation sends WhatsApp
//! and Viber numbers in international form, digits only (`8618163725558`); a national number
//! is accepted by the real service and never reaches anyone. With the rule on, the sandbox
//! refuses such numbers per row instead of storing them:
//!
//! - nxlink `whats_app_phone` and `viber_phone` (not `sms_phone`, which the documentation's own
//!   example writes nationally: `18163725558`) must be E.164 digits: no leading 0, at most 15
//!   digits, a country calling code and then a national number valid for a region of that
//!   code by libphonenumber's metadata (the `phonenumber` crate's: some number type's lengths
//!   and its whole pattern);
//! - itnio `phoneNumber` made only of digits must be E.164 digits the same way; one with other
//!   characters is an encrypted id and is taken as it is.
//!
//! A national number can still pass when its digits happen to form another country's valid
//! number (China's `18163725558` is also `+1 816 372 5558`); most do not (a leading 0 never).
//! This is the emulator's own check, written from the documentation and the metadata: it shares
//! no code with the client's reading of phone numbers.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use phonenumber::metadata::{Descriptor, DATABASE};
use regex::{Regex, RegexBuilder};

/// E.164: at most 15 digits in all.
const MAX_DIGITS: usize = 15;

/// Anchored patterns compiled so far, by source text.
static PATTERNS: LazyLock<Mutex<HashMap<String, Option<Regex>>>> = LazyLock::new(Mutex::default);

/// Whether `nsn` has one of `desc`'s lengths (when it lists any) and matches its whole pattern.
fn matches(desc: &Descriptor, nsn: &str) -> bool {
    let lengths = desc.possible_length();
    if !lengths.is_empty() && !lengths.iter().any(|&l| usize::from(l) == nsn.len()) {
        return false;
    }
    let source = desc.national_number().as_str();
    let mut cache = PATTERNS.lock().unwrap_or_else(|e| e.into_inner());
    let re = cache.entry(source.to_owned()).or_insert_with(|| {
        RegexBuilder::new(&format!("^(?:{source})$"))
            .ignore_whitespace(true)
            .dfa_size_limit(64 << 20)
            .build()
            .ok()
    });
    re.as_ref().is_some_and(|re| re.is_match(nsn))
}

/// Whether `digits` are the E.164 form (without `+`) of a valid number.
pub(crate) fn is_e164_digits(digits: &str) -> bool {
    if digits.is_empty()
        || digits.len() > MAX_DIGITS
        || digits.starts_with('0')
        || !digits.bytes().all(|b| b.is_ascii_digit())
    {
        return false;
    }
    (1..=3.min(digits.len())).any(|i| {
        let (Ok(code), nsn) = (digits[..i].parse::<u16>(), &digits[i..]) else {
            return false;
        };
        let Some(regions) = DATABASE.by_code(&code) else {
            return false;
        };
        regions.iter().any(|m| {
            let d = m.descriptors();
            matches(d.general(), nsn)
                && [
                    d.mobile(),
                    d.fixed_line(),
                    d.toll_free(),
                    d.premium_rate(),
                    d.shared_cost(),
                    d.personal_number(),
                    d.voip(),
                    d.pager(),
                    d.uan(),
                    d.voicemail(),
                ]
                .into_iter()
                .flatten()
                .any(|t| matches(t, nsn))
        })
    })
}

/// nxlink: the per-row refusal of a customer's WhatsApp or Viber number, if any.
pub(crate) fn nxlink_refusal(customer: &serde_json::Value) -> Option<String> {
    ["whats_app_phone", "viber_phone"].iter().find_map(|field| {
        let v = customer.get(field)?.as_str()?;
        (!is_e164_digits(v)).then(|| {
            format!(
                "{field}: not a valid international number (country code and number, digits only)"
            )
        })
    })
}

/// itnio: whether a person's phoneNumber is refused.
pub(crate) fn itnio_refuses(phone: &str) -> bool {
    phone.bytes().all(|b| b.is_ascii_digit()) && !is_e164_digits(phone)
}

#[cfg(test)]
mod tests;
