//! The resume journal: an append-only JSON-lines ledger in the report directory (mode 0600)
//! holding what `--resume` needs and can find nowhere else: which rows were sent, and each
//! row's final outcome, as ranges of row numbers. Entries are written at once and synced at
//! least every 100 ms. `--resume` replays it (see `crate::resume`): rows with a final outcome
//! are skipped, rows sent without one are sent again (and an "already exists" answer for them
//! counts as success).
//!
//! Format (version 3), one JSON object a line, rows as inclusive ranges `[first, last]`:
//! - `{"start": {header}}`, first;
//! - `{"sent": [[1,100],[201,300]]}`: the rows of batches about to leave (for itnio, synced to
//!   disk before they do);
//! - `{"done": {"ok": [[1,6],[8,100]], "present": [[9,9]], "failed": [["code","message",[[7,7]]]],
//!   "unknown": [...], "unchanged": [...]}}`: final outcomes of a part of a batch: `ok`
//!   succeeded, `present` succeeded as already held by the provider, `failed` and `unknown`
//!   grouped by code and message, `unchanged` not sent (`--skip-unchanged`). Keys without rows
//!   are left out; rows left pending are not recorded.
//!
//! A clean run thus writes two short lines per batch, whatever its rows hold. The cells of the
//! reports are not in the journal: failed rows are read again from the identical input, the
//! cells of `unchanged.csv` are computed again from it, and the `success.csv` line of a row
//! (nxlink's customer id above all) is in the earlier run's `success.csv` or
//! `.success.csv.part`, read back by `--resume`.
//!
//! Invariants: a row is recorded as final only after the provider's answer was interpreted, and
//! a row is recorded as succeeded only after its `success.csv` line was written to the report's
//! file (the collector flushes it first, and syncs that file before the journal). A crash of
//! the process at any instant leaves a journal from which no acknowledged row is resent and no
//! unacknowledged row is forgotten, and a report file holding the line of every row the journal
//! calls succeeded. A power failure can lose the last 100 ms of entries: their rows are sent
//! again on `--resume`, which both providers deduplicate (and itnio's batch records, on which
//! its answers depend, were on disk before sending). It can also leave outcomes on disk whose
//! success lines are not: each [`Journal::checkpoint`] marks the point up to which both were,
//! and `--resume` sends again the rows past the last mark that lack their line.
//!
//! Journals of version 2 (one entry per row, success cells included) are read as well, and a
//! resumed one is continued in version 3 entries.
//!
//! The journal's header names the input by its [`Identity`]: its length and a BLAKE3 hash of
//! every byte. `--resume` continues only a run of exactly the same bytes, since rows are known
//! by their number: one row deleted and another padded to keep the size would otherwise shift
//! every later row onto an entry of its neighbour. A run from a stream records no identity and
//! cannot be resumed.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::input::Identity;
use crate::outcome::Outcome;

/// The journal's name in the report directory.
pub(crate) const FILE: &str = crate::report::outdir::ReportFile::Journal.name();

/// The journal format written by this version: 4 records the options that shaped the run in
/// its header (3 did not; 3 and 4 record rows as ranges and no report cells; 2 listed every
/// row, with its success cells; 1 compared the input's size and its first and last MiB only).
pub const VERSION: u32 = 4;

/// The oldest format `--resume` reads.
pub(crate) const OLDEST: u32 = 2;

/// The `fingerprint` of a run whose input was a stream.
const STREAM: &str = "stream";

/// Rows `first..=last`, written `[first, last]`.
pub(crate) type Span = (u64, u64);

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
    /// The options that shaped what the run read and sent (version 4 on; see
    /// `crate::config::recorded`): `--resume` takes them back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<crate::config::recorded::Options>,
}

/// A final outcome recorded by an earlier run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EarlierOutcome {
    /// Its `success.csv` line is in the earlier run's report (or, version 2, in the journal).
    Succeeded {
        already_present: bool,
    },
    Failed {
        code: Arc<str>,
        message: Arc<str>,
    },
    Unknown {
        code: Arc<str>,
        message: Arc<str>,
    },
    /// Not sent: the state remembered it as sent with the same content (`--skip-unchanged`).
    Unchanged,
}

