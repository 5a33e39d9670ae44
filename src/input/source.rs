//! Where the input's bytes come from: a regular file or a stream (standard input, a FIFO, a
//! character device such as `/dev/null`, process substitution `<(zcat f.gz)`), and what can be
//! known of each. A file has a size when opened and an [`Identity`] (its length and a BLAKE3 hash
//! of every byte), which ties a resumed run to exactly the input of the run it continues; its
//! bytes are also counted and hashed as they are read, so that a file that shrank, grew or
//! changed while it was read is noticed. A stream is read once, front to back, and nothing is
//! read from it but the records: no line count, no identity, no `--resume`.
//!
//! Invariant: a stream is never read by anything but the record reader, and a file's identity
//! is computed from the opened file itself (not from its path again), so renaming another file
//! into place after the start cannot pass for the input.

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::sync::{Arc, OnceLock};

use super::InputError;

/// The length of a file and the BLAKE3 hash of all its bytes. Written `blake3:<len>:<hex>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub len: u64,
    pub hash: [u8; 32],
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "blake3:{}:{}", self.len, hex::encode(self.hash))
    }
}

impl Identity {
    /// Reads the form written by `Display`.
    pub fn parse(text: &str) -> Option<Identity> {
        let mut parts = text.splitn(3, ':');
        if parts.next()? != "blake3" {
            return None;
        }
        let len = parts.next()?.parse().ok()?;
        let hash = hex::decode(parts.next()?).ok()?.try_into().ok()?;
        Some(Identity { len, hash })
    }
}

/// The name used for the input in messages (`standard input` for `-`).
pub fn display_name(path: &Path) -> String {
    if path.as_os_str() == "-" {
        "standard input".to_string()
    } else {
        path.display().to_string()
    }
}

/// Why a path cannot be opened as input, in words (`no such file`, `is a directory`, ...).
fn open_failure(path: &Path, e: &io::Error) -> InputError {
    let name = display_name(path);
    let why = match e.kind() {
        io::ErrorKind::NotFound => "no such file (check the path)".to_string(),
        io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        io::ErrorKind::IsADirectory => "is a directory, not a file".to_string(),
        _ => format!("cannot open: {e}"),
    };
    InputError::Named(format!("{name}: {why}"))
}

fn is_a_directory(path: &Path) -> InputError {
    InputError::Named(format!(
        "{}: is a directory, not a file",
        display_name(path)
    ))
}

/// Checks, without opening it, that `path` can be an input: it exists and is not a directory.
/// A FIFO, a character device or `/dev/stdin` passes (it is read as a stream). `-` always
/// passes.
pub fn check_path(path: &Path) -> Result<(), InputError> {
    if path.as_os_str() == "-" {
        return Ok(());
    }
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => Err(is_a_directory(path)),
        Ok(_) => Ok(()),
        Err(e) => Err(open_failure(path, &e)),
    }
}

/// Whether `path` is read as a stream (`-`, or anything but a regular file), found without
/// opening it (opening a FIFO waits for a writer).
pub fn is_stream_path(path: &Path) -> bool {
    path.as_os_str() == "-" || std::fs::metadata(path).is_ok_and(|m| !m.is_file())
}

/// What the reader got from a regular file, known once it read the end.
type Totals = OnceLock<Identity>;

/// A `Read` adapter over a regular file that counts and hashes what was read, and publishes
/// the total when the end is read.
struct Tally<R> {
    inner: R,
    hasher: blake3::Hasher,
    len: u64,
    totals: Arc<Totals>,
}

impl<R: Read> Read for Tally<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        match buf.get(..n) {
            Some(read) if n > 0 => {
                self.hasher.update(read);
                self.len = self.len.saturating_add(read.len() as u64);
            }
            _ if !buf.is_empty() => {
                let (len, hasher) = (self.len, &self.hasher);
                self.totals.get_or_init(|| Identity {
                    len,
                    hash: *hasher.finalize().as_bytes(),
                });
            }
            _ => {}
        }
        Ok(n)
    }
}

/// What is known of where the input comes from: a regular file, or (the default) a stream.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    file: Option<FileOrigin>,
}

/// A regular file: a handle on it (to hash it whole without moving the reader), its size when
/// opened, and the tally of what the reader got from it.
#[derive(Debug, Clone)]
struct FileOrigin {
    file: Arc<File>,
    size_at_open: u64,
    totals: Arc<Totals>,
}

/// The opened input: its bytes and its origin.
pub(super) struct Source {
    pub reader: Box<dyn Read + Send>,
    pub origin: Origin,
}

