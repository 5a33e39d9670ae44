//! What `--resume` knows of the run it continues: loaded once, before anything is sent, and
//! shared (as `Arc<Resume>`) by the reader (which rows to skip), the send stage (which rows may
//! have landed already) and the collector (what to report again for the rows skipped).
//!
//! It comes from the journal (rows sent, each row's final outcome: see `crate::journal`) and,
//! for the rows that succeeded, from the earlier run's success report: `success.csv` when that
//! run finished, `.success.csv.part` when it was killed, and `.success.csv.earlier`, where a
//! resumed run keeps the earlier lines until its own `success.csv` holds them all. Only lines
//! of rows the journal calls succeeded are taken: a line written just before a crash, whose
//! row's outcome the journal does not hold, is ignored, and its row is sent again.
//!
//! Invariants: every row the journal calls succeeded has its success line, or `--resume` is
//! refused (exit 2) with a message naming the files, and the row is never sent again. The
//! earlier lines survive any crash of the resumed run: before it replaces `.success.csv.part`
//! they are all written to `.success.csv.earlier` (a new file, synced, renamed into place),
//! which is removed only once the run's committed `success.csv` holds every one of them.

use std::io::{self, BufReader};
use std::path::{Path, PathBuf};

use anyhow::anyhow;

use crate::config::Settings;
use crate::exit::Fatal;
use crate::input::Identity;
use crate::journal::{EarlierOutcome, Journal, Loaded, Span};
use crate::report::outdir::ReportFile;
use crate::report::PendingReport;
use crate::report::SOURCE_ROW;

/// The success report, and where a resumed run keeps the earlier run's success lines.
const SUCCESS: ReportFile = ReportFile::Success;
const EARLIER: ReportFile = ReportFile::Earlier;

/// The run being resumed.
#[derive(Debug)]
pub(crate) struct Resume {
    out: PathBuf,
    /// Rows with a final outcome: sorted, disjoint ranges.
    done: Vec<(Span, EarlierOutcome)>,
    /// Rows recorded as sent: sorted, disjoint ranges.
    sent: Vec<Span>,
    /// The `success.csv` cells of the rows that succeeded.
    lines: SuccessLines,
    /// How many rows succeeded.
    succeeded: u64,
    has_unchanged: bool,
    /// Rows recorded as succeeded after the journal's last checkpoint (sorted ranges).
    unmarked: Vec<Span>,
}

impl Resume {
    /// Read the journal in `out` and the earlier run's success lines, after checking that the
    /// journal is this provider's, of exactly this input (`identity`) and sheet. Unless in a
    /// dry run, the success lines of a killed run are then kept in [`EARLIER`], since the new
    /// run replaces `.success.csv.part`.
    pub(crate) fn load(
        out: &Path,
        settings: &Settings,
        sheet: Option<&str>,
        provider: &str,
        success_header: &[&str],
        identity: Option<&Identity>,
    ) -> Result<Resume, Fatal> {
        let loaded = Journal::load(out).map_err(|e| {
            Fatal::usage(anyhow!(
                "--resume: {} holds no readable journal ({e}); nothing to resume",
                out.display()
            ))
        })?;
        check_header(&loaded, out, (settings, sheet), provider, identity)?;
        let mut resume = Resume::new(out, loaded, success_header.len());
        let killed = resume.read_success_files(success_header)?;
        resume.settle_missing_lines()?;
        if killed && !settings.dry_run() && resume.succeeded > 0 {
            resume.keep_lines(success_header).map_err(|e| {
                Fatal::usage(anyhow!(
                    "--resume: cannot write {}: {e}",
                    out.join(EARLIER.name()).display()
                ))
            })?;
        }
        Ok(resume)
    }

