//! Config-file errors told without quoting the file: the file, line, column, section and key,
//! and what is wrong, but never the line's text or a value (a secret may sit on that line).
//! toml's own error text shows the offending line and sometimes the value, so it is never
//! printed; its message is only matched against a few fixed phrases to pick a hint.

use std::path::Path;
use std::sync::LazyLock;

use super::sections::{keys_of, ItnioSection, NxlinkSection, Profile};
use super::FileConfig;

/// The sections of the config file and their keys, in the order the section structs declare
/// them (read from the structs themselves: see [`keys_of`]).
pub(super) static SECTIONS: LazyLock<[(&str, &[&str]); 3]> = LazyLock::new(|| {
    [
        ("nxlink", keys_of::<NxlinkSection>()),
        ("itnio", keys_of::<ItnioSection>()),
        ("profile", keys_of::<Profile>()),
    ]
});

/// Keys of the file outside any section: `FileConfig`'s fields but the sections.
pub(super) static TOP_LEVEL_KEYS: LazyLock<Vec<&str>> = LazyLock::new(|| {
    keys_of::<FileConfig>()
        .iter()
        .copied()
        .filter(|k| SECTIONS.iter().all(|(s, _)| s != k))
        .collect()
});

/// Describe a TOML error in `text`, read from `path`.
pub(super) fn describe(path: &Path, text: &str, err: &toml::de::Error) -> String {
    let message = err.message();
    let Some(span) = err.span() else {
        return format!(
            "config file {} is not valid: {} (see config.example.toml)",
            path.display(),
            hint(message, &Place::Key(vec![], vec![]))
        );
    };
    let at = floor_boundary(text, span.start.min(text.len()));
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line_no = text[..line_start].matches('\n').count() + 1;
    let column = text[line_start..at].chars().count() + 1;
    let line_end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    let line = &text[line_start..line_end];

    let section = text[..line_start]
        .lines()
        .rev()
        .find_map(|l| header_path(l.trim()))
        .unwrap_or_default();
    let place = match header_path(line.trim()) {
        Some(h) => Place::Header(h),
        None => Place::Key(section, key_path(line)),
    };
    // toml names a key unknown only when the line parsed as `key = value`: what was typed is
    // a key, and keys are never secret, so it is shown when it looks like one.
    let typed = message.starts_with("unknown field");
    format!(
        "config file {}:{line_no}:{column}: {}{} (line not shown: it may hold a secret)",
        path.display(),
        place.show(typed),
        hint(message, &place)
    )
}

/// Where an error is: on a `[section]` header line, or on a line in a section, with the key
/// it starts with (none when it starts with no key).
enum Place {
    Header(Vec<String>),
    Key(Vec<String>, Vec<String>),
}

impl Place {
    /// The whole key path, section included.
    fn path(&self) -> Vec<String> {
        match self {
            Place::Header(h) => h.clone(),
            Place::Key(s, k) => s.iter().chain(k).cloned().collect(),
        }
    }

    /// `access_secret in [nxlink]: `. A name that is neither a known one nor close to one is
    /// not shown (it could be a secret pasted on a line of its own), unless it was `typed` as a
    /// key (an unknown key): then any name that looks like a key is shown.
    fn show(&self, typed: bool) -> String {
        // A profile's name is a name the user gave it, not a secret.
        let shown = |p: &[String]| -> Option<String> {
            p.iter()
                .enumerate()
                .map(|(i, seg)| {
                    let named = i == 1 && p[0] == "profile" && key_like(seg);
                    (showable(seg) || named || (typed && key_like(seg))).then(|| seg.clone())
                })
                .collect::<Option<Vec<_>>>()
                .map(|v| v.join("."))
        };
        let path = self.path();
        match self {
            Place::Header(h) => match shown(h) {
                Some(name) => format!("section [{name}]: "),
                None => "a section header: ".into(),
            },
            Place::Key(_, k) if k.is_empty() => match path.is_empty() {
                true => String::new(),
                false => match shown(&path) {
                    Some(section) => format!("in [{section}]: "),
                    None => String::new(),
                },
            },
            Place::Key(..) => {
                let (key, section) = path.split_last().map_or((None, None), |(k, s)| {
                    (shown(std::slice::from_ref(k)), shown(s))
                });
                match (key, section) {
                    (Some(k), Some(s)) if !path[..path.len() - 1].is_empty() => {
                        format!("{k} in [{s}]: ")
                    }
                    (Some(k), _) if path.len() == 1 && SECTIONS.iter().any(|(n, _)| *n == k) => {
                        format!("section {k}: ")
                    }
                    (Some(k), _) if path.len() == 1 => format!("{k} (outside any section): "),
                    (None, Some(s)) if path.len() > 1 => format!("a key in [{s}]: "),
                    _ => "a key: ".into(),
                }
            }
        }
    }
}

