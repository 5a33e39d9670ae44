//! What custimport tells the person running it, on stderr: warnings, notes and blocks of text
//! that `--quiet` silences, and the few lines it never silences. The one home of that switch:
//! it is set once when a command starts ([`set_quiet`]), so no stage carries a `quiet` flag.
//!
//! Diagnostics meant for support (requests, answers, timings) go to `tracing` instead (`-v`).
//! Errors that end a run are printed by `app.rs`, once, after the reports are written.

use std::borrow::Cow;
use std::fmt::Display;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

/// The longest line custimport prints, in bytes: a longer one (a list of ten thousand column
/// names, a header of one giant line) is cut, saying how much was left out. Lists are better
/// cut by [`list`], which counts the items left out.
pub(crate) const MAX_LINE: usize = 4096;

/// `text` with each line cut to [`MAX_LINE`] bytes (at a character boundary).
pub(crate) fn bounded(text: &str) -> Cow<'_, str> {
    if text.len() <= MAX_LINE || text.split('\n').all(|l| l.len() <= MAX_LINE) {
        return Cow::Borrowed(text);
    }
    let lines: Vec<Cow<'_, str>> = text
        .split('\n')
        .map(|line| {
            if line.len() <= MAX_LINE {
                return Cow::Borrowed(line);
            }
            let mut end = MAX_LINE - 64;
            while !line.is_char_boundary(end) {
                end -= 1;
            }
            Cow::Owned(format!(
                "{}… ({} more bytes not shown)",
                &line[..end],
                line.len() - end
            ))
        })
        .collect();
    Cow::Owned(lines.join("\n"))
}

/// `items` joined by `, `, as many as fit in about `budget` bytes, then `… and N more`.
pub(crate) fn list<I, S>(items: I, budget: usize) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut out = String::new();
    let mut left_out = 0u64;
    for item in items {
        let item = item.as_ref();
        if left_out > 0 || out.len() + item.len() + 2 > budget {
            left_out += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(", ");
        }
        out.push_str(item);
    }
    if left_out > 0 {
        out.push_str(&format!(" … and {left_out} more"));
    }
    out
}

fn line(message: impl Display) -> String {
    bounded(&message.to_string()).into_owned()
}

static QUIET: AtomicBool = AtomicBool::new(false);

/// `--quiet`: from now on, warnings, notes and blocks are not shown.
pub(crate) fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether `--quiet` is in force.
pub(crate) fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// `warning: …`, unless `--quiet`.
pub(crate) fn warn(message: impl Display) {
    if !quiet() {
        eprintln!("warning: {}", line(message));
    }
}

/// A line of its own (`custimport: stopping …`), unless `--quiet`.
pub(crate) fn note(message: impl Display) {
    if !quiet() {
        eprintln!("{}", line(message));
    }
}

/// Text as it is, lines and all (the dry run's plan view), unless `--quiet`.
pub(crate) fn block(text: impl Display) {
    if !quiet() {
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "{}", line(text));
    }
}

/// A line shown even with `--quiet`: what ends the run, or what the user must act on.
pub(crate) fn always(message: impl Display) {
    eprintln!("{}", line(message));
}

/// A question, without a line break, shown even with `--quiet` (the answer is read next).
pub(crate) fn prompt(question: impl Display) {
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "{question}");
    let _ = err.flush();
}

/// Write `bytes` to standard output. A closed pipe (`custimport man | head -1`) ends the output
/// quietly: the reader wanted no more, which is no error.
pub(crate) fn stdout(bytes: &[u8]) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        written => written,
    }
}

/// `error: …`, always shown.
/// With `--quiet` an error of several lines (the config lines to write, say) is joined into
/// one: a quiet run that fails prints exactly one line.
pub(crate) fn error(message: impl Display) {
    let text = line(message);
    if quiet() && text.contains('\n') {
        let joined: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        eprintln!("error: {}", joined.join("; "));
    } else {
        eprintln!("error: {text}");
    }
}

#[cfg(test)]
mod tests;
