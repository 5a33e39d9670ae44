//! The state database's file, checked before SQLite opens it, as the report directory is
//! (`crate::report::outdir`): never a symbolic link (dangling or not), only a regular file of the
//! user's own that group and others cannot write, in a directory that only its owner (the
//! user or root) can write, so that nobody else decides which rows are skipped or plants the
//! `-wal` and `-shm` files SQLite opens beside it. A missing one is created 0600 (exclusively,
//! without following a link) in a directory created 0700; an existing one readable by group
//! or others is made 0600 with a note, since it holds phone numbers and e-mail addresses.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use super::StateError;

/// Check the state at `path` (and the files SQLite keeps beside it) and its directory;
/// with `create`, create a missing one (and its directory). Returns whether the file exists.
pub(super) fn prepare(path: &Path, create: bool) -> Result<bool, StateError> {
    // `state.db/` would make the system follow a link named `state.db`: check the name itself.
    let name: PathBuf = path.components().collect();
    let dir = match name.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    match std::fs::metadata(&dir) {
        Ok(m) => check_dir(path, &dir, &m)?,
        Err(e) if e.kind() == io::ErrorKind::NotFound && !create => return Ok(false),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            crate::private_file::create_dir_private(&dir).map_err(|e| {
                refused(
                    path,
                    format!("cannot create its directory {}: {e}", dir.display()),
                )
            })?
        }
        Err(e) => return Err(refused(path, format!("cannot use its directory: {e}"))),
    }
    let exists = match std::fs::symlink_metadata(&name) {
        Ok(_) => true,
        Err(e) if e.kind() == io::ErrorKind::NotFound => false,
        Err(e) => return Err(io_err(path, e)),
    };
    if exists {
        check_file(path, &name, true)?;
    } else if create {
        match create_private(&name) {
            Ok(_) => {}
            // Another run created it meanwhile: check it like any existing state.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => check_file(path, &name, true)?,
            Err(e) => return Err(io_err(path, e)),
        }
    } else {
        return Ok(false);
    }
    for suffix in ["-wal", "-shm"] {
        let mut side = name.clone().into_os_string();
        side.push(suffix);
        let side = PathBuf::from(side);
        if std::fs::symlink_metadata(&side).is_ok() {
            check_file(path, &side, false)?;
        }
    }
    Ok(true)
}

fn refused(path: &Path, why: String) -> StateError {
    StateError::Refused {
        path: path.display().to_string(),
        why,
    }
}

fn io_err(path: &Path, source: io::Error) -> StateError {
    StateError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// A new, empty, private state file: created exclusively, never through a link.
fn create_private(name: &Path) -> io::Result<File> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC);
    }
    o.open(name)
}

#[cfg(unix)]
fn check_dir(path: &Path, dir: &Path, m: &std::fs::Metadata) -> Result<(), StateError> {
    use std::os::unix::fs::MetadataExt;
    if !m.is_dir() {
        return Err(refused(
            path,
            format!("{} is not a directory", dir.display()),
        ));
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if m.uid() != me && m.uid() != 0 {
        return Err(refused(
            path,
            format!(
                "its directory {} belongs to another user (uid {}), who could replace the database; keep the state in a directory of your own",
                dir.display(),
                m.uid()
            ),
        ));
    }
    if m.mode() & 0o022 != 0 {
        // A shared directory (`/tmp`) is not to be changed: only one of the user's own.
        let fix = if m.uid() == me && m.mode() & 0o1000 == 0 {
            format!(
                "run `chmod go-w {}` or keep the state elsewhere",
                dir.display()
            )
        } else {
            "keep the state in a directory of your own (the default is ~/.local/state/custimport)"
                .to_owned()
        };
        return Err(refused(
            path,
            format!(
                "its directory {} is writable by {} (mode {:o}), who could plant files beside the database; {fix}",
                dir.display(),
                writers(m.mode()),
                m.mode() & 0o7777,
            ),
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_dir(path: &Path, dir: &Path, m: &std::fs::Metadata) -> Result<(), StateError> {
    if m.is_dir() {
        Ok(())
    } else {
        Err(refused(
            path,
            format!("{} is not a directory", dir.display()),
        ))
    }
}

#[cfg(unix)]
fn writers(mode: u32) -> &'static str {
    match (mode & 0o020 != 0, mode & 0o002 != 0) {
        (true, true) => "group and others",
        (true, false) => "its group",
        _ => "others",
    }
}

/// The database (`main`) or one of SQLite's files beside it: a regular file, not a link, of
/// the user's own, that group and others cannot write; made 0600 when others could read it.
///
/// Looked at with `lstat` only, never opened: SQLite's locks are POSIX locks, which a process
/// loses on a file as soon as it closes any descriptor of that file, so opening and closing the
/// database or its `-shm` here while a connection of this run holds them would let another run
/// reset the shared memory under it (and crash it with SIGBUS). SQLite itself then opens the
/// database without following a link.
#[cfg(unix)]
fn check_file(path: &Path, name: &Path, main: bool) -> Result<(), StateError> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let which = if main {
        String::new()
    } else {
        format!("{}: ", name.display())
    };
    let m = std::fs::symlink_metadata(name).map_err(|e| io_err(path, e))?;
    if m.file_type().is_symlink() {
        return Err(refused(
            path,
            format!("{which}is a symbolic link; give the real file (a link could put the database, and the phone numbers in it, elsewhere)"),
        ));
    }
    if !m.is_file() {
        return Err(refused(
            path,
            format!(
                "{which}is {}, not a regular file; give the path of a state database file (or of one to create)",
                kind(&m)
            ),
        ));
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if m.uid() != me {
        return Err(refused(
            path,
            format!(
                "{which}belongs to another user (uid {}), who could decide which rows are skipped; use a state of your own",
                m.uid()
            ),
        ));
    }
    let mode = m.mode() & 0o7777;
    if mode & 0o022 != 0 {
        return Err(refused(
            path,
            format!(
                "{which}is writable by {} (mode {mode:o}), who could decide which rows are skipped; run `chmod 600 {}` or use another --state",
                writers(mode),
                name.display()
            ),
        ));
    }
    if mode & 0o044 != 0 {
        std::fs::set_permissions(name, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| io_err(path, e))?;
        crate::messages::note(format_args!(
            "custimport: {} was readable by {} (mode {mode:o}); it holds phone numbers: made it 0600",
            name.display(),
            match (mode & 0o040 != 0, mode & 0o004 != 0) {
                (true, true) => "group and others",
                (true, false) => "its group",
                _ => "others",
            }
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_file(path: &Path, name: &Path, main: bool) -> Result<(), StateError> {
    let _ = main;
    let lm = std::fs::symlink_metadata(name).map_err(|e| io_err(path, e))?;
    if lm.file_type().is_symlink() || !lm.is_file() {
        return Err(refused(path, "is not a regular file".into()));
    }
    Ok(())
}

#[cfg(unix)]
fn kind(m: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = m.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_block_device() || t.is_char_device() {
        "a device"
    } else {
        "a special file"
    }
}
