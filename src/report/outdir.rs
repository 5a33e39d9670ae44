//! The report directory: created private (0700), or, when it exists, used only if it is a
//! real directory of the user's own that nobody else may write; locked for the duration of a
//! run (a lock left by a dead process is taken over; the lock file is removed at every exit);
//! never silently reused (its earlier reports are read back for `--resume` by
//! `crate::resume`). [`ReportFile`] names the files it holds. How each file is created or
//! opened (new and private, never through a link) is `crate::private_file`'s.
//!
//! Invariants: two live runs never write the same report directory; nothing custimport writes
//! in it lands outside it; the content of a file it did not write is never printed.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::anyhow;

use crate::exit::Fatal;

/// The files of a report directory: the one place their names are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReportFile {
    /// `success.csv`: the rows the provider accepted.
    Success,
    /// `failed.csv`: every other row, with its cells, for a CSV or sheet input.
    Failed,
    /// `failed.jsonl`: every other row of a JSONL input.
    FailedJsonl,
    /// `failed.xlsx`: `failed.csv` as a workbook, for a workbook input.
    FailedXlsx,
    /// `summary.json`: the run's counts and how it ended.
    Summary,
    /// `unchanged.csv`: the rows `--skip-unchanged` did not send.
    Unchanged,
    /// `journal.jsonl`: what was sent and each row's outcome, for `--resume`.
    Journal,
    /// `.lock`: held while a run lives.
    Lock,
    /// `.success.csv.earlier`: where a resumed run keeps the earlier run's success lines until
    /// its own report holds them.
    Earlier,
}

impl ReportFile {
    /// The file's name in the report directory.
    pub(crate) const fn name(self) -> &'static str {
        match self {
            ReportFile::Success => "success.csv",
            ReportFile::Failed => "failed.csv",
            ReportFile::FailedJsonl => "failed.jsonl",
            ReportFile::FailedXlsx => "failed.xlsx",
            ReportFile::Summary => "summary.json",
            ReportFile::Unchanged => "unchanged.csv",
            ReportFile::Journal => "journal.jsonl",
            ReportFile::Lock => ".lock",
            ReportFile::Earlier => ".success.csv.earlier",
        }
    }

    /// The temporary name of the file while it is written (`.success.csv.part`).
    pub(crate) fn part_name(self) -> String {
        format!(".{}.part", self.name())
    }
}

impl std::fmt::Display for ReportFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The files a run leaves in its report directory.
pub(crate) const REPORTS: [ReportFile; 5] = [
    ReportFile::Journal,
    ReportFile::Success,
    ReportFile::Failed,
    ReportFile::FailedJsonl,
    ReportFile::Summary,
];

/// The lock of a report directory, held while the run lives. Dropping it (at any return, or
/// while a panic unwinds) removes the lock file, then releases the lock.
#[derive(Debug)]
pub(crate) struct DirLock {
    file: File,
    path: PathBuf,
}

impl Drop for DirLock {
    fn drop(&mut self) {
        // Only the file this run locked: if the name was replaced meanwhile, it is not ours.
        if same_file(&self.file, &self.path) {
            let _ = std::fs::remove_file(&self.path);
        }
        if let Ok(mut held) = HELD.lock() {
            *held = None;
        }
    }
}

/// The lock held by this process and its directory, for an exit that does not unwind (a
/// second signal) and for the panic message.
static HELD: Mutex<Option<(PathBuf, PathBuf)>> = Mutex::new(None);

/// The report directory of the run in progress, if its lock is held.
pub(crate) fn active_dir() -> Option<PathBuf> {
    HELD.try_lock().ok()?.as_ref().map(|(dir, _)| dir.clone())
}

