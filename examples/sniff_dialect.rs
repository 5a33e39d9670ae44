//! Prints what custimport's CSV sniffer reads in each file given: one tab-separated line per
//! file with its path, delimiter (`,` `;` `\t` `|`), quote (`"` or empty) and header row (0: no
//! header). Used by `bench/sniff_compare.py`; the whole file is the sample, as the importer
//! samples up to 64 KiB.

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut failed = false;
    for path in std::env::args().skip(1) {
        match std::fs::read(&path) {
            Ok(bytes) => {
                let sample = bytes.get(..64 * 1024).unwrap_or(&bytes);
                let complete = sample.len() == bytes.len();
                let d = custimport::input::sniff_dialect(sample, complete, None);
                let delimiter = if d.delimiter == b'\t' {
                    "\\t".to_string()
                } else {
                    char::from(d.delimiter).to_string()
                };
                let quote = if d.quoted { "\"" } else { "" };
                println!("{path}\t{delimiter}\t{quote}\t{}", d.header_row);
            }
            Err(e) => {
                eprintln!("{path}: {e}");
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
