//! Unit tests of `input::decode`.
use super::*;
use encoding_rs::{BIG5, GBK, SHIFT_JIS};

fn transcode(bytes: &[u8], enc: &'static Encoding) -> Vec<u8> {
    let mut out = Vec::new();
    let mut t = Utf8Transcoder::new(Cursor::new(bytes.to_vec()), enc);
    t.read_to_end(&mut out).unwrap();
    out
}

#[test]
fn strict_decoding_reports_lossy_text() {
    let gbk = Decoder::new(GBK);
    assert_eq!(gbk.decode(&GBK.encode("张三").0).unwrap(), "张三");
    assert_eq!(gbk.decode(b"a\x81").unwrap_err(), "a\u{FFFD}");
    let utf8 = Decoder::new(UTF_8);
    assert_eq!(utf8.decode("é".as_bytes()).unwrap(), "é");
    assert_eq!(utf8.decode(b"\xffx").unwrap_err(), "\u{FFFD}x");
    assert_eq!(utf8.decode_lossy(b"\xffx"), "\u{FFFD}x");
}

#[test]
fn suggestions_name_gbk_and_never_the_failed_encoding() {
    let gbk = GBK.encode("姓名,电话,张三丰,李小龙").0;
    assert_eq!(suggest_encoding(&gbk, UTF_8).as_deref(), Some("gbk"));
    assert_eq!(suggest_encoding(&gbk, GBK), None);
    assert_eq!(
        suggest_encoding("姓名".as_bytes(), GBK).as_deref(),
        Some("utf-8")
    );
    assert_eq!(suggest_encoding(b"name", UTF_8), None);
    let sjis = SHIFT_JIS.encode("山田太郎,電話番号,東京都").0;
    assert_eq!(suggest_encoding(&sjis, UTF_8).as_deref(), Some("shift_jis"));
    let big5 = BIG5.encode("姓名,電話,臺灣,台北市").0;
    assert_eq!(suggest_encoding(&big5, UTF_8).as_deref(), Some("big5"));
    // A lead byte followed by ASCII is malformed, and the ASCII byte is kept.
    assert_eq!(transcode(b"\x81,a", GBK), b"\xFF,a");
}

#[test]
fn bom_wins_and_is_stripped() {
    let read = |bytes: &[u8], req| {
        let (mut r, enc) = strip_bom(Box::new(Cursor::new(bytes.to_vec())), req).unwrap();
        let mut rest = Vec::new();
        r.read_to_end(&mut rest).unwrap();
        (enc.name(), rest)
    };
    assert_eq!(
        read(b"\xEF\xBB\xBFab", Some(GBK)),
        ("UTF-8", b"ab".to_vec())
    );
    assert_eq!(read(b"\xFF\xFEa\0", None), ("UTF-16LE", b"a\0".to_vec()));
    assert_eq!(
        read(b"\xFE\xFF\0a", Some(GBK)),
        ("UTF-16BE", b"\0a".to_vec())
    );
    assert_eq!(read(b"ab", Some(GBK)), ("GBK", b"ab".to_vec()));
    assert_eq!(read(b"a", None), ("UTF-8", b"a".to_vec()));
    assert_eq!(read(b"", None), ("UTF-8", Vec::new()));
}

#[test]
fn transcoder_marks_malformed_sequences() {
    let le: Vec<u8> = "名,a\r\n"
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    assert_eq!(transcode(&le, UTF_16LE), "名,a\r\n".as_bytes());
    // Unpaired surrogate, then a trailing odd byte.
    let bad = [0x00, 0xD8, b'a', 0, b'b'];
    assert_eq!(transcode(&bad, UTF_16LE), b"\xFFa\xFF");
    // A byte that never decodes in GBK; the ASCII after it survives.
    let mut gbk = GBK.encode("张|").0.into_owned();
    gbk.extend_from_slice(b"\xFF|x");
    let mut expected = "张|".as_bytes().to_vec();
    expected.extend_from_slice(b"\xFF|x");
    assert_eq!(transcode(&gbk, GBK), expected);
}

#[test]
fn transcoder_handles_large_inputs_across_buffers() {
    let text = "张三|13800000000\n".repeat(5000);
    let gbk = GBK.encode(&text).0;
    assert_eq!(transcode(&gbk, GBK), text.as_bytes());
}