/// What is wrong, from toml's message, in words of our own.
fn hint(message: &str, place: &Place) -> String {
    let key = &place.path();
    let last = key.last().map(String::as_str).unwrap_or_default();
    let known_keys = |section: Option<&str>| -> String {
        match section.and_then(|s| SECTIONS.iter().find(|(n, _)| *n == s)) {
            Some((_, keys)) => keys.join(", "),
            None => SECTIONS
                .iter()
                .map(|(n, _)| match *n {
                    "profile" => "[profile.NAME]".to_owned(),
                    n => format!("[{n}]"),
                })
                .collect::<Vec<_>>()
                .join(", "),
        }
    };
    if message.starts_with("unknown field") {
        if matches!(place, Place::Key(s, _) if s.is_empty()) {
            return "unknown here: keys belong under a [nxlink] or [itnio] header (only `state` goes before them)".into();
        }
        let section = match key.len() {
            3 if key[0] == "profile" => Some("profile"),
            n => (n >= 2).then(|| key[n - 2].as_str()),
        };
        let suggestion = suggest(last, section)
            .map(|s| format!("did you mean {s}? "))
            .unwrap_or_default();
        let what = if key.len() >= 2 { "key" } else { "section" };
        return format!(
            "unknown {what}; {suggestion}the {what}s are: {}",
            known_keys(section)
        );
    }
    if message.starts_with("duplicate key") || message.starts_with("duplicate field") {
        return "set more than once; keep one".into();
    }
    if message.starts_with("invalid type") || message.starts_with("invalid value") {
        let expected = expected_type(key.len(), last);
        return format!("wrong type of value: must be {expected}");
    }
    let fixed: &[(&str, &str)] = &[
        (
            "invalid basic string",
            "a quoted string is not closed on its line, or holds an invalid \\ escape",
        ),
        (
            "invalid literal string",
            "a '…' string is not closed on its line",
        ),
        (
            "invalid multiline",
            "a multi-line string is not closed, or holds an invalid \\ escape",
        ),
        (
            "expected `\"`, `'`",
            "the value is not in quotes (write key = \"value\")",
        ),
        (
            "expected `.`, `=`",
            "this line is not key = \"value\" (an `=` is missing)",
        ),
        (
            "expected newline",
            "something follows the value on its line (quote the whole value, or start a comment with #)",
        ),
        ("invalid table header", "a [section] header is malformed"),
        ("invalid key", "a key is malformed"),
        ("invalid escape", "a string holds an invalid \\ escape"),
        ("invalid unquoted key", "a key is malformed"),
    ];
    for (phrase, said) in fixed {
        if message.contains(phrase) {
            return (*said).into();
        }
    }
    "not valid TOML (a value not in quotes, a quote left open, or a stray character)".into()
}

