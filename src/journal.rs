//! The resume journal: an append-only JSON-lines ledger in the report directory (mode 0600).
//! Before a batch is sent its rows are recorded (and, for itnio, synced to disk first); after,
//! each row's final outcome. Entries are written at once and synced at least every 100 ms.
//! `--resume` replays it: rows with a final outcome are skipped, rows sent without one are
//! sent again (and an "already exists" answer for them counts as success).
//!
//! Invariant: a row is recorded as final only after the provider's answer was interpreted;
//! a crash of the process at any instant leaves a journal from which no acknowledged row is
//! resent and no unacknowledged row is forgotten. A power failure can lose the last 100 ms of
//! entries: their rows are sent again on `--resume`, which both providers deduplicate (and
//! itnio's batch records, on which its answers depend, were on disk before sending).
//!
//! The journal's header names the input by its [`Identity`]: its length and a BLAKE3 hash of
//! every byte. `--resume` continues only a run of exactly the same bytes, since rows are known
//! by their number: one row deleted and another padded to keep the size would otherwise shift
//! every later row onto an entry of its neighbour. A run from a stream records no identity and
//! cannot be resumed.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::input::Identity;
use crate::outcome::Outcome;

pub const FILE: &str = "journal.jsonl";

/// The journal format written by this version: 2 identifies the input by [`Identity`]
/// (version 1 compared the size and the first and last MiB only).
pub const VERSION: u32 = 2;

/// The `fingerprint` of a run whose input was a stream.
const STREAM: &str = "stream";

/// What identifies a run: provider, input and its fingerprint (the input's [`Identity`] as
/// text, or `stream`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Header {
    pub version: u32,
    pub provider: String,
    pub input: String,
    pub fingerprint: String,
    /// The sheet read, for a spreadsheet (another sheet of the same file is another input).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
}

/// A final outcome recorded by an earlier run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EarlierOutcome {
    Succeeded {
        cells: Vec<String>,
        already_present: bool,
    },
    Failed {
        code: String,
        message: String,
    },
    Unknown {
        code: String,
        message: String,
    },
    /// Not sent: the state remembered it as sent with the same content (`--skip-unchanged`);
    /// `cells` are its `unchanged.csv` cells.
    Unchanged {
        cells: Vec<String>,
    },
}

/// What an earlier run left.
#[derive(Debug, Default)]
pub struct Loaded {
    pub header: Option<Header>,
    pub done: HashMap<u64, EarlierOutcome>,
    /// Rows sent without a recorded outcome: possibly applied.
    pub in_flight: HashSet<u64>,
}

impl Header {
    /// The header of a new run; `identity` is `None` for a stream.
    pub fn new(provider: &str, input: &str, identity: Option<&Identity>) -> Header {
        Header {
            version: VERSION,
            provider: provider.to_owned(),
            input: input.to_owned(),
            fingerprint: identity.map_or_else(|| STREAM.to_owned(), Identity::to_string),
            sheet: None,
        }
    }

