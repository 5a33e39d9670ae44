//! Unit tests of `input::sniff`.
use super::*;
use crate::input::Format;
use encoding_rs::GBK;

fn opts(encoding: Option<&'static Encoding>) -> InputOptions {
    InputOptions {
        path: "in.csv".into(),
        format: Format::Csv,
        delimiter: None,
        encoding,
        max_field_bytes: 1 << 20,
        sheet: None,
        header_row: None,
    }
}

fn run(bytes: &[u8], encoding: Option<&'static Encoding>) -> Result<Vec<u8>, String> {
    let source: Box<dyn Read + Send> = Box::new(Cursor::new(bytes.to_vec()));
    match look(source, &opts(encoding), "in.csv") {
        Ok(mut s) => {
            let mut all = Vec::new();
            s.reader.read_to_end(&mut all).map_err(|e| e.to_string())?;
            Ok(all)
        }
        Err(e) => Err(e.to_string()),
    }
}

#[test]
fn gbk_rows_under_an_ascii_header_name_gbk() {
    let mut text = b"name,phone\n".to_vec();
    for _ in 0..50 {
        text.extend_from_slice(&GBK.encode("张三丰,13800138000\n李小龙,13900139000\n").0);
    }
    let err = run(&text, None).unwrap_err();
    assert!(err.contains("in.csv is not UTF-8 text (line 2"), "{err}");
    assert!(err.ends_with("try --encoding gbk"), "{err}");
    // With --encoding the bytes pass through unchanged.
    assert_eq!(run(&text, Some(GBK)).unwrap(), text);
}

#[test]
fn a_long_input_is_read_whole_in_small_reads() {
    let text: Vec<u8> = (0..SAMPLE_BYTES + 12_345)
        .map(|i| b'a' + (i % 26) as u8)
        .collect();
    let source: Box<dyn Read + Send> = Box::new(Cursor::new(text.clone()));
    let mut s = look(source, &opts(None), "in.csv").unwrap();
    let (mut all, mut buf) = (Vec::new(), [0u8; 1000]);
    loop {
        let n = s.reader.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        all.extend_from_slice(&buf[..n]);
    }
    assert_eq!(all.len(), text.len());
    assert!(all == text);
}

#[test]
fn a_latin1_byte_names_windows_1252() {
    let err = run(b"name\nJos\xE9 Garc\xEDa\n", None).unwrap_err();
    assert!(err.ends_with("try --encoding windows-1252"), "{err}");
}

#[test]
fn utf8_and_boms_pass() {
    assert!(run("name\n张三\n".as_bytes(), None).is_ok());
    assert!(run(b"\xFF\xFEn\0", None).is_ok());
    assert!(run(b"", None).is_ok());
}

#[test]
fn workbooks_are_named_whatever_the_encoding() {
    let err = run(
        b"PK\x03\x04\x14\0\0\0[Content_Types].xml xl/workbook.xml",
        Some(GBK),
    )
    .unwrap_err();
    assert!(err.contains("is an Excel workbook (.xlsx)"), "{err}");
    assert!(err.ends_with("--format xlsx"), "{err}");
    let err = run(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\0\0", None).unwrap_err();
    assert!(err.ends_with("--format xls"), "{err}");
    let ods = b"PK\x03\x04....mimetypeapplication/vnd.oasis.opendocument.spreadsheet";
    assert!(run(ods, None).unwrap_err().ends_with("--format ods"));
}

#[test]
fn labels_are_valid_encoding_labels() {
    for enc in [
        GBK,
        encoding_rs::WINDOWS_1251,
        encoding_rs::ISO_8859_2,
        encoding_rs::KOI8_U,
    ] {
        let label = encoding_label(enc);
        assert_eq!(Encoding::for_label(label.as_bytes()), Some(enc), "{label}");
    }
}
