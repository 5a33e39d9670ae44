//! `--metrics-file`: the last run's figures in the Prometheus text format (version 0.0.4), for
//! node_exporter's textfile collector, which alerting rules read ("no successful import for
//! 26 hours").
//!
//! Invariants: the file is replaced atomically (a temporary file in the same directory, then a
//! rename), so the collector never reads half a file; `custimport_last_success_timestamp_seconds`
//! is this run's time when it ended with exit 0, else the value the previous file held for the
//! same labels (0 when there was none: never succeeded).

use std::fmt::Write as _;
use std::io::{self, Write as _};
use std::path::Path;

/// The outcomes counted in `custimport_rows`, in the order written.
pub(crate) const OUTCOMES: [&str; 6] = [
    "succeeded",
    "rejected",
    "failed",
    "unknown",
    "pending",
    "unchanged",
];

/// What one run tells the metrics file.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RunMetrics<'a> {
    pub provider: &'a str,
    /// The `--profile` the run used, when profiles are given (a label when present).
    pub profile: Option<&'a str>,
    /// Rows per outcome, in the order of [`OUTCOMES`].
    pub rows: [u64; 6],
    pub requests: u64,
    pub retries: u64,
    pub duration_secs: f64,
    pub exit_code: i32,
    /// When the run ended, in seconds since the Unix epoch.
    pub ended: f64,
}

/// Escape a label value: backslash, double quote and line feed.
fn label_value(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl RunMetrics<'_> {
    /// The labels every sample carries, rendered (`provider="nxlink"`).
    fn labels(&self) -> String {
        let mut l = format!("provider=\"{}\"", label_value(self.provider));
        if let Some(p) = self.profile {
            let _ = write!(l, ",profile=\"{}\"", label_value(p));
        }
        l
    }

    /// The file's text. `last_success`: the time of the last run that ended with exit 0, when
    /// this one did not (from the previous file).
    pub(crate) fn render(&self, last_success: Option<f64>) -> String {
        let labels = self.labels();
        let mut out = String::new();
        let mut family = |name: &str, help: &str| {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} gauge");
        };
        family(
            "custimport_rows",
            "Rows of the last run by outcome (succeeded, rejected, failed, unknown, pending, unchanged).",
        );
        for (outcome, n) in OUTCOMES.iter().zip(self.rows) {
            let _ = writeln!(out, "custimport_rows{{{labels},outcome=\"{outcome}\"}} {n}");
        }
        let success = if self.exit_code == 0 {
            self.ended
        } else {
            last_success.unwrap_or(0.0)
        };
        let single: [(&str, &str, String); 6] = [
            (
                "custimport_requests_total",
                "Requests sent by the last run, retries included.",
                self.requests.to_string(),
            ),
            (
                "custimport_retries_total",
                "Requests of the last run that were retries.",
                self.retries.to_string(),
            ),
            (
                "custimport_run_duration_seconds",
                "How long the last run took.",
                seconds(self.duration_secs),
            ),
            (
                "custimport_last_run_timestamp_seconds",
                "When the last run ended (Unix time).",
                seconds(self.ended),
            ),
            (
                "custimport_last_run_exit_code",
                "The exit code of the last run (0: every row succeeded).",
                self.exit_code.to_string(),
            ),
            (
                "custimport_last_success_timestamp_seconds",
                "When the last run with exit code 0 ended (Unix time; 0: none yet).",
                seconds(success),
            ),
        ];
        for (name, help, value) in single {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} gauge");
            let _ = writeln!(out, "{name}{{{labels}}} {value}");
        }
        out
    }

    /// Write the file at `path` atomically, keeping the last success from the file it replaces.
    pub(crate) fn write(&self, path: &Path) -> io::Result<()> {
        let previous = std::fs::read_to_string(path).ok();
        let last = previous
            .as_deref()
            .and_then(|t| previous_success(t, &self.labels()));
        let text = self.render(last);
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let name = path
            .file_name()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?;
        let tmp = dir.join(format!(
            ".{}.{}.tmp",
            name.to_string_lossy(),
            std::process::id()
        ));
        let written = (|| {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written
    }
}

/// Seconds with millisecond precision, without trailing zeros (`12.5`, `1718000000`).
fn seconds(s: f64) -> String {
    let v = (s * 1000.0).round() / 1000.0;
    format!("{v}")
}

/// The last-success time a previous file holds for these labels.
fn previous_success(text: &str, labels: &str) -> Option<f64> {
    let prefix = format!("custimport_last_success_timestamp_seconds{{{labels}}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|v| v.is_finite() && *v >= 0.0)
}

#[cfg(test)]
mod tests;
