//! The report directory: created private (0700), locked for the duration of a run (a lock
//! left by a dead process is taken over), never silently reused, and read back for `--resume`.
//!
//! Invariant: two live runs never write the same report directory.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::path::Path;

use anyhow::anyhow;

use crate::config::Settings;
use crate::exit::{Fatal, UsageContext};
use crate::journal::{self, Journal, Previous};

/// The lock file's name.
pub const LOCK: &str = ".lock";

/// Create the report directory (0700), take its lock, and refuse to overwrite another run's
/// reports unless resuming.
pub fn lock_out_dir(out: &Path, s: &Settings) -> Result<File, Fatal> {
    create_dir_private(out).map_err(|e| {
        Fatal::usage(anyhow!(
            "cannot create report directory {}: {e}",
            out.display()
        ))
    })?;
    let path = out.join(LOCK);
    let previous_pid = std::fs::read_to_string(&path).ok();
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let f = options
        .open(&path)
        .map_err(|e| Fatal::usage(anyhow!("cannot create {}: {e}", path.display())))?;
    match f.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            return Err(Fatal::stopped(anyhow!(
                "report directory {} is in use by another live run{}; wait for it or choose another --out",
                out.display(),
                previous_pid.as_deref().map(|p| format!(" (pid {})", p.trim())).unwrap_or_default()
            )))
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(Fatal::stopped(anyhow!("cannot lock {}: {e}", path.display()))),
    }
    if let Some(pid) = previous_pid.filter(|p| !p.trim().is_empty()) {
        warn(
            s,
            &format!(
                "taking over the lock of {} left by process {}, which is gone",
                out.display(),
                pid.trim()
            ),
        );
    }
    f.set_len(0).ok();
    use std::io::Write;
    let _ = writeln!(&f, "{}", std::process::id());
    if !s.resume {
        let taken: Vec<&str> = [
            "journal.jsonl",
            "success.csv",
            "failed.csv",
            "failed.jsonl",
            "summary.json",
        ]
        .into_iter()
        .filter(|n| out.join(n).exists())
        .collect();
        if !taken.is_empty() {
            return Err(Fatal::usage(anyhow!(
                "report directory {} already holds a run's reports ({}); continue it with --resume or choose another --out",
                out.display(),
                taken.join(", ")
            )));
        }
    }
    Ok(f)
}

fn create_dir_private(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
}

pub type ResumeState = (HashMap<u64, Previous>, HashSet<u64>);

pub fn load_resume(out: &Path, s: &Settings, provider: &str) -> Result<ResumeState, Fatal> {
    let loaded = Journal::load(out).map_err(|e| {
        Fatal::usage(anyhow!(
            "--resume: {} holds no readable journal ({e}); nothing to resume",
            out.display()
        ))
    })?;
    let Some(h) = loaded.header else {
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
    let fp = journal::input_fingerprint(&s.input).usage()?;
    if fp != h.fingerprint {
        return Err(Fatal::usage(anyhow!(
            "--resume: {} is not the input of the run in {} (that was {}; the content differs)",
            s.input.path.display(),
            out.display(),
            h.input
        )));
    }
    Ok((loaded.done, loaded.in_flight))
}

fn warn(s: &Settings, msg: &str) {
    if !s.quiet {
        eprintln!("warning: {msg}");
    }
}