/// Remove the lock file of the run in progress, for an exit that skips destructors.
pub(crate) fn remove_lock_now() {
    if let Ok(held) = HELD.try_lock() {
        if let Some((_, path)) = held.as_ref() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Create or check the report directory, take its lock, and refuse to overwrite another run's
/// reports unless resuming (a dry run only reads).
pub(crate) fn lock_out_dir(out: &Path, resume: bool, dry_run: bool) -> Result<DirLock, Fatal> {
    prepare_dir(out)?;
    check_entries(out)?;
    let lock = take_lock(out)?;
    if !resume {
        let taken: Vec<&str> = REPORTS
            .into_iter()
            .map(ReportFile::name)
            .filter(|n| std::fs::symlink_metadata(out.join(n)).is_ok())
            .collect();
        if !taken.is_empty() {
            return Err(Fatal::usage(anyhow!(
                "report directory {} already holds a run's reports ({}); continue it with --resume or choose another --out",
                out.display(),
                taken.join(", ")
            )));
        }
        if !dry_run {
            // Success lines a resumed run kept of a run whose journal is gone: not this run's.
            let _ = std::fs::remove_file(out.join(ReportFile::Earlier.name()));
        }
    }
    Ok(lock)
}

/// An existing `--out` must be a real directory (not a symbolic link), of this user, that
/// group and others cannot write; a missing one is created (0700).
fn prepare_dir(out: &Path) -> Result<(), Fatal> {
    // `dir/` would make the system follow a link named `dir`: check the name itself.
    let name: PathBuf = out.components().collect();
    match std::fs::symlink_metadata(&name) {
        Ok(m) => check_dir(out, &m),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            crate::private_file::create_dir_private(&name).map_err(|e| {
                Fatal::usage(anyhow!(
                    "cannot create report directory {}: {e}",
                    out.display()
                ))
            })?;
            let m = std::fs::symlink_metadata(&name).map_err(|e| {
                Fatal::usage(anyhow!(
                    "cannot use report directory {}: {e}",
                    out.display()
                ))
            })?;
            check_dir(out, &m)
        }
        Err(e) => Err(Fatal::usage(anyhow!(
            "cannot use report directory {}: {e}",
            out.display()
        ))),
    }
}

#[cfg(unix)]
fn check_dir(out: &Path, m: &std::fs::Metadata) -> Result<(), Fatal> {
    use std::os::unix::fs::MetadataExt;
    let refuse = |why: String| Err(Fatal::usage(anyhow!("--out {}: {why}", out.display())));
    if m.file_type().is_symlink() {
        return refuse(
            "is a symbolic link; give the real directory (a link could send the reports elsewhere)"
                .into(),
        );
    }
    if m.is_file() {
        return refuse("is a file, not a directory; choose another --out".into());
    }
    if !m.is_dir() {
        return refuse("is not a directory; choose another --out".into());
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if m.uid() != me {
        return refuse(format!(
            "belongs to another user (uid {}), who could read or replace the reports; use a directory of your own",
            m.uid()
        ));
    }
    if m.mode() & 0o022 != 0 {
        return refuse(format!(
            "is writable by {} (mode {:o}), who could plant files in it; run `chmod go-w {}` or choose another --out",
            match (m.mode() & 0o020 != 0, m.mode() & 0o002 != 0) {
                (true, true) => "group and others",
                (true, false) => "its group",
                _ => "others",
            },
            m.mode() & 0o7777,
            out.display()
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_dir(out: &Path, m: &std::fs::Metadata) -> Result<(), Fatal> {
    if m.is_dir() && !m.file_type().is_symlink() {
        Ok(())
    } else {
        Err(Fatal::usage(anyhow!(
            "--out {}: is not a directory; choose another --out",
            out.display()
        )))
    }
}

/// The reports and the journal of an earlier run must be plain files with no other name:
/// anything else (a symbolic link above all, or a hard link to another file) is refused, and
/// never followed.
fn check_entries(out: &Path) -> Result<(), Fatal> {
    for file in REPORTS {
        let path = out.join(file.name());
        let Ok(m) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        let what = if m.file_type().is_symlink() {
            "a symbolic link"
        } else if !m.is_file() {
            "not a regular file"
        } else if links(&m) > 1 {
            "a hard link to another file"
        } else {
            continue;
        };
        return Err(Fatal::usage(anyhow!(
            "{} is {what}, not a file custimport wrote; remove it (what it points to is left alone) or choose another --out",
            path.display(),
        )));
    }
    Ok(())
}

/// How many names a file has.
#[cfg(unix)]
fn links(m: &std::fs::Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::nlink(m)
}

#[cfg(not(unix))]
fn links(_m: &std::fs::Metadata) -> u64 {
    1
}

/// Take the directory's lock: `.lock`, opened without following a link, locked, and checked to
/// still be the file of that name (a run that ends removes it).
fn take_lock(out: &Path) -> Result<DirLock, Fatal> {
    let path = out.join(ReportFile::Lock.name());
    for _ in 0..8 {
        let Some(f) = open_lock_file(&path)? else {
            continue;
        };
        lock_or_refuse(&f, out, &path)?;
        if !same_file(&f, &path) {
            // The run that held it ended and removed it meanwhile: lock the new one.
            continue;
        }
        return Ok(hold(f, out, path));
    }
    Err(Fatal::stopped(anyhow!(
        "cannot take the lock of {}: it keeps changing; is another run starting there?",
        out.display()
    )))
}

/// Open the lock file, a regular file of one name. `None`: what had the name was a link
/// (symbolic, or a hard link to another file) and was removed (never followed); try again.
fn open_lock_file(path: &Path) -> Result<Option<File>, Fatal> {
    let f = match open_lock(path) {
        Ok(f) => f,
        Err(e) if is_link(path) => {
            // A link is no lock of ours: remove the link (never what it points to).
            std::fs::remove_file(path)
                .map_err(|_| Fatal::usage(anyhow!("cannot create {}: {e}", path.display())))?;
            crate::messages::warn(format_args!(
                "removed {}: it was a symbolic link, not a lock (not followed)",
                path.display()
            ));
            return Ok(None);
        }
        Err(e) => {
            return Err(Fatal::usage(anyhow!(
                "cannot create {}: {e}",
                path.display()
            )))
        }
    };
    let meta = f
        .metadata()
        .map_err(|e| Fatal::usage(anyhow!("cannot use {}: {e}", path.display())))?;
    if !meta.is_file() {
        return Err(Fatal::usage(anyhow!(
            "{} is not a regular file; remove it",
            path.display()
        )));
    }
    if links(&meta) > 1 {
        // Another name for some other file: writing the process id would overwrite it.
        // Removing this name leaves that file alone.
        drop(f);
        std::fs::remove_file(path)
            .map_err(|e| Fatal::usage(anyhow!("cannot remove {}: {e}", path.display())))?;
        crate::messages::warn(format_args!(
            "removed {}: it was a hard link to another file, not a lock",
            path.display()
        ));
        return Ok(None);
    }
    Ok(Some(f))
}

/// Lock the open lock file, or refuse: another live run holds it (exit 3).
fn lock_or_refuse(f: &File, out: &Path, path: &Path) -> Result<(), Fatal> {
    match f.try_lock() {
        Ok(()) => Ok(()),
        Err(std::fs::TryLockError::WouldBlock) => Err(Fatal::stopped(anyhow!(
            "report directory {} is in use by another live run{}; wait for it or choose another --out",
            out.display(),
            read_pid(f).map(|p| format!(" (pid {p})")).unwrap_or_default()
        ))),
        Err(std::fs::TryLockError::Error(e)) => Err(Fatal::stopped(anyhow!(
            "cannot lock {}: {e}",
            path.display()
        ))),
    }
}

/// The lock is ours: note it for exits that skip destructors, say whose lock it takes over,
/// and write this process's id in it.
fn hold(f: File, out: &Path, path: PathBuf) -> DirLock {
    let previous = read_pid(&f);
    let lock = DirLock { file: f, path };
    if let Ok(mut held) = HELD.lock() {
        *held = Some((out.to_path_buf(), lock.path.clone()));
    }
    match previous {
        Some(pid) => crate::messages::warn(format_args!(
            "taking over the lock of {} left by process {pid}, which is gone",
            out.display()
        )),
        None if lock.file.metadata().is_ok_and(|m| m.len() > 0) => {
            crate::messages::warn(format_args!(
                "taking over the lock of {} left by a process that is gone",
                out.display()
            ))
        }
        None => {}
    }
    // The process id is for people and for the message above; the lock itself is the
    // file lock, so a full disk here is told later, by the journal.
    let _ = lock
        .file
        .set_len(0)
        .and_then(|()| writeln!(&lock.file, "{}", std::process::id()));
    lock
}

fn open_lock(path: &Path) -> io::Result<File> {
    let mut o = std::fs::OpenOptions::new();
    o.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK);
    }
    o.open(path)
}

/// A lock file's process id: ASCII digits only (a newline may follow), else nothing. The
/// content itself is never printed.
fn read_pid(mut f: &File) -> Option<u32> {
    let mut buf = [0u8; 16];
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(_) => return None,
        }
    }
    let text = buf[..n].strip_suffix(b"\n").unwrap_or(&buf[..n]);
    if text.is_empty() || text.len() > 10 || !text.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(text).ok()?.parse().ok()
}

fn is_link(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// Whether `path` (not followed) is the file `f` has open.
#[cfg(unix)]
fn same_file(f: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (f.metadata(), std::fs::symlink_metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_f: &File, path: &Path) -> bool {
    path.is_file()
}

#[cfg(test)]
mod tests;