    /// What the journal says; success lines from version 2 entries only (`cells` per row).
    pub(crate) fn new(out: &Path, loaded: Loaded, cells: usize) -> Resume {
        let mut lines = SuccessLines::new(cells);
        for (row, c) in &loaded.cells {
            lines.add(*row, c.iter().map(String::as_str));
        }
        let succeeded = loaded
            .done
            .iter()
            .filter(|(_, o)| matches!(o, EarlierOutcome::Succeeded { .. }))
            .map(|((a, b), _)| b - a + 1)
            .sum();
        let has_unchanged = loaded
            .done
            .iter()
            .any(|(_, o)| *o == EarlierOutcome::Unchanged);
        lines.finish();
        Resume {
            out: out.to_path_buf(),
            done: loaded.done,
            sent: loaded.sent,
            lines,
            succeeded,
            has_unchanged,
            unmarked: loaded.unmarked,
        }
    }

    /// Whether the row has a final outcome (it is not sent again).
    pub(crate) fn is_done(&self, row: u64) -> bool {
        self.earlier(row).is_some()
    }

    /// The row's final outcome in the earlier run.
    pub(crate) fn earlier(&self, row: u64) -> Option<&EarlierOutcome> {
        let i = self.done.partition_point(|((first, _), _)| *first <= row);
        let ((_, last), o) = self.done.get(i.checked_sub(1)?)?;
        (row <= *last).then_some(o)
    }

    /// The `success.csv` cells (after `row`) of a row that succeeded.
    pub(crate) fn success_cells(&self, row: u64) -> Option<Vec<&str>> {
        self.lines.get(row)
    }

    /// Whether the row was sent without a final outcome: the provider may hold it.
    pub(crate) fn was_in_flight(&self, row: u64) -> bool {
        in_spans(&self.sent, row) && !self.is_done(row)
    }

    /// Whether some rows were found unchanged (the run used `--skip-unchanged`).
    pub(crate) fn has_unchanged(&self) -> bool {
        self.has_unchanged
    }

    /// How many rows succeeded in the earlier run.
    #[cfg(test)]
    pub(crate) fn succeeded(&self) -> u64 {
        self.succeeded
    }

