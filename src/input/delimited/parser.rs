//! Byte-level CSV record parser: splits an ASCII-compatible byte stream into records of raw
//! field bytes, following the csv crate's (RFC 4180) rules: `"` opens a quote only at the start
//! of a field, `""` inside quotes is a literal quote, bytes after a closing quote are kept
//! literally, CR, LF and CRLF end records, and empty lines are skipped.
//!
//! Invariant: every byte of the input is looked at exactly once and memory stays bounded by
//! the record being read: a field stops growing at the size cap (the record is flagged), and a
//! quote still open at the end of the input is reported, never silently closed. Line numbers
//! count CR, LF and CRLF alike, so they match what an editor shows.
//!
//! One record's buffers are reused for the next: reading allocates nothing per record once the
//! buffers have grown to the widest record.

use std::io::{self, BufRead};

use crate::input::cells::piece;

/// One record as read from the stream, before decoding.
#[derive(Debug, Default, Clone)]
pub(super) struct RawRecord {
    /// Physical line where the record starts.
    pub line: u64,
    /// Physical line of the record's last byte (after `line` when a quoted field spans lines).
    pub end_line: u64,
    /// Field bytes, unquoted, back to back; a field over the cap holds only its first `cap`
    /// bytes.
    bytes: Vec<u8>,
    /// Where each field starts in `bytes`.
    starts: Vec<usize>,
    /// Physical line where each field starts.
    pub field_lines: Vec<u64>,
    /// Index of the first field longer than the cap.
    pub too_large: Option<usize>,
    /// `(line where the quote opened, last line read)` when a quote is open at end of input.
    pub unterminated: Option<(u64, u64)>,
    /// The record as a whole went over [`MAX_FIELDS`] fields or [`RECORD_CAP_FACTOR`] times
    /// the field cap in bytes; what is kept of it is incomplete.
    pub too_big: bool,
}

impl RawRecord {
    /// Number of fields.
    pub(super) fn len(&self) -> usize {
        self.starts.len()
    }

    /// Bytes of all fields together.
    pub(super) fn stored(&self) -> usize {
        self.bytes.len()
    }

    /// The bytes of field `index`.
    pub(super) fn field(&self, index: usize) -> &[u8] {
        piece(&self.starts, self.bytes.len(), index)
            .and_then(|r| self.bytes.get(r))
            .unwrap_or_default()
    }

    /// All field bytes back to back, and where each field starts in them.
    pub(super) fn parts(&self) -> (&[u8], &[usize]) {
        (&self.bytes, &self.starts)
    }

    /// The fields in order.
    pub(super) fn fields(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        (0..self.starts.len()).map(|i| self.field(i))
    }

    /// Bytes of the field being read.
    fn current_len(&self) -> usize {
        self.bytes.len() - self.starts.last().copied().unwrap_or(self.bytes.len())
    }

    /// Start over for a record beginning on `line`, keeping the buffers.
    fn reset(&mut self, line: u64) {
        /// Buffers grown beyond this by one huge record are given back.
        const KEEP: usize = 1 << 20;
        if self.bytes.capacity() > KEEP {
            self.bytes = Vec::new();
        }
        self.line = line;
        self.end_line = line;
        self.bytes.clear();
        self.starts.clear();
        self.field_lines.clear();
        self.too_large = None;
        self.unterminated = None;
        self.too_big = false;
    }
}

/// Most fields one record may have.
pub(super) const MAX_FIELDS: usize = 10_000;
/// A record may hold at most this many times the field cap in bytes.
pub(super) const RECORD_CAP_FACTOR: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    StartRecord,
    StartField,
    InField,
    InQuoted,
    /// A `"` was seen inside a quoted field: either an escaped quote or the closing one.
    QuoteInQuoted,
}

/// The state machine, kept apart from the reader so both can be borrowed at once.
struct Machine {
    delimiter: u8,
    cap: usize,
    /// Line of the next byte.
    line: u64,
    prev_cr: bool,
    state: State,
    quote_line: u64,
    last_line: u64,
    /// The record has bytes after a closing quote other than a delimiter (`"a";"b"` read with
    /// `,`): a sign of the wrong delimiter, for the sniffer.
    stray: bool,
    /// Which of the record's first 64 fields opened with a quote, for the sniffer.
    quoted: u64,
    record: RawRecord,
}

