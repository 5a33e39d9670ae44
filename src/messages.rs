//! What custimport tells the person running it, on stderr: warnings, notes and blocks of text
//! that `--quiet` silences, and the few lines it never silences. The one home of that switch:
//! it is set once when a command starts ([`set_quiet`]), so no stage carries a `quiet` flag.
//!
//! Diagnostics meant for support (requests, answers, timings) go to `tracing` instead (`-v`).
//! Errors that end a run are printed by `app.rs`, once, after the reports are written.

use std::fmt::Display;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

static QUIET: AtomicBool = AtomicBool::new(false);

/// `--quiet`: from now on, warnings, notes and blocks are not shown.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether `--quiet` is in force.
pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// `warning: …`, unless `--quiet`.
pub fn warn(message: impl Display) {
    if !quiet() {
        eprintln!("warning: {message}");
    }
}

/// A line of its own (`custimport: stopping …`), unless `--quiet`.
pub fn note(message: impl Display) {
    if !quiet() {
        eprintln!("{message}");
    }
}

/// Text as it is, lines and all (the dry run's plan view), unless `--quiet`.
pub fn block(text: impl Display) {
    if !quiet() {
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "{text}");
    }
}

/// A line shown even with `--quiet`: what ends the run, or what the user must act on.
pub fn always(message: impl Display) {
    eprintln!("{message}");
}

/// A question, without a line break, shown even with `--quiet` (the answer is read next).
pub fn prompt(question: impl Display) {
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "{question}");
    let _ = err.flush();
}

/// Write `bytes` to standard output. A closed pipe (`custimport man | head -1`) ends the output
/// quietly: the reader wanted no more, which is no error.
pub fn stdout(bytes: &[u8]) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        written => written,
    }
}

/// `error: …`, always shown.
pub fn error(message: impl Display) {
    eprintln!("error: {message}");
}
