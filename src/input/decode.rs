//! Turning the input's bytes into text: BOM detection, strict decoding of
//! single fields or lines, transcoding whole streams to UTF-8, and guessing a better encoding
//! when the header does not decode.
//!
//! Invariant: decoding is strict. Bytes that do not decode are never silently replaced: strict
//! decoding returns the lossy text only as an error value, and the streaming
//! [`Utf8Transcoder`] writes the byte 0xFF (which never occurs in UTF-8) wherever a malformed
//! sequence was, so that the strict UTF-8 check of the field or line holding it fails and the
//! record is marked `invalid_encoding` instead of carrying a U+FFFD as if it were data.

use std::borrow::Cow;
use std::io::{self, Cursor, Read};

use encoding_rs::{DecoderResult, Encoding, UTF_16BE, UTF_16LE, UTF_8};

/// A byte that never occurs in UTF-8; [`Utf8Transcoder`] writes it for each malformed sequence.
pub(super) const MALFORMED: u8 = 0xFF;

/// Strict decoder of complete pieces of text (a field, a line) in one encoding.
#[derive(Debug, Clone, Copy)]
pub struct Decoder {
    encoding: &'static Encoding,
}

impl Decoder {
    pub fn new(encoding: &'static Encoding) -> Decoder {
        Decoder { encoding }
    }

    pub fn encoding(&self) -> &'static Encoding {
        self.encoding
    }

    /// Decodes `bytes` (no BOM handling). `Err` carries a lossy decoding (with U+FFFD) when
    /// some bytes are not valid in the encoding.
    pub fn decode<'a>(&self, bytes: &'a [u8]) -> Result<Cow<'a, str>, String> {
        if self.encoding == UTF_8 {
            return match std::str::from_utf8(bytes) {
                Ok(s) => Ok(Cow::Borrowed(s)),
                Err(_) => Err(String::from_utf8_lossy(bytes).into_owned()),
            };
        }
        match self
            .encoding
            .decode_without_bom_handling_and_without_replacement(bytes)
        {
            Some(text) => Ok(text),
            None => Err(self
                .encoding
                .decode_without_bom_handling(bytes)
                .0
                .into_owned()),
        }
    }

    /// Decodes `bytes`, replacing what does not decode.
    pub fn decode_lossy<'a>(&self, bytes: &'a [u8]) -> Cow<'a, str> {
        self.decode(bytes).unwrap_or_else(Cow::Owned)
    }
}

/// A `--encoding` value to suggest for `bytes` that failed to decode as `failed`, if any:
/// `utf-8` when they are UTF-8, else chardetng's guess (GB18030 named `gbk`, the name users
/// know), unless that is the encoding that failed.
pub(super) fn suggest_encoding(bytes: &[u8], failed: &'static Encoding) -> Option<String> {
    if std::str::from_utf8(bytes).is_ok() {
        return (failed != UTF_8).then(|| "utf-8".to_string());
    }
    let guess = super::sniff::guess(bytes, true);
    let same = guess == failed
        || (guess == encoding_rs::GB18030 && failed == encoding_rs::GBK)
        || (guess == encoding_rs::GBK && failed == encoding_rs::GB18030);
    (!same).then(|| super::sniff::encoding_label(guess))
}

/// Lower-case encoding name for messages (`gbk`, `utf-8`, `utf-16le`).
pub(super) fn label(encoding: &'static Encoding) -> String {
    encoding.name().to_ascii_lowercase()
}

/// Strips a BOM and settles the encoding: a UTF-8 or UTF-16 BOM wins over `requested`, which
/// defaults to UTF-8. Returns the reader positioned after the BOM.
pub(super) fn strip_bom(
    mut reader: Box<dyn Read + Send>,
    requested: Option<&'static Encoding>,
) -> io::Result<(Box<dyn Read + Send>, &'static Encoding)> {
    let mut head = [0u8; 3];
    let n = super::source::read_up_to(&mut reader, &mut head)?;
    let head = &head[..n];
    let (encoding, bom_len) = if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
        (UTF_8, 3)
    } else if head.starts_with(&[0xFF, 0xFE]) {
        (UTF_16LE, 2)
    } else if head.starts_with(&[0xFE, 0xFF]) {
        (UTF_16BE, 2)
    } else {
        (requested.unwrap_or(UTF_8), 0)
    };
    let rest = Cursor::new(head[bom_len..].to_vec());
    Ok((Box::new(rest.chain(reader)), encoding))
}

/// A `Read` adapter that transcodes a byte stream from some encoding to UTF-8, writing
/// [`MALFORMED`] (0xFF) instead of U+FFFD for each malformed sequence.
pub(super) struct Utf8Transcoder<R> {
    inner: R,
    decoder: encoding_rs::Decoder,
    input: Box<[u8]>,
    in_start: usize,
    in_end: usize,
    output: Box<[u8]>,
    out_start: usize,
    out_end: usize,
    eof: bool,
    finished: bool,
}

impl<R: Read> Utf8Transcoder<R> {
    pub(super) fn new(inner: R, encoding: &'static Encoding) -> Self {
        Utf8Transcoder {
            inner,
            decoder: encoding.new_decoder_without_bom_handling(),
            input: vec![0; 8192].into_boxed_slice(),
            in_start: 0,
            in_end: 0,
            output: vec![0; 16384].into_boxed_slice(),
            out_start: 0,
            out_end: 0,
            eof: false,
            finished: false,
        }
    }
}

impl<R: Read> Read for Utf8Transcoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.out_start < self.out_end {
                let n = buf.len().min(self.out_end - self.out_start);
                buf[..n].copy_from_slice(&self.output[self.out_start..self.out_start + n]);
                self.out_start += n;
                return Ok(n);
            }
            if self.finished || buf.is_empty() {
                return Ok(0);
            }
            if self.in_start == self.in_end && !self.eof {
                match self.inner.read(&mut self.input) {
                    Ok(0) => self.eof = true,
                    Ok(n) => {
                        self.in_start = 0;
                        self.in_end = n;
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                }
            }
            // Keep one byte free for the MALFORMED marker.
            let room = self.output.len() - 1;
            let (result, read, written) = self.decoder.decode_to_utf8_without_replacement(
                &self.input[self.in_start..self.in_end],
                &mut self.output[..room],
                self.eof,
            );
            self.in_start += read;
            self.out_start = 0;
            self.out_end = written;
            match result {
                DecoderResult::InputEmpty => self.finished = self.eof,
                DecoderResult::OutputFull => {}
                DecoderResult::Malformed(_, _) => {
                    self.output[written] = MALFORMED;
                    self.out_end = written + 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