/// Opens the input: standard input for `-` (always a stream), otherwise the path, which is a
/// file when it names a regular file and a stream otherwise.
pub(super) fn open(path: &Path) -> Result<Source, InputError> {
    if path.as_os_str() == "-" {
        return Ok(Source {
            reader: Box::new(io::stdin()),
            origin: Origin::default(),
        });
    }
    let file = File::open(path).map_err(|e| open_failure(path, &e))?;
    let meta = file.metadata().map_err(|e| open_failure(path, &e))?;
    if meta.is_dir() {
        return Err(is_a_directory(path));
    }
    if !meta.is_file() {
        return Ok(Source {
            reader: Box::new(file),
            origin: Origin::default(),
        });
    }
    let handle = file.try_clone().map_err(|e| open_failure(path, &e))?;
    let totals = Arc::new(Totals::default());
    Ok(Source {
        reader: Box::new(Tally {
            inner: file,
            hasher: blake3::Hasher::new(),
            len: 0,
            totals: Arc::clone(&totals),
        }),
        origin: Origin {
            file: Some(FileOrigin {
                file: Arc::new(handle),
                size_at_open: meta.len(),
                totals,
            }),
        },
    })
}

impl Origin {
    pub fn is_stream(&self) -> bool {
        self.file.is_none()
    }

    /// The file's identity, hashed from its first byte to its end now (one pass; the reader's
    /// position is not moved). `None` for a stream.
    pub fn identity(&self) -> io::Result<Option<Identity>> {
        match &self.file {
            Some(f) => hash_whole(&f.file).map(Some),
            None => Ok(None),
        }
    }

    /// How many lines the file holds (newlines, plus a last line without one), counted from
    /// its start without moving the reader; `None` for a stream or when it cannot be read.
    /// An estimate of the records to come, for sizing what grows with them.
    pub fn line_count(&self) -> Option<u64> {
        let f = self.file.as_ref()?;
        count_lines(&f.file).ok()
    }

    /// After the reader has read to the end: how the file differs from `expected` (or, without
    /// it, from its size when opened), in words such as `shrank while it was read (...)`.
    /// `None` when it does not, for a stream, and when the reader stopped before the end.
    pub fn changed_while_read(&self, expected: Option<&Identity>) -> Option<String> {
        let f = self.file.as_ref()?;
        let read = f.totals.get()?;
        let (was, same) = match expected {
            Some(id) => (id.len, id == read),
            None => (f.size_at_open, read.len == f.size_at_open),
        };
        if same {
            return None;
        }
        let now = read.len;
        Some(if now < was {
            format!("shrank while it was read: it had {was} bytes when the run started, {now} could be read; the records past that point were never read")
        } else if now > was {
            format!("grew while it was read: it had {was} bytes when the run started, {now} were read; the records added were imported but the journal does not describe them")
        } else {
            format!("changed while it was read: same size ({now} bytes), different content; records may come from either version")
        })
    }
}

/// Read a file from its first byte to its end in 1 MiB chunks, without moving its position
/// (positioned reads), handing each chunk to `each`. Returns the bytes read.
fn each_chunk(file: &File, mut each: impl FnMut(&[u8])) -> io::Result<u64> {
    #[cfg(unix)]
    use std::os::unix::fs::FileExt;
    #[cfg(not(unix))]
    use std::os::windows::fs::FileExt;
    let mut buf = vec![0u8; 256 << 10];
    let mut at = 0u64;
    loop {
        #[cfg(unix)]
        let got = file.read_at(&mut buf, at);
        #[cfg(not(unix))]
        let got = file.seek_read(&mut buf, at);
        match got {
            Ok(0) => return Ok(at),
            Ok(n) => {
                each(buf.get(..n).unwrap_or_default());
                at = at.saturating_add(n as u64);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

fn hash_whole(file: &File) -> io::Result<Identity> {
    let mut hasher = blake3::Hasher::new();
    let len = each_chunk(file, |chunk| {
        hasher.update(chunk);
    })?;
    Ok(Identity {
        len,
        hash: *hasher.finalize().as_bytes(),
    })
}

fn count_lines(file: &File) -> io::Result<u64> {
    let (mut lines, mut last) = (0u64, b'\n');
    each_chunk(file, |chunk| {
        lines += memchr::memchr_iter(b'\n', chunk).count() as u64;
        last = chunk.last().copied().unwrap_or(last);
    })?;
    Ok(lines + u64::from(last != b'\n'))
}

/// Reads until `buf` is full or the end of input; returns how many bytes were read.
pub(super) fn read_up_to(reader: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests;
