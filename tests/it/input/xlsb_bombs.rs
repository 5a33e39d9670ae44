//! `.xlsb` bombs through the binary, each workbook built by the test record by record: records
//! claiming more bytes than their part holds or more than a cell can be, dimensions and rows
//! past Excel's bounds, shared strings claiming strings they do not hold. Each runs under the
//! 200 MB address-space cap and 20 s deadline of [`run_capped`]: exit 0–2, never an abort.

use std::path::Path;

use crate::env::TestEnv;
use crate::input::bombs::{run_capped, zip_parts};

const NS: &str = "http://schemas.openxmlformats.org";

/// A record's header: its type (one or two bytes) and its length (seven bits a byte).
fn header(typ: u16, len: usize) -> Vec<u8> {
    let mut out = if typ < 0x80 {
        vec![typ as u8]
    } else {
        vec![(typ & 0x7F) as u8 | 0x80, (typ >> 7) as u8]
    };
    let mut len = len;
    loop {
        let b = (len & 0x7F) as u8;
        len >>= 7;
        if len == 0 {
            out.push(b);
            break;
        }
        out.push(b | 0x80);
    }
    out
}

fn rec(typ: u16, data: &[u8]) -> Vec<u8> {
    [header(typ, data.len()), data.to_vec()].concat()
}

/// An XLWideString: its length in UTF-16 units, then the units.
fn wide(text: &str) -> Vec<u8> {
    let units: Vec<u16> = text.encode_utf16().collect();
    let mut out = u32::try_from(units.len()).unwrap().to_le_bytes().to_vec();
    out.extend(units.iter().flat_map(|u| u.to_le_bytes()));
    out
}

fn row(index: u32) -> Vec<u8> {
    rec(0x0000, &index.to_le_bytes())
}

/// A cell's first eight bytes: its column and its style (0).
fn cell_start(col: u32) -> Vec<u8> {
    [col.to_le_bytes(), [0; 4]].concat()
}

/// BrtCellSt: an inline string.
fn text(col: u32, value: &str) -> Vec<u8> {
    rec(0x0006, &[cell_start(col), wide(value)].concat())
}

/// BrtCellReal: a number.
fn real(col: u32, value: f64) -> Vec<u8> {
    rec(
        0x0005,
        &[cell_start(col), value.to_le_bytes().to_vec()].concat(),
    )
}

/// BrtCellIsst: shared string `index`.
fn shared(col: u32, index: u32) -> Vec<u8> {
    rec(
        0x0007,
        &[cell_start(col), index.to_le_bytes().to_vec()].concat(),
    )
}

/// BrtWsDim: rows and columns, 0-based and inclusive.
fn dims(last_row: u32, last_col: u32) -> Vec<u8> {
    let data: Vec<u8> = [0, last_row, 0, last_col]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    rec(0x0094, &data)
}

/// The records of a sheet before its rows.
fn sheet_start(dimensions: Vec<u8>) -> Vec<u8> {
    [rec(0x0081, &[]), dimensions, rec(0x0091, &[])].concat()
}

/// A sheet "S" whose data is `rows` (after BrtBeginSheetData, before its end).
fn sheet(rows: &[Vec<u8>]) -> Vec<u8> {
    [sheet_start(dims(2, 1)), rows.concat(), rec(0x0092, &[])].concat()
}

/// Shared strings claiming `claimed` strings and holding `held`.
fn strings(claimed: u32, held: &[&str]) -> Vec<u8> {
    let count = u32::try_from(held.len()).unwrap();
    let mut out = rec(
        0x009F,
        &[count.to_le_bytes(), claimed.to_le_bytes()].concat(),
    );
    for s in held {
        out.extend(rec(0x0013, &[vec![0], wide(s)].concat()));
    }
    out.extend(rec(0x00A0, &[]));
    out
}