impl Machine {
    fn new(delimiter: u8, cap: usize) -> Machine {
        Machine {
            delimiter,
            cap,
            line: 1,
            prev_cr: false,
            state: State::StartRecord,
            quote_line: 1,
            last_line: 1,
            stray: false,
            quoted: 0,
            record: RawRecord::default(),
        }
    }

    /// Feeds one byte; returns true when it ended a record.
    fn step(&mut self, b: u8) -> bool {
        let byte_line = if b == b'\n' && self.prev_cr {
            self.line.saturating_sub(1)
        } else {
            self.line
        };
        match b {
            b'\r' => {
                self.line += 1;
                self.prev_cr = true;
            }
            b'\n' => {
                if !self.prev_cr {
                    self.line += 1;
                }
                self.prev_cr = false;
            }
            _ => self.prev_cr = false,
        }
        self.last_line = byte_line;
        let term = b == b'\r' || b == b'\n';
        match self.state {
            State::StartRecord => {
                if term {
                    return false;
                }
                self.record.reset(byte_line);
                self.stray = false;
                self.quoted = 0;
                self.start_field(byte_line);
                self.field_start(b, byte_line, term)
            }
            State::StartField => self.field_start(b, byte_line, term),
            State::InField => self.unquoted(b, byte_line, term),
            State::InQuoted => {
                if b == b'"' {
                    self.state = State::QuoteInQuoted;
                } else {
                    self.push(b);
                }
                false
            }
            State::QuoteInQuoted => {
                if b == b'"' {
                    self.push(b);
                    self.state = State::InQuoted;
                    false
                } else {
                    self.stray |= b != self.delimiter && !term;
                    self.unquoted(b, byte_line, term)
                }
            }
        }
    }

    fn field_start(&mut self, b: u8, byte_line: u64, term: bool) -> bool {
        if b == b'"' {
            self.state = State::InQuoted;
            self.quote_line = byte_line;
            let field = self.record.starts.len().saturating_sub(1);
            self.quoted |= 1u64.checked_shl(field as u32).unwrap_or(0);
            false
        } else {
            self.unquoted(b, byte_line, term)
        }
    }

    fn unquoted(&mut self, b: u8, byte_line: u64, term: bool) -> bool {
        if b == self.delimiter {
            self.start_field(byte_line);
            self.state = State::StartField;
            false
        } else if term {
            self.state = State::StartRecord;
            self.record.end_line = byte_line;
            true
        } else {
            self.push(b);
            self.state = State::InField;
            false
        }
    }

    fn start_field(&mut self, byte_line: u64) {
        if self.record.starts.len() >= MAX_FIELDS {
            self.record.too_big = true;
            return;
        }
        self.record.starts.push(self.record.bytes.len());
        self.record.field_lines.push(byte_line);
    }

    fn push(&mut self, b: u8) {
        let record = &mut self.record;
        if record.starts.is_empty() {
            return;
        }
        // A field over the cap is kept whole (within the record's cap) for the failure report:
        // its row is refused, and a report fed back with a larger --max-field-size sends it all.
        let over = record.current_len() >= self.cap;
        if over && record.too_large.is_none() {
            record.too_large = Some(record.starts.len() - 1);
        }
        if record.bytes.len() >= self.cap.saturating_mul(RECORD_CAP_FACTOR) {
            // Full: the rest of a field already too large is cut; otherwise the record is.
            if !over {
                record.too_big = true;
            }
            return;
        }
        record.bytes.push(b);
    }

    /// Bytes that need the state machine in the current state; any other byte is simply
    /// part of the field. `None` where every byte matters.
    fn specials(&self) -> Option<(u8, u8, u8)> {
        match self.state {
            State::InField => Some((self.delimiter, b'\r', b'\n')),
            State::InQuoted => Some((b'"', b'\r', b'\n')),
            _ => None,
        }
    }

    /// Append a run of plain field bytes (no delimiter, quote or line break among them).
    fn push_run(&mut self, run: &[u8]) {
        if run.is_empty() {
            return;
        }
        self.prev_cr = false;
        self.last_line = self.line;
        let record = &mut self.record;
        if record.starts.is_empty() {
            return;
        }
        let record_cap = self.cap.saturating_mul(RECORD_CAP_FACTOR);
        let room = record_cap.saturating_sub(record.bytes.len());
        let take = room.min(run.len());
        record.bytes.extend_from_slice(&run[..take]);
        // Over the field's cap: refused, but kept whole within the record's (see `push`).
        let over = record.current_len() > self.cap;
        if over && record.too_large.is_none() {
            record.too_large = Some(record.starts.len() - 1);
        }
        if take < run.len() && !over {
            record.too_big = true;
        }
    }

