//! Files of the report directory, opened so that nothing planted there can turn them against
//! their owner: created new and private (0600) after removing whatever had the name, opened
//! without following symbolic links, and the directory synced after a name changes. The
//! report writers and the journal create and open their files here, `--resume` reads the
//! earlier reports through [`open_existing`], and the report directory and the state's
//! directory are made with [`create_dir_private`]. The lock file is the exception: it is
//! opened where it is taken (`report::outdir`), since a live run's lock must not be removed.

use std::fs::File;
use std::io;
use std::path::Path;

/// Create a new file only the owner can read (reports hold personal data). Whatever has that
/// name already (a crashed run's temporary file, or a planted link) is removed first, never
/// reused: removing a symbolic link removes the link, not what it points to; and the file is
/// then created exclusively, so a link put back meanwhile fails the creation instead of being
/// followed. The directory is synced so that the new name survives a power failure.
pub(crate) fn create_private(path: &Path) -> io::Result<File> {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC);
    }
    let f = o.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    if let Some(dir) = path.parent() {
        sync_dir(dir)?;
    }
    Ok(f)
}

/// Open an existing file of the report directory, for reading or for appending, without
/// following a symbolic link (one fails with an error).
pub(crate) fn open_existing(path: &Path, append: bool) -> io::Result<File> {
    let mut o = std::fs::OpenOptions::new();
    if append {
        o.append(true);
    } else {
        o.read(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC);
    }
    o.open(path)
}

/// Sync a directory, so that the names created or renamed in it survive a power failure.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// Create `dir` and its missing parents with mode 0700 (the report directory, the state's).
pub(crate) fn create_dir_private(dir: &Path) -> io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
}