/// Writes an `.xlsb` of one sheet "S" made of `sheet_bin`, with `strings_bin` as its shared
/// strings when given.
fn xlsb(path: &Path, sheet_bin: Vec<u8>, strings_bin: Option<Vec<u8>>) {
    let bundle = [
        0u32.to_le_bytes().to_vec(),
        1u32.to_le_bytes().to_vec(),
        wide("rId1"),
        wide("S"),
    ]
    .concat();
    let workbook = [
        rec(0x009C, &bundle),
        rec(0x0090, &[]),
        // BrtCalcProp: what follows the defined names.
        rec(0x009D, &[]),
    ]
    .concat();
    let rels = format!(
        r#"<Relationships xmlns="{NS}/package/2006/relationships"><Relationship Id="rId1" Type="{NS}/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.bin"/></Relationships>"#
    );
    let mut parts = vec![
        ("xl/workbook.bin", workbook),
        ("xl/_rels/workbook.bin.rels", rels.into_bytes()),
        ("xl/worksheets/sheet1.bin", sheet_bin),
    ];
    if let Some(s) = strings_bin {
        parts.push(("xl/sharedStrings.bin", s));
    }
    zip_parts(path, &parts);
}

/// The header (shared strings 0 and 1) and one row.
fn small_rows() -> Vec<Vec<u8>> {
    vec![
        row(0),
        shared(0, 0),
        shared(1, 1),
        row(1),
        text(0, "Ana"),
        real(1, 6281200001.0),
    ]
}

fn small_strings() -> Option<Vec<u8>> {
    Some(strings(2, &["name", "phone"]))
}

#[test]
fn a_hand_built_xlsb_imports() {
    let env = TestEnv::new();
    let path = env.path("small.xlsb");
    xlsb(&path, sheet(&small_rows()), small_strings());
    env.cmd("nxlink").arg(&path).assert().code(0);
    let held = env.held_nxlink();
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(held[0]["full_name"], "Ana");
    assert_eq!(held[0]["whats_app_phone"], "6281200001");
}

#[test]
fn an_xlsb_record_claiming_more_bytes_than_its_part_holds_is_refused() {
    // In the sheet: calamine would size its buffer from the claim (200 MiB) before reading.
    let env = TestEnv::new();
    let path = env.path("claim.xlsb");
    let before = [sheet_start(dims(2, 1)), small_rows().concat()].concat();
    let at = before.len();
    let bomb = [before, header(0x0006, 200 << 20), vec![0; 12]].concat();
    xlsb(&path, bomb, small_strings());
    let (code, stderr) = run_capped(&env, &path, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "claim.xlsb: xl/worksheets/sheet1.bin: the record at byte {at} claims 209715200 bytes and 12 follow: nothing was read from it"
        )),
        "{stderr}"
    );
    assert!(!env.out().join("failed.csv").exists());
    // In the shared strings, read whole when the workbook is opened.
    let path = env.path("strings.xlsb");
    let mut sst = rec(0x009F, &[[2, 0, 0, 0], [2, 0, 0, 0]].concat());
    let at = sst.len();
    sst.extend(header(0x0013, (1 << 28) - 1));
    xlsb(&path, sheet(&small_rows()), Some(sst));
    let (code, stderr) = run_capped(&env, &path, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "strings.xlsb: xl/sharedStrings.bin: the record at byte {at} claims 268435455 bytes and 0 follow: nothing was read from it"
        )),
        "{stderr}"
    );
}

