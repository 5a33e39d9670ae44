//! A look at the start of a text input (CSV, TSV, JSONL) before it is read: a workbook saved
//! under a text name is named as the spreadsheet it is, and, without `--encoding`, an input that
//! is not UTF-8 stops the run before anything is sent, naming the encoding it looks like (guessed
//! by chardetng, the detector Firefox uses) as the `--encoding` to try.
//!
//! The look covers the first [`SAMPLE_BYTES`] of the input, or all of it when shorter. For a
//! stream (standard input, a pipe) that is what gets buffered before the first record is read;
//! the sampled bytes are then read again by the record reader, so nothing is lost or read twice
//! from the source.

use std::io::{Cursor, Read};

use chardetng::{EncodingDetector, Iso2022JpDetection, Utf8Detection};
use encoding_rs::Encoding;

use super::source::read_up_to;
use super::{InputError, InputOptions};

/// How much of the input's start is sampled.
pub(super) const SAMPLE_BYTES: usize = 2 << 20;
/// The first read of the sample: most inputs end within it.
const FIRST_READ: usize = 64 << 10;

/// The input, positioned at its first byte again, and what its sample tells.
pub(super) struct Sniffed {
    pub reader: Box<dyn Read + Send>,
    /// The encoding the sample reads as: `utf-8` when it is valid UTF-8, else the detector's
    /// guess, as a `--encoding` label. `None` when the sample is empty or pure ASCII.
    pub looks_like: Option<String>,
}

/// The sample read again, then the rest of the source; the sample's buffer (up to
/// [`SAMPLE_BYTES`]) is freed as soon as it has been read, not kept for the whole run.
struct Replay {
    sample: Option<Cursor<Vec<u8>>>,
    source: Box<dyn Read + Send>,
}

impl Read for Replay {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if let Some(sample) = &mut self.sample {
            let n = sample.read(buf)?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            self.sample = None;
        }
        self.source.read(buf)
    }
}

/// Samples the start of `source` and refuses a workbook, or (without `--encoding`, no BOM) a
/// sample that is not valid UTF-8, with a message naming what to give instead.
pub(super) fn look(
    mut source: Box<dyn Read + Send>,
    opts: &InputOptions,
    name: &str,
) -> Result<Sniffed, InputError> {
    // A first small read, so that a small input costs what it holds, not the whole sample.
    let io = |source| InputError::Io {
        path: name.to_string(),
        source,
    };
    let mut sample = vec![0u8; FIRST_READ];
    let mut n = read_up_to(&mut source, &mut sample).map_err(io)?;
    if n == FIRST_READ {
        sample.resize(SAMPLE_BYTES, 0);
        n += read_up_to(&mut source, &mut sample[n..]).map_err(io)?;
    }
    sample.truncate(n);
    let complete = n < SAMPLE_BYTES;
    if let Some(kind) = workbook_kind(&sample) {
        return Err(InputError::Named(format!(
            "{name} is {kind}, not {} text: give the file its workbook extension or --format {}",
            format_word(opts.format),
            kind_format(kind)
        )));
    }
    let looks_like = looks_like(&sample, complete);
    if opts.encoding.is_none() && !has_bom(&sample) {
        if let Some(at) = utf8_error(&sample, complete) {
            let line = 1 + memchr::memchr_iter(b'\n', &sample[..at]).count();
            let guess = looks_like.as_deref().unwrap_or("windows-1252");
            return Err(InputError::Named(format!(
                "{name} is not UTF-8 text (line {line} holds bytes that are not); it looks like {guess}: try --encoding {guess}"
            )));
        }
    }
    let reader: Box<dyn Read + Send> = Box::new(Replay {
        sample: Some(Cursor::new(sample)),
        source,
    });
    Ok(Sniffed { reader, looks_like })
}

/// `CSV`, `TSV` or `JSONL`.
fn format_word(format: super::Format) -> &'static str {
    match format {
        super::Format::Tsv => "TSV",
        super::Format::Jsonl => "JSONL",
        _ => "CSV",
    }
}

/// What a workbook's first bytes say it is, in words: an OLE compound file (`.xls`) or a zip
/// archive holding a workbook (`.xlsx`, `.xlsb`, `.ods`).
fn workbook_kind(head: &[u8]) -> Option<&'static str> {
    const OLE: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";
    if head.starts_with(OLE) {
        return Some("an Excel 97-2003 workbook (.xls)");
    }
    if !(head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06")) {
        return None;
    }
    let holds = |needle: &[u8]| memchr::memmem::find(head, needle).is_some();
    Some(if holds(b"opendocument.spreadsheet") {
        "an OpenDocument spreadsheet (.ods)"
    } else if holds(b"xl/workbook.bin") {
        "an Excel binary workbook (.xlsb)"
    } else {
        "an Excel workbook (.xlsx) or another zip archive"
    })
}

/// The `--format` value for a kind named by [`workbook_kind`].
fn kind_format(kind: &str) -> &'static str {
    if kind.contains(".xlsb") {
        "xlsb"
    } else if kind.contains(".xls)") {
        "xls"
    } else if kind.contains(".ods") {
        "ods"
    } else {
        "xlsx"
    }
}

fn has_bom(head: &[u8]) -> bool {
    head.starts_with(b"\xEF\xBB\xBF")
        || head.starts_with(b"\xFF\xFE")
        || head.starts_with(b"\xFE\xFF")
}

/// The offset of the first byte that is not UTF-8, ignoring a character cut by the end of a
/// sample that is not the whole input.
fn utf8_error(sample: &[u8], complete: bool) -> Option<usize> {
    match std::str::from_utf8(sample) {
        Ok(_) => None,
        Err(e) if e.error_len().is_none() && !complete => None,
        Err(e) => Some(e.valid_up_to()),
    }
}

/// The `--encoding` label `sample` reads as (see [`Sniffed::looks_like`]).
fn looks_like(sample: &[u8], complete: bool) -> Option<String> {
    if sample.is_ascii() {
        return None;
    }
    if utf8_error(sample, complete).is_none() {
        return Some("utf-8".into());
    }
    Some(encoding_label(guess(sample, complete)))
}

/// chardetng's guess for bytes that are not UTF-8.
pub(super) fn guess(bytes: &[u8], last: bool) -> &'static Encoding {
    let mut detector = EncodingDetector::new(Iso2022JpDetection::Deny);
    detector.feed(bytes, last);
    detector.guess(None, Utf8Detection::Deny)
}

/// The label users know for `encoding`: `gbk`, `big5`, `shift_jis`, `windows-1252`, ... (the
/// lower-cased name is a valid label for every encoding; GB18030 is given as `gbk`, which
/// encoding_rs decodes identically).
pub(super) fn encoding_label(encoding: &'static Encoding) -> String {
    if encoding == encoding_rs::GB18030 {
        return "gbk".into();
    }
    encoding.name().to_ascii_lowercase()
}

/// A clause for messages about an input read with `--encoding` that yields nothing usable:
/// what the file reads as instead, when that is another encoding.
pub(super) fn wrong_encoding_note(looks_like: Option<&str>, given: &'static Encoding) -> String {
    match looks_like {
        Some(l) if Encoding::for_label(l.as_bytes()) != Some(given) => {
            format!("; the file reads as {l}: try --encoding {l}")
        }
        // An ASCII sample reads the same in every encoding that extends ASCII, UTF-8 first;
        // only one that does not (UTF-16) garbles it.
        None if !given.is_ascii_compatible() => {
            "; the file reads as utf-8: try --encoding utf-8".to_owned()
        }
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests;