/// What an earlier run left.
#[derive(Debug, Default)]
pub struct Loaded {
    pub header: Option<Header>,
    /// Rows with a final outcome: sorted, disjoint ranges (adjacent ones of equal outcomes
    /// merged).
    pub done: Vec<(Span, EarlierOutcome)>,
    /// Rows recorded as sent (with an outcome or not): sorted, disjoint ranges.
    pub sent: Vec<Span>,
    /// The `success.csv` cells (after `row`) of succeeded rows, from entries of version 2.
    pub cells: Vec<(u64, Vec<String>)>,
    /// Rows recorded as succeeded after the last checkpoint's mark (sorted ranges): their
    /// success lines may not have reached the disk before a power failure.
    pub unmarked: Vec<Span>,
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
            options: None,
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
        if self.version < OLDEST {
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

/// The header of the journal in `dir`, read from its first line; `None` when there is no
/// journal or its first line is not a header.
pub(crate) fn read_header(dir: &Path) -> io::Result<Option<Header>> {
    let f = match crate::private_file::open_existing(&dir.join(FILE), false) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    // A header is short; a first line past 1 MiB is no header of ours.
    let mut line = Vec::new();
    BufReader::new(f)
        .take(1 << 20)
        .read_until(b'\n', &mut line)?;
    Ok(match serde_json::from_slice::<EntryIn>(&line) {
        Ok(EntryIn::Start(h)) => Some(h),
        _ => None,
    })
}

/// Extend `spans` with `row`: the last range when it is the next row, else a new one.
fn push_row(spans: &mut Vec<Span>, row: u64) {
    match spans.last_mut() {
        Some((_, last)) if last.checked_add(1) == Some(row) => *last = row,
        _ => spans.push((row, row)),
    }
}

/// Rows refused alike: code, message, rows.
type Group<'a> = (&'a str, &'a str, Vec<Span>);

/// Add `row` to the group of its code and message.
fn push_grouped<'a>(groups: &mut Vec<Group<'a>>, code: &'a str, message: &'a str, row: u64) {
    match groups
        .iter_mut()
        .find(|(c, m, _)| *c == code && *m == message)
    {
        Some((_, _, spans)) => push_row(spans, row),
        None => groups.push((code, message, vec![(row, row)])),
    }
}

/// One `done` entry as written.
#[derive(Debug, Default, Serialize)]
struct DoneOut<'a> {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ok: Vec<Span>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    present: Vec<Span>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    failed: Vec<Group<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    unknown: Vec<Group<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    unchanged: Vec<Span>,
}

impl DoneOut<'_> {
    fn is_empty(&self) -> bool {
        self.ok.is_empty()
            && self.present.is_empty()
            && self.failed.is_empty()
            && self.unknown.is_empty()
            && self.unchanged.is_empty()
    }
}

/// One `done` entry as read (version 3).
#[derive(Debug, Default, Deserialize)]
struct DoneIn {
    #[serde(default)]
    ok: Vec<Span>,
    #[serde(default)]
    present: Vec<Span>,
    #[serde(default)]
    failed: Vec<(String, String, Vec<Span>)>,
    #[serde(default)]
    unknown: Vec<(String, String, Vec<Span>)>,
    #[serde(default)]
    unchanged: Vec<Span>,
}