#[test]
fn an_xlsb_record_longer_than_a_cell_can_be_is_refused() {
    // 40,000 characters (80,000 bytes of UTF-16) against 6 × 1000 + 64 KiB.
    let env = TestEnv::new();
    let path = env.path("long.xlsb");
    let mut rows = small_rows();
    rows.extend([row(2), text(0, &"a".repeat(40_000)), real(1, 6281200002.0)]);
    xlsb(&path, sheet(&rows), small_strings());
    let (code, stderr) = run_capped(&env, &path, &["--max-field-size", "1000"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(
            "long.xlsb: xl/worksheets/sheet1.bin holds a record longer than 1000 bytes (--max-field-size) by far: nothing was read from it"
        ),
        "{stderr}"
    );
    // A 120 MB shared string, really there (it compresses to a few hundred KB).
    let path = env.path("huge.xlsb");
    let huge = "a".repeat(60 << 20);
    let sst = strings(3, &["name", "phone", &huge]);
    drop(huge);
    xlsb(&path, sheet(&small_rows()), Some(sst));
    assert!(std::fs::metadata(&path).unwrap().len() < 1 << 20);
    let (code, stderr) = run_capped(&env, &path, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(
            "huge.xlsb: xl/sharedStrings.bin holds a record longer than 1048576 bytes (--max-field-size) by far"
        ),
        "{stderr}"
    );
}

#[test]
fn xlsb_dimensions_past_excels_bounds_are_refused() {
    let env = TestEnv::new();
    let tail = || [small_rows().concat(), rec(0x0092, &[])].concat();
    for (file, dimensions, claim) in [
        (
            "rows.xlsb",
            dims(3_999_999_999, 1),
            "its dimensions claim rows up to 4000000000, past Excel's last row (1,048,576)",
        ),
        (
            "cols.xlsb",
            dims(2, 16_384),
            "its dimensions claim columns up to XFE, past Excel's last column (XFD, 16,384 columns)",
        ),
    ] {
        let path = env.path(file);
        xlsb(&path, [sheet_start(dimensions), tail()].concat(), small_strings());
        let (code, stderr) = run_capped(&env, &path, &[]);
        assert_eq!(code, 2, "{stderr}");
        assert!(
            stderr.contains(&format!(
                "{file}: xl/worksheets/sheet1.bin: {claim}: nothing was read from it"
            )),
            "{stderr}"
        );
    }
}

#[test]
fn an_xlsb_row_past_excels_last_row_is_refused_not_the_end_of_the_sheet() {
    // calamine ends the sheet quietly at such a row: Bob's row after it would be lost.
    let env = TestEnv::new();
    let path = env.path("far.xlsb");
    let mut rows = small_rows();
    let at = (sheet_start(dims(2, 1)).len() + rows.concat().len()) as u64;
    rows.extend([row(2_000_000), text(0, "x")]);
    rows.extend([row(2), text(0, "Bob"), real(1, 6281200002.0)]);
    xlsb(&path, sheet(&rows), small_strings());
    let (code, stderr) = run_capped(&env, &path, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "far.xlsb: xl/worksheets/sheet1.bin: the row header at byte {at} names row 2000001, past Excel's last row (1,048,576): nothing was read from it"
        )),
        "{stderr}"
    );
    assert!(env.held_nxlink().is_empty());
}

#[test]
fn xlsb_shared_strings_claiming_strings_they_do_not_hold_are_refused() {
    let env = TestEnv::new();
    let path = env.path("count.xlsb");
    xlsb(
        &path,
        sheet(&small_rows()),
        Some(strings(4_000_000_000, &["name", "phone"])),
    );
    let (code, stderr) = run_capped(&env, &path, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(
            "count.xlsb: xl/sharedStrings.bin: the shared strings claim 4000000000 strings and hold 2: nothing was read from it"
        ),
        "{stderr}"
    );
    // A cell naming a string past them (calamine would index out of its list).
    let path = env.path("index.xlsb");
    let mut rows = small_rows();
    rows.extend([row(2), text(0, "Bob"), shared(1, 7)]);
    xlsb(&path, sheet(&rows), small_strings());
    let (code, stderr) = run_capped(&env, &path, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(
            "index.xlsb: xl/worksheets/sheet1.bin: cell B3 names shared string 8 of 2: nothing was read from it"
        ),
        "{stderr}"
    );
}
