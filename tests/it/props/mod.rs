//! Property tests.
//!
//! A. Input: arbitrary bytes read as CSV/TSV and JSONL through the public `Input` API (never a
//!    panic, always the end, rows numbered 1..=n, clean records well-formed), well-formed tables
//!    and JSON lines written in UTF-8, GBK, Shift_JIS, Big5 and UTF-16 read back exactly, and a
//!    smaller number of arbitrary files through the binary with `--dry-run` (exit code, summary
//!    accounting, failure report, agreement with the library). More than 10,000 cases in all.
//! B. Accounting: random row validity and random server faults; every row ends exactly once,
//!    the reports and summary agree, and the sandbox holds exactly what the outcomes allow.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, OnceLock};
use std::time::Duration;

use custimport::input::{Format, Input, InputError, InputOptions, Record, RecordData};
use encoding_rs::Encoding;
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{Map, Value};

use crate::env::{cell, read_csv, TestEnv};

mod binary;
mod faults;
mod readers;

// ---------------------------------------------------------------------------------------------
// A. helpers

pub(super) const CODES: [&str; 8] = [
    "wrong_field_count",
    "invalid_encoding",
    "unterminated_quote",
    "field_too_large",
    "record_too_large",
    "invalid_json",
    "not_an_object",
    "too_deep",
];

/// What reading a whole input gave.
#[derive(Debug)]
pub(super) struct Read {
    headers: Option<Vec<String>>,
    encoding: &'static str,
    delimiter: u8,
    records: Vec<Record>,
    blank_lines: u64,
}

/// Opens `path` and reads every record, on a thread with a deadline: reading must end. At most
/// `limit` records are taken; the stream must be over by then.
pub(super) fn read_input(opts: InputOptions, limit: usize) -> Result<Read, InputError> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let result = Input::open(&opts).map(|mut input| {
            let mut records = Vec::new();
            for rec in input.by_ref().take(limit) {
                records.push(rec.expect("no I/O error reading a file"));
            }
            assert!(input.next().is_none(), "more than {limit} records");
            Read {
                headers: input.headers.clone(),
                encoding: input.encoding,
                delimiter: input.delimiter,
                blank_lines: input.blank_lines(),
                records,
            }
        });
        let _ = tx.send(result);
    });
    match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(r) => r,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("reading did not end within 20 s"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("reading panicked"),
    }
}

pub(super) fn options(
    path: &Path,
    format: Format,
    encoding: Option<&'static Encoding>,
) -> InputOptions {
    InputOptions {
        path: path.to_path_buf(),
        format,
        delimiter: None,
        encoding,
        max_field_bytes: 1 << 20,
        sheet: None,
        header_row: None,
    }
}

/// A scratch file per test thread, rewritten for every case.
pub(super) fn scratch(name: &str) -> PathBuf {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    let dir = DIR.get_or_init(|| tempfile::tempdir().unwrap());
    let thread = format!("{:?}", std::thread::current().id())
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>();
    dir.path().join(format!("{thread}-{name}"))
}

pub(super) fn write_file(path: &Path, bytes: &[u8]) {
    let mut f = std::fs::File::create(path).unwrap();
    f.write_all(bytes).unwrap();
}

/// The bytes of U+FFFD in an encoding, when it has them (then a clean record may hold it).
pub(super) fn fffd_bytes(encoding: &str) -> Option<&'static [u8]> {
    match encoding {
        "UTF-8" => Some(b"\xEF\xBF\xBD"),
        "UTF-16LE" => Some(b"\xFD\xFF"),
        "UTF-16BE" => Some(b"\xFF\xFD"),
        _ => None,
    }
}

pub(super) fn may_hold_fffd(bytes: &[u8], encoding: &str) -> bool {
    fffd_bytes(encoding).is_some_and(|f| bytes.windows(f.len()).any(|w| w == f))
        || bytes.windows(2).any(|w| w == b"\\u")
}