    /// Whether `input` (named `name`, with its identity, `None` for a stream) is exactly the
    /// input this journal's run (in `out`) read. `Err` says why not, in words for
    /// `--resume: ...`.
    pub fn same_input(
        &self,
        name: &str,
        identity: Option<&Identity>,
        out: &Path,
    ) -> Result<(), String> {
        let out = out.display();
        if self.version < VERSION {
            return Err(format!(
                "the journal in {out} was written by an older version of custimport, which did not record enough of its input to resume it safely; start a new --out"
            ));
        }
        if self.version > VERSION {
            return Err(format!(
                "the journal in {out} was written by a newer version of custimport (journal version {}); resume it with that version",
                self.version
            ));
        }
        let Some(now) = identity else {
            return Err(format!(
                "{name} is a stream, whose content cannot be checked; save the input to a file and import that file"
            ));
        };
        if self.fingerprint == STREAM {
            let then = if self.input == "-" {
                "standard input"
            } else {
                &self.input
            };
            return Err(format!(
                "the run in {out} read its input from a stream ({then}), whose content cannot be checked; import {name} with a new --out"
            ));
        }
        let then = Identity::parse(&self.fingerprint);
        if then.as_ref() == Some(now) {
            return Ok(());
        }
        let how = match then {
            Some(then) if then.len != now.len => {
                format!("it had {} bytes, it now has {}", then.len, now.len)
            }
            Some(_) => "same size, different bytes".to_owned(),
            None => "the journal's record of it is unreadable".to_owned(),
        };
        Err(format!(
            "{name} is not the input of the run in {out} (that was {}): the input changed since ({how}); resuming would skip or misattribute rows, so nothing was sent. Import it with a new --out",
            self.input
        ))
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Entry {
    Start(Header),
    Sent { batch: u64, rows: Vec<u64> },
    Done(Vec<Value>),
}

/// The open journal.
#[derive(Debug)]
pub struct Journal {
    file: Mutex<File>,
}

/// A row's final outcome for [`Journal::done`]: row, outcome, and its `success.csv` cells when
/// it succeeded.
pub type DoneRow<'a> = (u64, &'a Outcome, Option<&'a [Cow<'a, str>]>);

impl Journal {
    /// Start a new journal (truncating any old one) with its header.
    pub fn create(dir: &Path, header: &Header) -> io::Result<Journal> {
        let f = crate::private_file::create_private(&dir.join(FILE))?;
        let j = Journal {
            file: Mutex::new(f),
        };
        j.append(&Entry::Start(header.clone()), true)?;
        Ok(j)
    }

    /// Continue an existing journal. A torn last line (a crash or a full disk mid-write) is
    /// ended first, so that the next entry starts on a line of its own.
    pub fn append_to(dir: &Path) -> io::Result<Journal> {
        let mut f = crate::private_file::open_existing(&dir.join(FILE), true)?;
        if !ends_with_newline(&dir.join(FILE))? {
            f.write_all(b"\n")?;
        }
        Ok(Journal {
            file: Mutex::new(f),
        })
    }

    fn append(&self, e: &Entry, sync: bool) -> io::Result<()> {
        let mut line = serde_json::to_vec(e)?;
        line.push(b'\n');
        let mut f = self
            .file
            .lock()
            .map_err(|_| io::Error::other("journal lock poisoned"))?;
        f.write_all(&line)?;
        if sync {
            f.sync_data()?;
        }
        Ok(())
    }

    /// Record batches about to be sent, `(batch id, rows)`; with `sync`, on disk before
    /// returning (otherwise with the next [`Journal::sync`]).
    pub fn sent(&self, batches: &[(u64, Vec<u64>)], sync: bool) -> io::Result<()> {
        let mut text = Vec::new();
        for (batch, rows) in batches {
            serde_json::to_writer(
                &mut text,
                &Entry::Sent {
                    batch: *batch,
                    rows: rows.clone(),
                },
            )?;
            text.push(b'\n');
        }
        let mut f = self
            .file
            .lock()
            .map_err(|_| io::Error::other("journal lock poisoned"))?;
        f.write_all(&text)?;
        if sync {
            f.sync_data()?;
        }
        Ok(())
    }