    /// The new run committed its `success.csv` holding `reported` of the earlier success
    /// lines: once that is all of them, [`EARLIER`] is no longer needed.
    pub(crate) fn reported(&self, reported: u64) -> io::Result<()> {
        if reported < self.succeeded {
            return Ok(());
        }
        match std::fs::remove_file(self.out.join(EARLIER.name())) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Read the success lines of the rows that succeeded from the earlier reports. Returns
    /// whether the earlier run was killed (it left `.success.csv.part`).
    fn read_success_files(&mut self, header: &[&str]) -> Result<bool, Fatal> {
        let part = SUCCESS.part_name();
        let mut killed = false;
        for name in [SUCCESS.name(), EARLIER.name(), part.as_str()] {
            let path = self.out.join(name);
            let found =
                read_success_file(&path, header, &self.done, &mut self.lines).map_err(|e| {
                    Fatal::usage(anyhow!("--resume: cannot read {}: {e}", path.display()))
                })?;
            killed |= found && name == part;
        }
        self.lines.finish();
        Ok(killed)
    }

    /// Every row that succeeded must have its success line. A row recorded after the journal's
    /// last checkpoint may lack it after a power failure (its outcome reached the disk, its line
    /// did not): it is then sent again, as a row sent without an outcome (the provider holds
    /// it; an "already exists" answer counts as success). Any other row without its line means
    /// the report was removed or damaged: `--resume` refuses rather than send it again or leave
    /// it out of the report.
    fn settle_missing_lines(&mut self) -> Result<(), Fatal> {
        let mut missing = 0u64;
        let mut first = None;
        let mut resend = Vec::new();
        for ((a, b), o) in &self.done {
            if !matches!(o, EarlierOutcome::Succeeded { .. }) {
                continue;
            }
            for row in *a..=*b {
                if self.lines.contains(row) {
                    continue;
                }
                if in_spans(&self.unmarked, row) {
                    resend.push(row);
                } else {
                    missing += 1;
                    first.get_or_insert(row);
                }
            }
        }
        if let Some(first) = first {
            let out = self.out.display();
            return Err(Fatal::usage(anyhow!(
                "--resume: the journal in {out} records {missing} row(s) as succeeded (the first: row {first}) whose line is in none of {out}/{SUCCESS}, {out}/{} and {out}/{EARLIER}: the earlier run's success report was removed or damaged. Those rows are held by the provider and are not sent again, but their success lines cannot be written again: restore {out}/{SUCCESS}, or import the input with a new --out",
                SUCCESS.part_name(),
            )));
        }
        if !resend.is_empty() {
            tracing::info!(
                rows = resend.len(),
                "rows recorded as succeeded after the journal's last checkpoint have no success line: sending them again"
            );
            self.done = without_rows(std::mem::take(&mut self.done), &resend);
            self.succeeded -= resend.len() as u64;
        }
        Ok(())
    }

    /// Write every success line read to [`EARLIER`] (a new file, synced, renamed into place).
    fn keep_lines(&self, header: &[&str]) -> io::Result<()> {
        let (rf, w) = PendingReport::create(&self.out, EARLIER)?;
        let mut csv = csv::WriterBuilder::new().flexible(true).from_writer(w);
        let mut full = vec!["row"];
        full.extend_from_slice(header);
        csv.write_record(&full)?;
        for (row, cells) in self.lines.iter() {
            csv.write_field(row.to_string())?;
            for c in cells {
                csv.write_field(c)?;
            }
            csv.write_record(None::<&[u8]>)?;
        }
        rf.commit(csv.into_inner().map_err(|e| e.into_error())?)
    }
}

/// The journal must be this provider's, of exactly this input and sheet (the sheet read, by
/// name: `--sheet 2` resolved).
fn check_header(
    loaded: &Loaded,
    out: &Path,
    (settings, sheet): (&Settings, Option<&str>),
    provider: &str,
    identity: Option<&Identity>,
) -> Result<(), Fatal> {
    let Some(h) = &loaded.header else {
        return Err(Fatal::usage(anyhow!(
            "--resume: the journal in {} has no header",
            out.display()
        )));
    };
    if h.provider != provider {
        return Err(Fatal::usage(anyhow!(
            "--resume: {} holds a {} run, not {provider}",
            out.display(),
            h.provider
        )));
    }
    h.same_input(&settings.input.path.display().to_string(), identity, out)
        .map_err(|why| Fatal::usage(anyhow!("--resume: {why}")))?;
    if h.sheet.as_deref() != sheet {
        let name = |sheet: Option<&str>| match sheet {
            Some(sheet) => format!("sheet {sheet:?}"),
            None => "no sheet".to_owned(),
        };
        return Err(Fatal::usage(anyhow!(
            "--resume: the run in {} read {} of {}, not {}; another sheet is another input: import it with a new --out",
            out.display(),
            name(h.sheet.as_deref()),
            h.input,
            name(sheet)
        )));
    }
    Ok(())
}

/// Whether `row` succeeded according to these final ranges.
fn succeeded_in(done: &[(Span, EarlierOutcome)], row: u64) -> bool {
    let i = done.partition_point(|((first, _), _)| *first <= row);
    i.checked_sub(1)
        .and_then(|i| done.get(i))
        .is_some_and(|((_, last), o)| row <= *last && matches!(o, EarlierOutcome::Succeeded { .. }))
}

/// Add the lines of a success report (`row`, then the `header` columns) whose rows succeeded
/// according to `done`. A missing file is no error (`Ok(false)`); a file whose header differs
/// is not read. A torn last line (the run was killed while writing it) is left out, and
/// reading stops at a damaged line: a row whose line is missing is then told by
/// [`Resume::check_lines`].
fn read_success_file(
    path: &Path,
    header: &[&str],
    done: &[(Span, EarlierOutcome)],
    lines: &mut SuccessLines,
) -> io::Result<bool> {
    let f = match crate::private_file::open_existing(path, false) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    let torn = !crate::journal::ends_with_newline(path)?;
    let mut csv = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .from_reader(BufReader::with_capacity(256 * 1024, f));
    let mut cur = csv::StringRecord::new();
    let mut prev = csv::StringRecord::new();
    // The provider's columns, then (written since provenance is kept) `source_row`, which is
    // computed again from the input and not read back.
    let ours = csv.read_record(&mut cur).unwrap_or(false)
        && cur.get(0) == Some("row")
        && cur
            .iter()
            .skip(1)
            .take(header.len())
            .eq(header.iter().copied());
    let extra = cur.len().saturating_sub(header.len() + 1);
    if !ours || extra > 1 || (extra == 1 && cur.get(cur.len() - 1) != Some(SOURCE_ROW)) {
        return Ok(true);
    }
    let width = header.len() + 1 + extra;
    let mut take = |rec: &csv::StringRecord| {
        let row = rec.get(0).and_then(|r| r.parse::<u64>().ok());
        if let Some(row) = row {
            if rec.len() == width && succeeded_in(done, row) {
                lines.add(row, rec.iter().skip(1));
            }
        }
    };
    let mut have_prev = false;
    // One line behind, so that the last one can be left out when it is torn.
    while let Ok(true) = csv.read_record(&mut cur) {
        if have_prev {
            take(&prev);
        }
        std::mem::swap(&mut cur, &mut prev);
        have_prev = true;
    }
    if have_prev && !torn {
        take(&prev);
    }
    Ok(true)
}

/// Success lines by row: every row's cells (a fixed number) in one text, with where each ends.
#[derive(Debug, Default)]
struct SuccessLines {
    cells: usize,
    text: String,
    /// Where each cell ends in `text`, `cells` a row, in the order added.
    ends: Vec<usize>,
    /// (row, the row's place in the order added), sorted by row once finished.
    index: Vec<(u64, usize)>,
    /// Rows added.
    added: usize,
}

impl SuccessLines {
    fn new(cells: usize) -> SuccessLines {
        SuccessLines {
            cells,
            ..SuccessLines::default()
        }
    }

