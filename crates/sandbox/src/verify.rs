//! The sandbox's own signature rules, written from the providers' documentation
//! (`providers.md`), apart from the importer's signing code: a signing bug on one side shows up
//! as a refused signature instead of passing on both.
//!
//! nxlink: the headers `accessKey`, `action`, `bizType`, `ts` sorted by name as `name=value`
//! joined with `&`, then `&body=` and the exact body when there is one, then
//! `&accessSecret=SECRET`; lowercase hex MD5 (or SHA-256 with `algorithm: sha256`).
//! itnio: lowercase hex MD5 of `apiKey + apiSecret + timestamp`.
//!
//! Invariant: the string that is hashed is built from the headers as received, never
//! re-encoded, and the body enters as the raw bytes of the request.

use md5::{Digest, Md5};
use sha2::Sha256;

/// The hash of an nxlink signature, from the `algorithm` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hash {
    Md5,
    Sha256,
}

impl Hash {
    /// The hash named by an `algorithm` header value (absent: MD5); `None` for any other name.
    pub(crate) fn from_header(value: Option<&str>) -> Option<Hash> {
        match value {
            None => Some(Hash::Md5),
            Some(v) if v.eq_ignore_ascii_case("md5") => Some(Hash::Md5),
            Some(v) if v.eq_ignore_ascii_case("sha256") => Some(Hash::Sha256),
            Some(_) => None,
        }
    }
}

/// The nxlink `sign` of a request with these four signed headers (in any order), this body and
/// this secret.
pub(crate) fn nxlink_sign(
    headers: [(&str, &str); 4],
    body: &[u8],
    secret: &str,
    hash: Hash,
) -> String {
    let mut sorted = headers;
    sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut text: Vec<u8> = Vec::with_capacity(body.len() + 128);
    for (i, (name, value)) in sorted.iter().enumerate() {
        if i > 0 {
            text.push(b'&');
        }
        text.extend_from_slice(name.as_bytes());
        text.push(b'=');
        text.extend_from_slice(value.as_bytes());
    }
    if !body.is_empty() {
        text.extend_from_slice(b"&body=");
        text.extend_from_slice(body);
    }
    text.extend_from_slice(b"&accessSecret=");
    text.extend_from_slice(secret.as_bytes());
    match hash {
        Hash::Md5 => hex::encode(Md5::digest(&text)),
        Hash::Sha256 => hex::encode(Sha256::digest(&text)),
    }
}

/// The itnio `Sign` for an api key, its secret and a `Timestamp` header value.
pub(crate) fn itnio_sign(api_key: &str, api_secret: &str, timestamp: &str) -> String {
    let text = format!("{api_key}{api_secret}{timestamp}");
    hex::encode(Md5::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests;