    /// Record final outcomes (call [`Journal::sync`] after a group of these).
    pub fn done(&self, rows: &[DoneRow<'_>]) -> io::Result<()> {
        /// One row as a JSON array, written without building a `Value`.
        #[derive(Serialize)]
        #[serde(untagged)]
        enum Done<'a> {
            Ok(u64, &'static str, bool, &'a [Cow<'a, str>]),
            Not(u64, &'static str, &'a str, &'a str),
        }
        let entries: Vec<Done<'_>> = rows
            .iter()
            .filter_map(|(row, o, cells)| match o {
                Outcome::Succeeded {
                    already_present, ..
                } => Some(Done::Ok(
                    *row,
                    "succeeded",
                    *already_present,
                    cells.unwrap_or_default(),
                )),
                Outcome::Failed { code, message } => Some(Done::Not(*row, "failed", code, message)),
                Outcome::Unknown { code, message } => {
                    Some(Done::Not(*row, "unknown", code, message))
                }
                Outcome::Pending => None,
            })
            .collect();
        if entries.is_empty() {
            return Ok(());
        }
        self.write_done(&entries, 64)
    }

    /// Record rows found unchanged (`row`, their `unchanged.csv` cells): final outcomes, so
    /// that `--resume` reports them as unchanged again whatever the state holds by then.
    pub fn unchanged(&self, rows: &[(u64, &[Cow<'_, str>])]) -> io::Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let entries: Vec<(u64, &str, &[Cow<'_, str>])> = rows
            .iter()
            .map(|(row, cells)| (*row, "unchanged", *cells))
            .collect();
        self.write_done(&entries, 48)
    }

    /// Write one `{"done": [...]}` line of these entries (about `each` bytes apiece).
    fn write_done<T: Serialize>(&self, entries: &[T], each: usize) -> io::Result<()> {
        let mut line = Vec::with_capacity(each * entries.len() + 16);
        line.extend_from_slice(b"{\"done\":");
        serde_json::to_writer(&mut line, entries)?;
        line.extend_from_slice(b"}\n");
        let mut f = self
            .file
            .lock()
            .map_err(|_| io::Error::other("journal lock poisoned"))?;
        f.write_all(&line)
    }

    pub fn sync(&self) -> io::Result<()> {
        let f = self
            .file
            .lock()
            .map_err(|_| io::Error::other("journal lock poisoned"))?;
        f.sync_data()
    }

    /// Read what an earlier run recorded. A torn last line (crash mid-write) is ignored.
    pub fn load(dir: &Path) -> io::Result<Loaded> {
        let f = crate::private_file::open_existing(&dir.join(FILE), false)?;
        let mut loaded = Loaded::default();
        let mut sent: HashSet<u64> = HashSet::new();
        for line in BufReader::new(f).split(b'\n') {
            let line = line?;
            let Ok(entry) = serde_json::from_slice::<Entry>(&line) else {
                continue;
            };
            match entry {
                Entry::Start(h) => loaded.header = Some(h),
                Entry::Sent { rows, .. } => sent.extend(rows),
                Entry::Done(items) => {
                    for it in items {
                        if let Some((row, prev)) = parse_done(&it) {
                            loaded.done.insert(row, prev);
                        }
                    }
                }
            }
        }
        loaded.in_flight = sent
            .into_iter()
            .filter(|r| !loaded.done.contains_key(r))
            .collect();
        Ok(loaded)
    }
}

/// Whether a file is empty or ends with a newline.
fn ends_with_newline(path: &Path) -> io::Result<bool> {
    let mut f = crate::private_file::open_existing(path, false)?;
    let len = f.metadata()?.len();
    if len == 0 {
        return Ok(true);
    }
    f.seek(SeekFrom::Start(len - 1))?;
    let mut last = [0u8; 1];
    f.read_exact(&mut last)?;
    Ok(last[0] == b'\n')
}

fn parse_done(v: &Value) -> Option<(u64, EarlierOutcome)> {
    let a = v.as_array()?;
    let row = a.first()?.as_u64()?;
    let s = |i: usize| {
        a.get(i)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let prev = match a.get(1)?.as_str()? {
        "succeeded" => EarlierOutcome::Succeeded {
            already_present: a.get(2).and_then(Value::as_bool).unwrap_or(false),
            cells: a
                .get(3)
                .and_then(Value::as_array)
                .map(|c| {
                    c.iter()
                        .map(|x| x.as_str().unwrap_or_default().to_owned())
                        .collect()
                })
                .unwrap_or_default(),
        },
        "failed" => EarlierOutcome::Failed {
            code: s(2),
            message: s(3),
        },
        "unknown" => EarlierOutcome::Unknown {
            code: s(2),
            message: s(3),
        },
        "unchanged" => EarlierOutcome::Unchanged {
            cells: a
                .get(2)
                .and_then(Value::as_array)
                .map(|c| {
                    c.iter()
                        .map(|x| x.as_str().unwrap_or_default().to_owned())
                        .collect()
                })
                .unwrap_or_default(),
        },
        _ => return None,
    };
    Some((row, prev))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let h = Header {
            version: 1,
            provider: "nxlink".into(),
            input: "a.csv".into(),
            fingerprint: "1:x".into(),
            sheet: None,
        };
        let j = Journal::create(dir.path(), &h).unwrap();
        j.sent(&[(1, vec![1, 2, 3])], true).unwrap();
        j.sent(&[(2, vec![4, 5])], false).unwrap();
        let ok = Outcome::Succeeded {
            id: Some("9".into()),
            already_present: false,
        };
        let bad = Outcome::Failed {
            code: "12148".into(),
            message: "seat".into(),
        };
        let cells = [Cow::from("9"), "628".into(), "A".into()];
        j.done(&[
            (1, &ok, Some(&cells[..])),
            (2, &bad, None),
            (3, &Outcome::Pending, None),
        ])
        .unwrap();
        j.unchanged(&[(6, &[Cow::from("628"), "".into(), "a@b".into()][..])])
            .unwrap();
        j.sync().unwrap();
        drop(j);
        // A crash mid-line leaves a torn tail.
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(dir.path().join(FILE))
            .unwrap();
        f.write_all(b"{\"done\":[[4,\"succ").unwrap();
        let l = Journal::load(dir.path()).unwrap();
        assert_eq!(l.header, Some(h));
        assert_eq!(l.done.len(), 3);
        assert_eq!(
            l.done.get(&6),
            Some(&EarlierOutcome::Unchanged {
                cells: vec!["628".into(), "".into(), "a@b".into()]
            })
        );
        assert_eq!(
            l.done.get(&1),
            Some(&EarlierOutcome::Succeeded {
                cells: vec!["9".into(), "628".into(), "A".into()],
                already_present: false
            })
        );
        let mut fl: Vec<u64> = l.in_flight.into_iter().collect();
        fl.sort();
        assert_eq!(fl, vec![3, 4, 5]);
    }

    #[test]
    fn the_input_must_be_the_same_bytes() {
        let id = |len, b| Identity { len, hash: [b; 32] };
        let o = Path::new("out");
        let h = Header::new("nxlink", "a.csv", Some(&id(8, 1)));
        assert_eq!(h.version, VERSION);
        assert_eq!(h.same_input("a.csv", Some(&id(8, 1)), o), Ok(()));
        let e = h.same_input("b.csv", Some(&id(8, 2)), o).unwrap_err();
        assert!(e.starts_with("b.csv is not the input of the run in out (that was a.csv): the input changed since (same size, different bytes)"), "{e}");
        let e = h.same_input("a.csv", Some(&id(9, 1)), o).unwrap_err();
        assert!(e.contains("(it had 8 bytes, it now has 9)"), "{e}");
        let e = h.same_input("standard input", None, o).unwrap_err();
        assert!(e.contains("save the input to a file"), "{e}");
        let from_stream = Header::new("nxlink", "standard input", None);
        assert_eq!(from_stream.fingerprint, "stream");
        let e = from_stream
            .same_input("a.csv", Some(&id(8, 1)), o)
            .unwrap_err();
        assert!(
            e.starts_with("the run in out read its input from a stream"),
            "{e}"
        );
        let old = Header {
            version: 1,
            fingerprint: "8:0123".into(),
            ..h.clone()
        };
        let e = old.same_input("a.csv", Some(&id(8, 1)), o).unwrap_err();
        assert!(
            e.starts_with("the journal in out was written by an older version"),
            "{e}"
        );
    }
}