#[derive(Serialize)]
#[serde(rename_all = "snake_case")]
enum EntryOut<'a> {
    Start(&'a Header),
    Sent(&'a [Span]),
    Done(&'a DoneOut<'a>),
    /// `{"synced":true}`: every entry above, and the success line of every row they call
    /// succeeded, were on disk (see [`Journal::checkpoint`]).
    Synced(bool),
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum EntryIn {
    Start(Header),
    Sent(SentIn),
    Done(DoneEntryIn),
    Synced(serde::de::IgnoredAny),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum SentIn {
    /// First: the version 2 object would also read a sequence.
    Spans(Vec<Span>),
    /// Version 2: `{"batch": id, "rows": [...]}`.
    Rows { rows: Vec<u64> },
}

#[derive(Deserialize)]
#[serde(untagged)]
enum DoneEntryIn {
    /// Version 2: one array per row (first: an object would also read as a sequence).
    Rows(Vec<Value>),
    Spans(DoneIn),
}

/// The open journal.
#[derive(Debug)]
pub struct Journal {
    file: Mutex<File>,
    /// Outcomes were recorded since the last [`Journal::checkpoint`].
    unmarked: std::sync::atomic::AtomicBool,
}

impl Journal {
    /// Start a new journal (truncating any old one) with its header.
    pub fn create(dir: &Path, header: &Header) -> io::Result<Journal> {
        let f = crate::private_file::create_private(&dir.join(FILE))?;
        let j = Journal {
            file: Mutex::new(f),
            unmarked: Default::default(),
        };
        j.append(&EntryOut::Start(header), true)?;
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
            unmarked: Default::default(),
        })
    }

    /// Write one entry as a line; with `sync`, on disk before returning.
    fn append(&self, e: &EntryOut<'_>, sync: bool) -> io::Result<()> {
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

    /// Record the rows of batches about to be sent; with `sync`, on disk before returning
    /// (otherwise with the next [`Journal::sync`]).
    pub fn sent(&self, rows: &[u64], sync: bool) -> io::Result<()> {
        let mut sorted = rows.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        let mut spans = Vec::new();
        for row in sorted {
            push_row(&mut spans, row);
        }
        if spans.is_empty() {
            return Ok(());
        }
        self.append(&EntryOut::Sent(&spans), sync)
    }

    /// Record final outcomes (`pending` rows are not final and left out; call
    /// [`Journal::sync`] after a group of these). The `success.csv` lines of succeeded rows
    /// must be in the report's file already.
    pub fn done(&self, rows: &[(u64, &Outcome)]) -> io::Result<()> {
        let mut e = DoneOut::default();
        for (row, o) in rows {
            match o {
                Outcome::Succeeded {
                    already_present: false,
                    ..
                } => push_row(&mut e.ok, *row),
                Outcome::Succeeded {
                    already_present: true,
                    ..
                } => push_row(&mut e.present, *row),
                Outcome::Failed { code, message } => {
                    push_grouped(&mut e.failed, code, message, *row)
                }
                Outcome::Unknown { code, message } => {
                    push_grouped(&mut e.unknown, code, message, *row)
                }
                Outcome::Pending => {}
            }
        }
        if e.is_empty() {
            return Ok(());
        }
        self.unmarked
            .store(true, std::sync::atomic::Ordering::Relaxed);
        self.append(&EntryOut::Done(&e), false)
    }

    /// Record rows found unchanged: final outcomes, so that `--resume` reports them as
    /// unchanged again whatever the state holds by then.
    pub fn unchanged(&self, rows: &[u64]) -> io::Result<()> {
        let mut e = DoneOut::default();
        for row in rows {
            push_row(&mut e.unchanged, *row);
        }
        if e.is_empty() {
            return Ok(());
        }
        self.unmarked
            .store(true, std::sync::atomic::Ordering::Relaxed);
        self.append(&EntryOut::Done(&e), false)
    }

    pub fn sync(&self) -> io::Result<()> {
        let f = self
            .file
            .lock()
            .map_err(|_| io::Error::other("journal lock poisoned"))?;
        f.sync_data()
    }

    /// Sync, then mark the point: every outcome recorded so far is on disk. Called by the
    /// collector after it synced the success report, so the mark also says that the success
    /// line of every row recorded as succeeded above it is on disk. The mark itself reaches
    /// the disk with the next sync; one lost only makes `--resume` more careful.
    ///
    /// A power failure can leave on disk outcomes written after the last mark whose success
    /// lines were not (the system writes files back in any order): `--resume` sends such rows
    /// again, as rows sent without an outcome, instead of refusing to go on.
    pub fn checkpoint(&self) -> io::Result<()> {
        self.sync()?;
        if self
            .unmarked
            .swap(false, std::sync::atomic::Ordering::Relaxed)
        {
            self.append(&EntryOut::Synced(true), false)?;
        }
        Ok(())
    }

    /// Read what an earlier run recorded (entries of version 3 and 2). A torn last line (crash
    /// mid-write) is ignored.
    pub fn load(dir: &Path) -> io::Result<Loaded> {
        let f = crate::private_file::open_existing(&dir.join(FILE), false)?;
        let mut loaded = Loaded::default();
        // Rows recorded as succeeded (version 3) since the last mark of a checkpoint.
        let mut unmarked: Vec<Span> = Vec::new();
        for line in BufReader::new(f).split(b'\n') {
            let line = line?;
            let Ok(entry) = serde_json::from_slice::<EntryIn>(&line) else {
                continue;
            };
            match entry {
                EntryIn::Start(h) => loaded.header = Some(h),
                EntryIn::Sent(SentIn::Spans(spans)) => loaded.sent.extend(spans),
                EntryIn::Sent(SentIn::Rows { rows }) => {
                    loaded.sent.extend(rows.into_iter().map(|r| (r, r)))
                }
                EntryIn::Done(DoneEntryIn::Spans(d)) => {
                    unmarked.extend(d.ok.iter().chain(&d.present).copied());
                    loaded.add_done(d)
                }
                EntryIn::Synced(_) => unmarked.clear(),
                EntryIn::Done(DoneEntryIn::Rows(items)) => {
                    for it in items {
                        if let Some((row, prev, cells)) = parse_done_v2(&it) {
                            loaded.done.push(((row, row), prev));
                            loaded.cells.extend(cells.map(|c| (row, c)));
                        }
                    }
                }
            }
        }
        unmarked.retain(|(a, b)| a <= b);
        unmarked.sort_unstable();
        loaded.unmarked = unmarked;
        loaded.normalise();
        Ok(loaded)
    }
}

impl Loaded {
    fn add_done(&mut self, d: DoneIn) {
        let mut add = |spans: Vec<Span>, o: EarlierOutcome| {
            self.done.extend(
                spans
                    .into_iter()
                    .filter(|(a, b)| a <= b)
                    .map(|s| (s, o.clone())),
            );
        };
        add(
            d.ok,
            EarlierOutcome::Succeeded {
                already_present: false,
            },
        );
        add(
            d.present,
            EarlierOutcome::Succeeded {
                already_present: true,
            },
        );
        for (code, message, spans) in d.failed {
            let o = EarlierOutcome::Failed {
                code: code.into(),
                message: message.into(),
            };
            add(spans, o);
        }
        for (code, message, spans) in d.unknown {
            let o = EarlierOutcome::Unknown {
                code: code.into(),
                message: message.into(),
            };
            add(spans, o);
        }
        add(d.unchanged, EarlierOutcome::Unchanged);
    }

    /// Sort the ranges and merge neighbours: adjacent or overlapping sent rows, adjacent rows
    /// of equal outcomes. A row is final once, so final ranges never overlap.
    fn normalise(&mut self) {
        self.sent.retain(|(a, b)| a <= b);
        self.sent.sort_unstable();
        let mut sent: Vec<Span> = Vec::with_capacity(self.sent.len());
        for (a, b) in self.sent.drain(..) {
            match sent.last_mut() {
                Some((_, last)) if a <= last.saturating_add(1) => *last = (*last).max(b),
                _ => sent.push((a, b)),
            }
        }
        self.sent = sent;
        self.done.sort_by_key(|((a, _), _)| *a);
        let mut done: Vec<(Span, EarlierOutcome)> = Vec::with_capacity(self.done.len());
        for ((a, b), o) in self.done.drain(..) {
            // Overlapping entries (a row recorded twice: a repeated line, a journal pieced
            // together by hand) keep the first outcome of each row, so that the ranges stay
            // disjoint and every lookup finds the row.
            let a = match done.last() {
                Some(((_, last), _)) if a <= *last => last.saturating_add(1),
                _ => a,
            };
            if a > b {
                continue;
            }
            match done.last_mut() {
                Some(((_, last), prev)) if last.checked_add(1) == Some(a) && *prev == o => {
                    *last = b
                }
                _ => done.push(((a, b), o)),
            }
        }
        self.done = done;
    }
}

/// Whether a file is empty or ends with a newline.
pub(crate) fn ends_with_newline(path: &Path) -> io::Result<bool> {
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

mod v2;
use v2::parse_done_v2;

#[cfg(test)]
mod tests;
