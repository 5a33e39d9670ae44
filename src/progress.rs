//! The progress bar on a terminal: rows done per second, and, when the total can be known
//! without touching the input the reader streams, a bar with an ETA (a file's line count made
//! aside on a thread of its own, or a spreadsheet's row count). Hidden off a terminal and with
//! `--no-progress`.

use std::fs::File;
use std::io::IsTerminal;
use std::path::Path;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::config::Settings;

/// The progress bar; with `estimate`, its total is estimated from the file's line count (never
/// for a stream, which only the reader may read); `known_rows` is a spreadsheet's row count.
pub(crate) fn progress_bar(
    settings: &Settings,
    estimate: bool,
    known_rows: Option<u64>,
) -> ProgressBar {
    if !settings.progress || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    pb.set_style(
        ProgressStyle::with_template(
            "{spinner} {elapsed_precise} {human_pos} rows ({per_sec}) {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    pb.enable_steady_tick(Duration::from_millis(200));
    let with_total = |pb: &ProgressBar, rows: u64| {
        pb.set_length(rows.max(1));
        pb.set_style(
            ProgressStyle::with_template(
                "{bar:30} {human_pos}/{human_len} rows ({per_sec}, ETA {eta}) {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
    };
    if settings.input.format.is_sheet() {
        if let Some(rows) = known_rows {
            with_total(&pb, rows);
        }
        return pb;
    }
    // The total is estimated from the file's line count, counted aside so that the import
    // starts at once; until it is known the bar is a spinner.
    if estimate {
        let (pb2, path) = (pb.clone(), settings.input.path.clone());
        std::thread::spawn(move || {
            if let Ok(lines) = count_lines(&path) {
                with_total(&pb2, lines.saturating_sub(1));
            }
        });
    }
    pb
}

fn count_lines(path: &Path) -> std::io::Result<u64> {
    use std::io::Read;
    let mut f = File::open(path)?;
    let mut buf = vec![0u8; 1 << 20];
    let (mut n, mut last) = (0u64, b'\n');
    loop {
        let k = f.read(&mut buf)?;
        if k == 0 {
            break;
        }
        n += buf[..k].iter().filter(|&&b| b == b'\n').count() as u64;
        last = buf[k - 1];
    }
    Ok(n + u64::from(last != b'\n'))
}