/// Physical lines (CR, LF and CRLF each end one) of ASCII-compatible bytes, plus one.
pub(super) fn physical_lines(bytes: &[u8]) -> u64 {
    let mut n = 1;
    let mut prev_cr = false;
    for &b in bytes {
        match b {
            b'\r' => {
                n += 1;
                prev_cr = true;
            }
            b'\n' => {
                if !prev_cr {
                    n += 1;
                }
                prev_cr = false;
            }
            _ => prev_cr = false,
        }
    }
    n
}

/// Bytes biased towards what breaks CSV and JSONL readers and decoders.
pub(super) fn hostile_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        3 => prop::sample::select(&b"\",;|\t\r\n'= a1{}[]:\\"[..]),
        1 => prop::sample::select(&[0x80u8, 0x81, 0xA1, 0xE5, 0xEF, 0xBB, 0xBF, 0xFE, 0xFF, 0x00, 0xD8, 0xDC][..]),
        2 => any::<u8>(),
    ];
    let chunk = prop_oneof![
        6 => prop::collection::vec(byte, 1..4),
        1 => prop::sample::select(vec![
            "张三".as_bytes().to_vec(),
            encoding_rs::GBK.encode("张三|").0.into_owned(),
            encoding_rs::SHIFT_JIS.encode("ソ表").0.into_owned(),
            b"\"\"".to_vec(),
            b"\r\n".to_vec(),
            b"{\"a\":".to_vec(),
            b"\"custimport\":{},\"line\":".to_vec(),
            b"name,phone\n".to_vec(),
        ]),
    ];
    let bom = prop_oneof![
        6 => Just(Vec::new()),
        1 => Just(b"\xEF\xBB\xBF".to_vec()),
        1 => Just(b"\xFF\xFE".to_vec()),
        1 => Just(b"\xFE\xFF".to_vec()),
    ];
    (bom, prop::collection::vec(chunk, 0..max)).prop_map(|(mut bom, chunks)| {
        bom.extend(chunks.concat());
        bom
    })
}

pub(super) fn any_encoding() -> impl Strategy<Value = Option<&'static Encoding>> {
    prop_oneof![
        3 => Just(None),
        1 => Just(Some(encoding_rs::UTF_8)),
        2 => Just(Some(encoding_rs::GBK)),
        1 => Just(Some(encoding_rs::GB18030)),
        1 => Just(Some(encoding_rs::SHIFT_JIS)),
        1 => Just(Some(encoding_rs::BIG5)),
        1 => Just(Some(encoding_rs::EUC_KR)),
        1 => Just(Some(encoding_rs::WINDOWS_1252)),
        1 => Just(Some(encoding_rs::UTF_16LE)),
        1 => Just(Some(encoding_rs::UTF_16BE)),
    ]
}

pub(super) fn problem_code(r: &Record) -> Option<&'static str> {
    r.problem.as_ref().map(|p| p.code)
}

/// The number after `line ` at the start of a problem message.
pub(super) fn message_line(message: &str) -> Option<u64> {
    let rest = message.strip_prefix("line ")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

pub(super) fn check_common(read: &Read, bytes: &[u8]) -> Result<(), TestCaseError> {
    let mut last_line = 0;
    let ascii_lines = !read.encoding.starts_with("UTF-16");
    let lines = physical_lines(bytes);
    for (i, r) in read.records.iter().enumerate() {
        prop_assert_eq!(r.row, i as u64 + 1, "rows are numbered 1..=n");
        prop_assert!(r.line > last_line, "lines increase: {:?}", r);
        if ascii_lines {
            prop_assert!(r.line <= lines, "line {} of {} lines", r.line, lines);
        }
        last_line = r.line;
        if let Some(p) = &r.problem {
            prop_assert!(CODES.contains(&p.code), "code {}", p.code);
            let at = message_line(&p.message);
            prop_assert!(
                at.is_some_and(|l| l >= r.line),
                "message names the line: {:?} (record at line {})",
                p.message,
                r.line
            );
        }
    }
    Ok(())
}
