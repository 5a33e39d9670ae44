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
mod tests {
    use super::*;

    const AK: &str = "fme2na3kdi3ki";
    const TS: &str = "1655710885431";
    const SECRET: &str = "abciiiko2k3";

    fn headers<'a>(action: &'a str, biz_type: &'a str) -> [(&'a str, &'a str); 4] {
        // Deliberately not in sorted order.
        [
            ("ts", TS),
            ("bizType", biz_type),
            ("accessKey", AK),
            ("action", action),
        ]
    }

    #[test]
    fn nxlink_published_vectors() {
        let cases = [
            (
                r#"{"name":"牛小信","id":10001}"#,
                "87c3560d3331ae23f1021e2025722354",
            ),
            (
                r#"{"id":10001,"name":"牛小信"}"#,
                "7750759da06333f20d0640be09355e34",
            ),
            (
                r#"{"id": 10001, "name": "牛小信"}"#,
                "d0c24a9886c629330d7f3f2056c65bc2",
            ),
        ];
        for (body, want) in cases {
            let got = nxlink_sign(headers("send", "1"), body.as_bytes(), SECRET, Hash::Md5);
            assert_eq!(got, want, "body {body}");
        }
    }

    #[test]
    fn nxlink_batch_create_vectors() {
        let body = r#"{"type":1,"tenant_id":123,"app_key":"46oKF=os","customers":[{"full_name":"Jack","whats_app_phone":"6281234567890"}]}"#;
        assert_eq!(
            nxlink_sign(headers("mt", "2"), body.as_bytes(), SECRET, Hash::Md5),
            "be889436a3a35649face24c16cf215b7"
        );
        assert_eq!(
            nxlink_sign(headers("mt", "2"), body.as_bytes(), SECRET, Hash::Sha256),
            "e5af4332a0fac8a677376d4489392b7882b226146383676ed82d171f3e946ada"
        );
    }

    #[test]
    fn nxlink_sign_covers_every_input() {
        let base = nxlink_sign(headers("mt", "2"), b"{}", SECRET, Hash::Md5);
        assert_ne!(
            base,
            nxlink_sign(headers("mt", "2"), b"{ }", SECRET, Hash::Md5)
        );
        assert_ne!(
            base,
            nxlink_sign(headers("mt", "1"), b"{}", SECRET, Hash::Md5)
        );
        assert_ne!(
            base,
            nxlink_sign(headers("mt", "2"), b"{}", "other", Hash::Md5)
        );
        // No body: no `&body=` part at all.
        let text = format!("accessKey={AK}&action=mt&bizType=2&ts={TS}&accessSecret={SECRET}");
        assert_eq!(
            nxlink_sign(headers("mt", "2"), b"", SECRET, Hash::Md5),
            hex::encode(Md5::digest(text.as_bytes()))
        );
    }

    #[test]
    fn algorithm_header() {
        assert_eq!(Hash::from_header(None), Some(Hash::Md5));
        assert_eq!(Hash::from_header(Some("MD5")), Some(Hash::Md5));
        assert_eq!(Hash::from_header(Some("sha256")), Some(Hash::Sha256));
        assert_eq!(Hash::from_header(Some("sha1")), None);
    }

    #[test]
    fn itnio_vectors() {
        assert_eq!(
            itnio_sign("bDqJFiq9", "7bz1lzh9", "1630468800"),
            "05d7a50893e22a5c4bb3216ae3396c7c"
        );
        assert_eq!(
            itnio_sign("bD8JFiq9", "secretExample", "1630468800"),
            "c3b10945de253ae469524b9222ed1bc2"
        );
    }
}
