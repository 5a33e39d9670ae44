//! The nxlink customer field rules of the seed page ("Batch Create Customers"), applied to one
//! customer object of a `batch_create` body.
//!
//! Invariant: a customer passes only if every key is a documented field holding a value of the
//! documented JSON type within its limits (lengths counted both in characters and in UTF-16 code
//! units, as the provider's servers count: a character beyond U+FFFF, such as an emoji, is 2),
//! `full_name` is a string that is not empty after trimming whitespace and at least one contact
//! channel is a non-empty string. `null` counts as absent. The first violation refuses the whole
//! request (code 1002, as nxlink does) and is reported as `customers[i].field: reason`.

use serde_json::Value;

/// How one field is checked.
#[derive(Debug, Clone, Copy)]
enum Rule {
    /// A string of at most n characters.
    Text(usize),
    /// A string of digits only (at least one), at most n characters.
    Digits(usize),
    /// At most 50 characters, exactly one `@` with something on both sides.
    Email,
    /// `yyyy-MM-dd`, a real calendar date.
    Birthday,
    /// JSON integer 0 or 1.
    Gender,
    /// JSON integer 1 to 5.
    Weight,
    /// A string holding a JSON object.
    CustomizeField,
}

const FIELDS: [(&str, Rule); 21] = [
    ("full_name", Rule::Text(255)),
    ("first_name", Rule::Text(128)),
    ("last_name", Rule::Text(128)),
    ("sms_phone", Rule::Digits(30)),
    ("whats_app_phone", Rule::Digits(30)),
    ("viber_phone", Rule::Digits(30)),
    ("messenger", Rule::Digits(32)),
    ("instagram", Rule::Digits(32)),
    ("zalo", Rule::Digits(32)),
    ("line", Rule::Text(50)),
    ("country", Rule::Text(50)),
    ("email", Rule::Email),
    ("address", Rule::Text(100)),
    ("birthday", Rule::Birthday),
    ("tagStr", Rule::Text(usize::MAX)),
    ("remark", Rule::Text(2000)),
    ("time_zone", Rule::Text(usize::MAX)),
    ("gender", Rule::Gender),
    ("customize_field", Rule::CustomizeField),
    ("belong_seat_user", Rule::Text(128)),
    ("weight", Rule::Weight),
];

/// The contact channels of which at least one must be non-empty.
pub(crate) const CHANNELS: [&str; 8] = [
    "sms_phone",
    "whats_app_phone",
    "email",
    "viber_phone",
    "messenger",
    "instagram",
    "line",
    "zalo",
];

/// Checks customer `index`; the error is the whole-request message.
pub(crate) fn check_customer(index: usize, customer: &Value) -> Result<(), String> {
    let obj = customer
        .as_object()
        .ok_or_else(|| format!("customers[{index}]: must be a JSON object"))?;
    let fail = |field: &str, why: &str| format!("customers[{index}].{field}: {why}");
    match obj.get("full_name") {
        None | Some(Value::Null) => return Err(fail("full_name", "required")),
        Some(Value::String(s)) if s.trim().is_empty() => return Err(fail("full_name", "required")),
        _ => {}
    }
    // Channels are noted while walking the fields: cheaper than a hashed `get` per channel.
    let mut has_channel = false;
    for (key, value) in obj {
        let rule = FIELDS
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, rule)| *rule)
            .ok_or_else(|| fail(key, "unknown field"))?;
        if value.is_null() {
            continue;
        }
        check_value(rule, value).map_err(|why| fail(key, &why))?;
        has_channel |=
            CHANNELS.contains(&key.as_str()) && value.as_str().is_some_and(|s| !s.is_empty());
    }
    if !has_channel {
        return Err(format!(
            "customers[{index}]: sms_phone, whats_app_phone, email, viber_phone, messenger, \
             instagram, line and zalo cannot all be empty"
        ));
    }
    Ok(())
}

fn check_value(rule: Rule, value: &Value) -> Result<(), String> {
    match rule {
        Rule::Gender => match value.as_i64() {
            Some(0 | 1) => Ok(()),
            _ => Err("must be the integer 0 or 1".into()),
        },
        Rule::Weight => match value.as_i64() {
            Some(1..=5) => Ok(()),
            _ => Err("must be an integer from 1 to 5".into()),
        },
        _ => {
            let s = value.as_str().ok_or("must be a string")?;
            check_text(rule, s)
        }
    }
}

fn check_text(rule: Rule, s: &str) -> Result<(), String> {
    match rule {
        Rule::Text(max) => at_most(s, max),
        Rule::Digits(max) => {
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err("must be numeric (digits only)".into());
            }
            at_most(s, max)
        }
        Rule::Email => {
            at_most(s, 50)?;
            let mut parts = s.split('@');
            match (parts.next(), parts.next(), parts.next()) {
                (Some(local), Some(domain), None) if !local.is_empty() && !domain.is_empty() => {
                    Ok(())
                }
                _ => Err("must be an email address (one @ with text on both sides)".into()),
            }
        }
        Rule::Birthday => {
            if is_date(s) {
                Ok(())
            } else {
                Err("must be yyyy-MM-dd".into())
            }
        }
        Rule::CustomizeField => match serde_json::from_str::<Value>(s) {
            Ok(Value::Object(_)) => Ok(()),
            _ => Err("must be a string holding a JSON object".into()),
        },
        Rule::Gender | Rule::Weight => Ok(()),
    }
}

fn at_most(s: &str, max: usize) -> Result<(), String> {
    // The byte length bounds both counts, so they are only needed for long values.
    if s.len() <= max {
        return Ok(());
    }
    if s.chars().count() > max {
        return Err(format!("at most {max} characters"));
    }
    if utf16_len(s) > max {
        return Err(format!(
            "at most {max} UTF-16 code units (a character beyond U+FFFF counts 2)"
        ));
    }
    Ok(())
}

/// The length of `s` in UTF-16 code units.
pub(crate) fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

/// `yyyy-MM-dd` naming a real date (year 0001 to 9999).
pub(crate) fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = &b[r];
        part.iter().all(u8::is_ascii_digit).then(|| {
            part.iter()
                .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'))
        })
    };
    let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) else {
        return false;
    };
    let (Ok(year), Ok(month), Ok(day)) = (i32::try_from(y), u8::try_from(m), u8::try_from(d))
    else {
        return false;
    };
    // The calendar's rules (month lengths, leap years) are the `time` crate's.
    y >= 1
        && time::Month::try_from(month)
            .and_then(|month| time::Date::from_calendar_date(year, month, day))
            .is_ok()
}

#[cfg(test)]
mod tests;