/// What a key's value must be, for a wrong type of value (`depth`: the key path's length).
fn expected_type(depth: usize, last: &str) -> &'static str {
    match (depth, last) {
        (1, _) => "a section ([name] on its own line, then key = \"value\" lines)",
        (_, "tenant_id" | "sheet" | "max_failures") => "a whole number or a string in quotes",
        (
            _,
            "max_field_size" | "batch_size" | "concurrency" | "retries" | "backoff_ms"
            | "give_up_after" | "job",
        ) => "a whole number (key = 10)",
        (_, "rate" | "timeout") => "a number (key = 2.5)",
        (_, "map") => "a table of FIELD = \"COLUMN\" (map = { full_name = \"Name\" })",
        (
            _,
            "strict_binding" | "call_record_dup" | "encrypted_phones" | "rejected_ok" | "no_bisect"
            | "json" | "quiet" | "no_progress" | "mask_pii" | "skip_unchanged",
        ) => "true or false",
        _ => "a string in quotes (key = \"value\")",
    }
}

/// The section path of a `[a.b]` or `[[a.b]]` header line.
fn header_path(line: &str) -> Option<Vec<String>> {
    let inner = line.strip_prefix('[')?;
    let inner = inner.strip_prefix('[').unwrap_or(inner);
    let end = inner.find(']')?;
    Some(split_key(&inner[..end]))
}

/// The key path a `key = value` line starts with (empty when it starts with no key). The key
/// ends where a key cannot go on: a quoted segment may hold `=`.
fn key_path(line: &str) -> Vec<String> {
    split_key(line)
}

/// Split a (possibly dotted, possibly quoted) key into its segments. Stops at the first
/// character that cannot be part of a key.
fn split_key(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = s.trim_start();
    loop {
        let (seg, after) = match rest.chars().next() {
            Some(q @ ('"' | '\'')) => match rest[1..].find(q) {
                Some(end) => (rest[1..1 + end].to_owned(), &rest[2 + end..]),
                None => break,
            },
            _ => {
                let end = rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
                    .unwrap_or(rest.len());
                if end == 0 {
                    break;
                }
                (rest[..end].to_owned(), &rest[end..])
            }
        };
        out.push(seg);
        let after = after.trim_start();
        match after.strip_prefix('.') {
            Some(next) => rest = next.trim_start(),
            None => break,
        }
    }
    out
}

fn known_names() -> impl Iterator<Item = &'static str> {
    SECTIONS
        .iter()
        .flat_map(|(s, keys)| std::iter::once(*s).chain(keys.iter().copied()))
        .chain(TOP_LEVEL_KEYS.iter().copied())
}

/// Letters, digits, `_` and `-`, at most 40 characters: a name typed as a key, shown as is.
fn key_like(seg: &str) -> bool {
    !seg.is_empty()
        && seg.len() <= 40
        && seg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn showable(seg: &str) -> bool {
    known_names().any(|k| k == seg || close(k, seg))
}

/// The known name `seg` is probably a misspelling of, within `section` (or among sections).
fn suggest(seg: &str, section: Option<&str>) -> Option<&'static str> {
    let candidates: Vec<&'static str> = match section {
        Some(s) => SECTIONS
            .iter()
            .find(|(n, _)| *n == s)
            .map(|(_, k)| k.to_vec())
            .unwrap_or_default(),
        None => SECTIONS
            .iter()
            .map(|(n, _)| *n)
            .chain(TOP_LEVEL_KEYS.iter().copied())
            .collect(),
    };
    let typed = seg.to_ascii_lowercase().replace('-', "_");
    let related =
        |k: &str| close(k, seg) || (typed.len() >= 4 && (k.contains(&typed) || typed.contains(k)));
    candidates
        .into_iter()
        .filter(|k| related(k))
        .min_by_key(|k| distance(k, &typed))
}

/// Within a couple of typing mistakes of each other.
fn close(known: &str, seg: &str) -> bool {
    let limit = if known.len() >= 8 { 3 } else { 2 };
    seg.len() <= known.len() + limit && distance(known, &seg.to_ascii_lowercase()) <= limit
}

/// Levenshtein distance (names are short).
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests;
