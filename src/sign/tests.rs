//! Unit tests of `sign`.
use super::*;

const AK: &str = "fme2na3kdi3ki";
const TS: &str = "1655710885431";
const SECRET: &str = "abciiiko2k3";

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
        let got = nxlink_sign(AK, "send", "1", TS, body.as_bytes(), SECRET, Algorithm::Md5);
        assert_eq!(got, want, "body {body}");
    }
}

#[test]
fn nxlink_batch_create_vectors() {
    let body = r#"{"type":1,"tenant_id":123,"app_key":"46oKF=os","customers":[{"full_name":"Jack","whats_app_phone":"6281234567890"}]}"#;
    assert_eq!(
        nxlink_sign(AK, "mt", "2", TS, body.as_bytes(), SECRET, Algorithm::Md5),
        "be889436a3a35649face24c16cf215b7"
    );
    assert_eq!(
        nxlink_sign(
            AK,
            "mt",
            "2",
            TS,
            body.as_bytes(),
            SECRET,
            Algorithm::Sha256
        ),
        "e5af4332a0fac8a677376d4489392b7882b226146383676ed82d171f3e946ada"
    );
}

#[test]
fn nxlink_sign_depends_on_every_input() {
    let base = nxlink_sign(AK, "mt", "2", TS, b"{}", SECRET, Algorithm::Md5);
    assert_ne!(
        base,
        nxlink_sign(AK, "mt", "2", TS, b"{ }", SECRET, Algorithm::Md5)
    );
    assert_ne!(
        base,
        nxlink_sign(
            AK,
            "mt",
            "2",
            "1655710885432",
            b"{}",
            SECRET,
            Algorithm::Md5
        )
    );
    assert_ne!(
        base,
        nxlink_sign(AK, "mt", "2", TS, b"{}", "other", Algorithm::Md5)
    );
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
