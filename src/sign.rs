//! Request signatures of both providers, as pure functions over the exact bytes sent.
//!
//! Invariant: the nxlink signature covers byte for byte the body that goes on the wire, so callers
//! serialise once, sign that buffer and send that buffer. Secrets enter as `&str` and never leave.

use md5::{Digest, Md5};
use sha2::Sha256;

/// Hash algorithm of an nxlink signature (`algorithm` header).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Algorithm {
    #[default]
    Md5,
    Sha256,
}

impl Algorithm {
    /// The value of the `algorithm` header.
    pub fn header_value(self) -> &'static str {
        match self {
            Algorithm::Md5 => "md5",
            Algorithm::Sha256 => "sha256",
        }
    }
}

/// nxlink `sign`: the four headers sorted by name as `name=value` joined with `&`, then
/// `&body=<exact body>` when there is a body, then `&accessSecret=<secret>`, hashed to lowercase hex.
pub(crate) fn nxlink_sign(
    access_key: &str,
    action: &str,
    biz_type: &str,
    ts: &str,
    body: &[u8],
    secret: &str,
    algorithm: Algorithm,
) -> String {
    // Header names in byte order: accessKey < action < bizType < ts.
    let mut parts: Vec<&[u8]> = vec![
        b"accessKey=",
        access_key.as_bytes(),
        b"&action=",
        action.as_bytes(),
        b"&bizType=",
        biz_type.as_bytes(),
        b"&ts=",
        ts.as_bytes(),
    ];
    if !body.is_empty() {
        parts.push(b"&body=");
        parts.push(body);
    }
    parts.push(b"&accessSecret=");
    parts.push(secret.as_bytes());
    match algorithm {
        Algorithm::Md5 => {
            let mut h = Md5::new();
            parts.iter().for_each(|p| h.update(p));
            hex::encode(h.finalize())
        }
        Algorithm::Sha256 => {
            let mut h = Sha256::new();
            parts.iter().for_each(|p| h.update(p));
            hex::encode(h.finalize())
        }
    }
}

/// itnio `Sign`: lowercase hex MD5 of `apiKey + apiSecret + timestamp`. The body is not signed.
pub(crate) fn itnio_sign(api_key: &str, api_secret: &str, timestamp: &str) -> String {
    let mut h = Md5::new();
    h.update(api_key.as_bytes());
    h.update(api_secret.as_bytes());
    h.update(timestamp.as_bytes());
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests;