    /// End of input: whether a record was in progress (it is then complete in `record`).
    fn finish(&mut self) -> bool {
        let state = std::mem::replace(&mut self.state, State::StartRecord);
        if state != State::StartRecord {
            self.record.end_line = self.last_line;
        }
        match state {
            State::StartRecord => false,
            State::InQuoted => {
                self.record.unterminated = Some((self.quote_line, self.last_line));
                true
            }
            _ => true,
        }
    }
}

/// The first record of `bytes` as the parser reads it with `delimiter` (blank lines before it
/// skipped): its number of fields, and the offset just past the line break that ends it
/// (`None` when it does not end within `bytes`). Stores no field bytes.
pub(super) fn first_record(bytes: &[u8], delimiter: u8) -> (usize, Option<usize>) {
    let mut machine = Machine::new(delimiter, 0);
    for (i, &b) in bytes.iter().enumerate() {
        if machine.step(b) {
            return (machine.record.len(), Some(i + 1));
        }
    }
    (machine.record.len(), None)
}

/// One record of a sample as the dialect sniffer sees it.
#[derive(Debug, Clone, Default)]
pub(super) struct Sampled {
    /// The fields' bytes, unquoted (each cut at the sample's field cap).
    pub fields: Vec<Vec<u8>>,
    /// Which of the first 64 fields were quoted.
    pub quoted: u64,
    /// Bytes after a closing quote other than the delimiter.
    pub stray: bool,
    /// A quote still open at the end of the sample.
    pub unterminated: bool,
}

/// The records at the start of `bytes` read with `delimiter`, at most `max` of them, each
/// field kept up to 256 bytes; the last one may be cut by the end of `bytes`.
pub(super) fn sample_records(bytes: &[u8], delimiter: u8, max: usize) -> Vec<Sampled> {
    let mut machine = Machine::new(delimiter, 256);
    let mut records = Vec::new();
    let take = |m: &Machine| Sampled {
        fields: m.record.fields().map(<[u8]>::to_vec).collect(),
        quoted: m.quoted,
        stray: m.stray,
        unterminated: m.record.unterminated.is_some(),
    };
    for &b in bytes {
        if records.len() >= max {
            return records;
        }
        if machine.step(b) {
            records.push(take(&machine));
        }
    }
    if records.len() < max && machine.finish() {
        records.push(take(&machine));
    }
    records
}

/// Reads [`RawRecord`]s from a buffered byte stream.
pub(super) struct Parser<R> {
    reader: R,
    machine: Machine,
}

impl<R: BufRead> Parser<R> {
    pub(super) fn new(reader: R, delimiter: u8, max_field_bytes: usize) -> Self {
        Parser {
            reader,
            machine: Machine::new(delimiter, max_field_bytes),
        }
    }

    /// The next record (valid until the next call), or `None` at the end of input.
    pub(super) fn next_record(&mut self) -> io::Result<Option<&RawRecord>> {
        loop {
            let buf = match self.reader.fill_buf() {
                Ok(buf) => buf,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if buf.is_empty() {
                return Ok(self.machine.finish().then_some(&self.machine.record));
            }
            let mut used = 0;
            let mut ended = false;
            while used < buf.len() {
                // Plain field bytes are copied as a run, found with memchr; only the bytes
                // that can change the state go through the machine one by one.
                if let Some((a, b, c)) = self.machine.specials() {
                    let rest = &buf[used..];
                    let n = memchr::memchr3(a, b, c, rest).unwrap_or(rest.len());
                    self.machine.push_run(&rest[..n]);
                    used += n;
                    if used == buf.len() {
                        break;
                    }
                }
                let byte = buf[used];
                used += 1;
                if self.machine.step(byte) {
                    ended = true;
                    break;
                }
            }
            self.reader.consume(used);
            if ended {
                return Ok(Some(&self.machine.record));
            }
        }
    }
}

#[cfg(test)]
mod tests;