    /// Add a row's cells (extra ones are dropped, missing ones empty).
    fn add<'a>(&mut self, row: u64, cells: impl Iterator<Item = &'a str>) {
        let mut cells = cells;
        self.index.push((row, self.added));
        self.added += 1;
        for _ in 0..self.cells {
            self.text.push_str(cells.next().unwrap_or_default());
            self.ends.push(self.text.len());
        }
    }

    /// Sort by row, keeping the first line added of a row.
    fn finish(&mut self) {
        self.index.sort_by_key(|(row, _)| *row);
        self.index.dedup_by_key(|(row, _)| *row);
    }

    fn contains(&self, row: u64) -> bool {
        self.index.binary_search_by_key(&row, |(r, _)| *r).is_ok()
    }

    fn cells_at(&self, place: usize) -> Vec<&str> {
        (0..self.cells)
            .map(|i| {
                let cell = place * self.cells + i;
                let start = cell.checked_sub(1).map_or(0, |c| self.ends[c]);
                &self.text[start..self.ends[cell]]
            })
            .collect()
    }

    fn get(&self, row: u64) -> Option<Vec<&str>> {
        let i = self.index.binary_search_by_key(&row, |(r, _)| *r).ok()?;
        Some(self.cells_at(self.index[i].1))
    }

    /// Every row's cells, by row.
    fn iter(&self) -> impl Iterator<Item = (u64, Vec<&str>)> + '_ {
        self.index
            .iter()
            .map(|(row, place)| (*row, self.cells_at(*place)))
    }
}

/// Whether `row` is in one of the sorted ranges.
fn in_spans(spans: &[Span], row: u64) -> bool {
    let i = spans.partition_point(|(first, _)| *first <= row);
    i.checked_sub(1)
        .and_then(|i| spans.get(i))
        .is_some_and(|(_, last)| row <= *last)
}

/// The ranges of `done` without the rows of `rows` (sorted).
fn without_rows(done: Vec<(Span, EarlierOutcome)>, rows: &[u64]) -> Vec<(Span, EarlierOutcome)> {
    let mut out = Vec::with_capacity(done.len() + rows.len());
    let mut rows = rows.iter().copied().peekable();
    for ((a, b), o) in done {
        let mut start = a;
        while let Some(&row) = rows.peek() {
            if row > b {
                break;
            }
            rows.next();
            if row < start {
                continue;
            }
            if row > start {
                out.push(((start, row - 1), o.clone()));
            }
            start = row + 1;
        }
        if start <= b {
            out.push(((start, b), o));
        }
    }
    out
}

#[cfg(test)]
mod tests;
