//! Workbook bombs through the binary, each built by the test as a hand-written zip: cells at
//! absurd columns, a huge shared string, a lying `uniqueCount`, over-long rows, and an `.ods`
//! whose repeats expand to a hundred million cells. Each runs under a 200 MB address-space cap
//! and a 20 s deadline, and must end with exit 0–2 (never an abort) and a message naming it.

use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use crate::env::{read_csv, wait_for_exit, TestEnv};

/// `A`, `B`, ..., `AA`, ... for a 0-based column.
fn letters(col: u64) -> String {
    let mut n = col + 1;
    let mut out = Vec::new();
    while n > 0 {
        out.push(b'A' + ((n - 1) % 26) as u8);
        n = (n - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap()
}

fn inline(cell: &str, text: &str) -> String {
    format!(r#"<c r="{cell}" t="inlineStr"><is><t>{text}</t></is></c>"#)
}

const NS: &str = "http://schemas.openxmlformats.org";

/// Writes a zip of `parts` (`mimetype` stored, the others deflated).
pub(crate) fn zip_parts<T: AsRef<[u8]>>(path: &Path, parts: &[(&str, T)]) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, text) in parts {
        let method = if *name == "mimetype" {
            zip::CompressionMethod::Stored
        } else {
            zip::CompressionMethod::Deflated
        };
        zip.start_file(*name, opts.compression_method(method))
            .unwrap();
        zip.write_all(text.as_ref()).unwrap();
    }
    zip.finish().unwrap();
}

/// An `.xlsx` of one sheet "S" whose `sheetData` is `rows`, with `strings` as its shared
/// strings part when given.
fn xlsx(path: &Path, rows: &str, strings: Option<String>) {
    let mut parts = vec![
        (
            "[Content_Types].xml",
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="{NS}/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#
            ),
        ),
        (
            "_rels/.rels",
            format!(
                r#"<Relationships xmlns="{NS}/package/2006/relationships"><Relationship Id="rId1" Type="{NS}/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#
            ),
        ),
        (
            "xl/workbook.xml",
            format!(
                r#"<workbook xmlns="{NS}/spreadsheetml/2006/main" xmlns:r="{NS}/officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>"#
            ),
        ),
        (
            "xl/_rels/workbook.xml.rels",
            format!(
                r#"<Relationships xmlns="{NS}/package/2006/relationships"><Relationship Id="rId1" Type="{NS}/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="{NS}/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#
            ),
        ),
        (
            "xl/worksheets/sheet1.xml",
            format!(
                r#"<worksheet xmlns="{NS}/spreadsheetml/2006/main"><sheetData>{rows}</sheetData></worksheet>"#
            ),
        ),
    ];
    if let Some(s) = strings {
        parts.push(("xl/sharedStrings.xml", s));
    }
    zip_parts(path, &parts);
}

fn header_row() -> String {
    format!(
        r#"<row r="1">{}{}</row>"#,
        inline("A1", "name"),
        inline("B1", "phone")
    )
}

/// Runs a dry run of `input` under `ulimit -v` 200 MB and a 20 s deadline; returns the exit
/// code and standard error.
pub(crate) fn run_capped(env: &TestEnv, input: &Path, extra: &[&str]) -> (i32, String) {
    let bin = assert_cmd::cargo::cargo_bin("custimport");
    let err_path = env.path("stderr.txt");
    let mut cmd = std::process::Command::new("sh");
    cmd.arg("-c")
        .arg(r#"ulimit -v 204800; exec "$@""#)
        .arg("sh")
        .arg(bin)
        .args(["nxlink", "--dry-run", "--out"])
        .arg(env.out())
        .args(extra)
        .arg(input)
        .current_dir(env.dir.path())
        .env_clear()
        .env("HOME", env.dir.path())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&err_path).unwrap());
    let code = wait_for_exit(cmd.spawn().unwrap(), Duration::from_secs(20));
    let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
    assert!(
        (0..=2).contains(&code),
        "exit {code} (134 is an abort):\n{stderr}"
    );
    assert!(!stderr.contains("memory allocation"), "{stderr}");
    (code, stderr)
}

#[test]
fn a_header_cell_at_an_absurd_column_is_refused() {
    for col in [4_000_000_000u64, 50_000_000, 16_384] {
        let env = TestEnv::new();
        let path = env.path("wide.xlsx");
        let cell = format!("{}1", letters(col));
        let rows = format!(
            r#"<row r="1">{}{}{}</row><row r="2">{}{}</row>"#,
            inline("A1", "name"),
            inline("B1", "phone"),
            inline(&cell, "x"),
            inline("A2", "A"),
            inline("B2", "6281200001")
        );
        xlsx(&path, &rows, None);
        let (code, stderr) = run_capped(&env, &path, &[]);
        assert_eq!(code, 2, "{stderr}");
        assert!(
            stderr.contains(&format!(
                "sheet \"S\", cell {cell}: beyond Excel's last column"
            )),
            "{stderr}"
        );
        assert!(stderr.lines().all(|l| l.len() < 4096), "{stderr}");
    }
}

#[test]
fn a_huge_shared_string_is_refused_before_it_is_loaded() {
    let env = TestEnv::new();
    let path = env.path("big.xlsx");
    let huge = "a".repeat(64 << 20);
    let strings = format!(
        r#"<sst xmlns="{NS}/spreadsheetml/2006/main" count="2" uniqueCount="2"><si><t>A</t></si><si><t>{huge}</t></si></sst>"#
    );
    drop(huge);
    let rows = format!(
        r#"{}<row r="2"><c r="A2" t="s"><v>0</v></c><c r="B2" t="s"><v>1</v></c></row>"#,
        header_row()
    );
    xlsx(&path, &rows, Some(strings));
    let (code, stderr) = run_capped(&env, &path, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("xl/sharedStrings.xml holds a value or string longer than 1048576 bytes"),
        "{stderr}"
    );
}

#[test]
fn a_lying_unique_count_is_refused() {
    let env = TestEnv::new();
    let path = env.path("count.xlsx");
    let strings = format!(
        r#"<sst xmlns="{NS}/spreadsheetml/2006/main" count="1" uniqueCount="4000000000"><si><t>A</t></si></sst>"#
    );
    let rows = format!(
        r#"{}<row r="2"><c r="A2" t="s"><v>0</v></c>{}</row>"#,
        header_row(),
        inline("B2", "6281200001")
    );
    xlsx(&path, &rows, Some(strings));
    let (code, stderr) = run_capped(&env, &path, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("the shared strings claim 4000000000 strings and hold 1"),
        "{stderr}"
    );
}

#[test]
fn a_row_of_too_many_cells_is_record_too_large_and_one_past_xfd_is_refused() {
    let env = TestEnv::new();
    let path = env.path("long.xlsx");
    let mut row2 = format!(
        r#"<row r="2">{}{}"#,
        inline("A2", "A"),
        inline("B2", "6281200001")
    );
    for c in 2..12_000u64 {
        row2.push_str(&format!(r#"<c r="{}2"><v>1</v></c>"#, letters(c)));
    }
    row2.push_str("</row>");
    let row3 = format!(
        r#"<row r="3">{}{}</row>"#,
        inline("A3", "B"),
        inline("B3", "6281200002")
    );
    xlsx(&path, &format!("{}{row2}{row3}", header_row()), None);
    let (code, stderr) = run_capped(&env, &path, &[]);
    assert_eq!(code, 1, "{stderr}");
    let failed = read_csv(&env.out().join("failed.csv"));
    assert_eq!(failed.len(), 1);
    let get = |k: &str| {
        failed[0]
            .iter()
            .find(|(h, _)| h == k)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(get("custimport_code").as_deref(), Some("record_too_large"));
    assert_eq!(
        get("custimport_error").as_deref(),
        Some("sheet \"S\", row 2: more than 10000 cells (2000 were not read)")
    );
    // Cells without positions run past column XFD: refused at the first one past it.
    let env = TestEnv::new();
    let path = env.path("longer.xlsx");
    let mut row2 = format!(
        r#"<row r="2">{}{}"#,
        inline("A2", "A"),
        inline("B2", "6281200001")
    );
    row2.push_str(&"<c><v>1</v></c>".repeat(200_000));
    row2.push_str("</row>");
    xlsx(&path, &format!("{}{row2}", header_row()), None);
    let (code, stderr) = run_capped(&env, &path, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("cell XFE2: beyond Excel's last column"),
        "{stderr}"
    );
}

#[test]
fn ods_repeats_past_the_cells_written_are_refused() {
    let env = TestEnv::new();
    let path = env.path("rep.ods");
    let cell = |text: &str, repeat: u64| {
        format!(
            r#"<table:table-cell table:number-columns-repeated="{repeat}" office:value-type="string"><text:p>{text}</text:p></table:table-cell>"#
        )
    };
    let content = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body><office:spreadsheet><table:table table:name="S"><table:table-row>{}{}</table:table-row><table:table-row table:number-rows-repeated="6000">{}</table:table-row></table:table></office:spreadsheet></office:body></office:document-content>"#,
        cell("name", 1),
        cell("phone", 1),
        cell("x", 16_384)
    );
    let manifest = r#"<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#;
    zip_parts(
        &path,
        &[
            (
                "mimetype",
                "application/vnd.oasis.opendocument.spreadsheet".into(),
            ),
            ("META-INF/manifest.xml", manifest.into()),
            ("content.xml", content.clone()),
        ],
    );
    assert!(std::fs::metadata(&path).unwrap().len() < 4096);
    let (code, stderr) = run_capped(&env, &path, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("sheet \"S\": its repeated cells expand to"),
        "{stderr}"
    );
    // Repeats past column XFD are refused as such.
    let env = TestEnv::new();
    let path = env.path("wide.ods");
    let wide = content.replace("16384", "20000");
    zip_parts(
        &path,
        &[
            (
                "mimetype",
                "application/vnd.oasis.opendocument.spreadsheet".into(),
            ),
            ("META-INF/manifest.xml", manifest.into()),
            ("content.xml", wide),
        ],
    );
    let (code, stderr) = run_capped(&env, &path, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("sheet \"S\", row 2: cells repeated past Excel's last column"),
        "{stderr}"
    );
}

/// One BIFF record: type, length, data.
fn record(typ: u16, data: &[u8]) -> Vec<u8> {
    let mut out = typ.to_le_bytes().to_vec();
    out.extend_from_slice(&u16::try_from(data.len()).unwrap().to_le_bytes());
    out.extend_from_slice(data);
    out
}

/// A BIFF8 BOF record of a substream of type `dt` (5: workbook globals, 0x10: worksheet).
fn bof(dt: u16) -> Vec<u8> {
    let mut data = 0x0600u16.to_le_bytes().to_vec();
    data.extend_from_slice(&dt.to_le_bytes());
    data.extend_from_slice(&[0; 12]);
    record(0x0809, &data)
}

/// A BIFF8 DIMENSIONS record: rows `first..end`, columns `first_col..end_col` (ends exclusive).
fn dimensions(first: u32, end: u32, first_col: u16, end_col: u16) -> Vec<u8> {
    let mut data = first.to_le_bytes().to_vec();
    data.extend_from_slice(&end.to_le_bytes());
    data.extend_from_slice(&first_col.to_le_bytes());
    data.extend_from_slice(&end_col.to_le_bytes());
    data.extend_from_slice(&[0, 0]);
    record(0x0200, &data)
}

/// A LABEL cell (0x0204) of Latin-1 `text`.
fn label(row: u16, col: u16, text: &str) -> Vec<u8> {
    let mut data = [row, col, 0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect::<Vec<_>>();
    data.extend_from_slice(&u16::try_from(text.len()).unwrap().to_le_bytes());
    data.push(0);
    data.extend_from_slice(text.as_bytes());
    record(0x0204, &data)
}

/// A NUMBER cell (0x0203).
fn number(row: u16, col: u16, value: f64) -> Vec<u8> {
    let mut data = [row, col, 0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect::<Vec<_>>();
    data.extend_from_slice(&value.to_le_bytes());
    record(0x0203, &data)
}

/// A BoundSheet8 record of a worksheet named `name` (ASCII) whose substream starts at `at`.
fn bound_sheet(at: u32, name: &str) -> Vec<u8> {
    let mut data = at.to_le_bytes().to_vec();
    data.extend_from_slice(&[0, 0, u8::try_from(name.len()).unwrap(), 0]);
    data.extend_from_slice(name.as_bytes());
    record(0x0085, &data)
}

/// A `Workbook` stream of worksheets named by `sheets`, each substream holding its records
/// between its BOF and EOF: the globals (BOF, `extra`, one BoundSheet8 a sheet, EOF), then the
/// sheets. `at` overrides where the BoundSheet8 records say the sheets start.
fn workbook_stream(sheets: &[(&str, Vec<Vec<u8>>)], at: Option<u32>, extra: &[u8]) -> Vec<u8> {
    let substreams: Vec<Vec<u8>> = sheets
        .iter()
        .map(|(_, records)| [bof(0x10), records.concat(), record(0x000A, &[])].concat())
        .collect();
    let globals_len: usize = bof(5).len()
        + extra.len()
        + sheets
            .iter()
            .map(|(n, _)| bound_sheet(0, n).len())
            .sum::<usize>()
        + record(0x000A, &[]).len();
    let mut stream = [bof(5), extra.to_vec()].concat();
    let mut offset = globals_len;
    for ((name, _), sub) in sheets.iter().zip(&substreams) {
        let start = at.unwrap_or(u32::try_from(offset).unwrap());
        stream.extend(bound_sheet(start, name));
        offset += sub.len();
    }
    stream.extend(record(0x000A, &[]));
    stream.extend(substreams.concat());
    stream
}

/// Writes a compound file (version 3, 512-byte sectors, as Excel writes them) of `streams`,
/// created in this order.
fn compound_file(path: &Path, streams: &[(&str, Vec<u8>)]) {
    let file = std::fs::File::create(path).unwrap();
    let mut cfb = cfb::CompoundFile::create_with_version(cfb::Version::V3, file).unwrap();
    for (name, bytes) in streams {
        cfb.create_stream(name).unwrap().write_all(bytes).unwrap();
    }
    cfb.flush().unwrap();
}

/// Writes an `.xls` of worksheets named by `sheets` (see [`workbook_stream`]).
fn xls_sheets(path: &Path, sheets: &[(&str, Vec<Vec<u8>>)], at: Option<u32>) {
    compound_file(path, &[("/Workbook", workbook_stream(sheets, at, &[]))]);
}

/// Writes an `.xls` of one worksheet "S" holding `records`.
fn xls(path: &Path, records: &[Vec<u8>]) {
    xls_sheets(path, &[("S", records.to_vec())], None);
}

#[test]
fn a_hand_built_xls_imports() {
    let env = TestEnv::new();
    let path = env.path("small.xls");
    xls(&path, &small_sheet());
    env.cmd("nxlink").arg(&path).assert().code(0);
    let held = env.held_nxlink();
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(held[0]["full_name"], "Ana");
    assert_eq!(held[0]["whats_app_phone"], "6281200001");
}

#[test]
fn xls_dimensions_claiming_billions_of_rows_are_refused() {
    let env = TestEnv::new();
    let path = env.path("dims.xls");
    let cells = [label(0, 0, "name"), label(0, 1, "phone")];
    xls(
        &path,
        &[vec![dimensions(0, 4_000_000_000, 0, 2)], cells.to_vec()].concat(),
    );
    assert!(std::fs::metadata(&path).unwrap().len() < 4096);
    let (code, stderr) = run_capped(&env, &path, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(
            "dims.xls: sheet \"S\": its dimensions claim rows up to 4000000000, past Excel's last row (1,048,576): nothing was read from it"
        ),
        "{stderr}"
    );
    assert!(!env.out().join("failed.csv").exists());
    // Within Excel's bounds, but a million times the cells written.
    let path = env.path("area.xls");
    xls(
        &path,
        &[vec![dimensions(0, 1_048_576, 0, 16_384)], cells.to_vec()].concat(),
    );
    let (code, stderr) = run_capped(&env, &path, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(
            "area.xls: sheet \"S\": its dimensions claim 17179869184 cells for 2 written (at most 16 per cell written are read)"
        ),
        "{stderr}"
    );
    // Rows that end before they start: calamine's u32 arithmetic wraps to billions.
    let path = env.path("upside.xls");
    xls(
        &path,
        &[vec![dimensions(5, 2, 0, 2)], cells.to_vec()].concat(),
    );
    let (code, stderr) = run_capped(&env, &path, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("upside.xls: sheet \"S\": its dimensions claim 8589934586 cells"),
        "{stderr}"
    );
}

#[test]
fn xls_cells_at_opposite_corners_are_refused() {
    let env = TestEnv::new();
    let path = env.path("corners.xls");
    let far = |col| {
        vec![
            dimensions(0, 0, 0, 0),
            label(0, 0, "name"),
            label(0, 1, "phone"),
            number(65_535, col, 1.0),
        ]
    };
    xls(&path, &far(16_383));
    let (code, stderr) = run_capped(&env, &path, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(
            "corners.xls: sheet \"S\": its cells span A1:XFD65536, 1073741824 cells for 3 written (at most 16 per cell written are read): nothing was read from it"
        ),
        "{stderr}"
    );
    // The record's u16 column reaches past XFD.
    let path = env.path("far.xls");
    xls(&path, &far(65_535));
    let (code, stderr) = run_capped(&env, &path, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(
            "far.xls: sheet \"S\", cell CRXP65536: beyond Excel's last column (XFD, 16,384 columns): nothing was read from it"
        ),
        "{stderr}"
    );
}

#[test]
fn xls_sheets_sharing_their_records_or_their_slack_are_refused() {
    let env = TestEnv::new();
    // 200 sheets whose cells span 1000 × 1000 cells each: each within the slack, not together.
    let path = env.path("many.xls");
    let corners = vec![
        label(0, 0, "name"),
        label(0, 1, "phone"),
        number(999, 999, 1.0),
    ];
    let names: Vec<String> = (1..=200).map(|i| format!("S{i}")).collect();
    let sheets: Vec<(&str, Vec<Vec<u8>>)> = names
        .iter()
        .map(|n| (n.as_str(), corners.clone()))
        .collect();
    xls_sheets(&path, &sheets, None);
    let (code, stderr) = run_capped(&env, &path, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(
            "many.xls: its 200 sheets claim 200000000 cells for 600 written (at most 16 per cell written are read): nothing was read from it"
        ),
        "{stderr}"
    );
    // 200 sheets that all start where the first does: calamine would lay its cells out 200
    // times.
    let path = env.path("same.xls");
    let globals_len = bof(5).len()
        + names.iter().map(|n| bound_sheet(0, n).len()).sum::<usize>()
        + record(0x000A, &[]).len();
    let sheets: Vec<(&str, Vec<Vec<u8>>)> = names
        .iter()
        .map(|n| (n.as_str(), corners.clone()))
        .collect();
    xls_sheets(&path, &sheets, Some(u32::try_from(globals_len).unwrap()));
    let (code, stderr) = run_capped(&env, &path, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "same.xls: sheet \"S2\" starts at byte {globals_len} of the workbook stream, inside the workbook globals or another sheet: nothing was read from it"
        )),
        "{stderr}"
    );
}

/// The two header cells and one row, in a sheet whose dimensions say so.
fn small_sheet() -> Vec<Vec<u8>> {
    vec![
        dimensions(0, 2, 0, 2),
        label(0, 0, "name"),
        label(0, 1, "phone"),
        label(1, 0, "Ana"),
        number(1, 1, 6281200001.0),
    ]
}

#[test]
fn an_encrypted_xls_is_refused_as_such_whatever_its_sheets_say() {
    let env = TestEnv::new();
    let path = env.path("locked.xls");
    // FilePass (RC4): what follows in the sheets is ciphertext, here dimensions of billions.
    let file_pass = record(0x002F, &[1, 0, 1, 0, 1, 0]);
    let sheet = vec![dimensions(0, 4_000_000_000, 0, 2), label(0, 0, "name")];
    let stream = workbook_stream(&[("S", sheet)], None, &file_pass);
    compound_file(&path, &[("/Workbook", stream)]);
    let (code, stderr) = run_capped(&env, &path, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(
            "locked.xls: not a readable workbook of this type (Workbook is password protected)"
        ),
        "{stderr}"
    );
}

/// Offset of the 128-byte directory entry named `name` in the compound file `bytes`.
fn entry_at(bytes: &[u8], name: &str) -> usize {
    let utf16: Vec<u8> = name.encode_utf16().flat_map(u16::to_le_bytes).collect();
    (0..bytes.len())
        .step_by(128)
        .find(|&at| {
            bytes[at..].starts_with(&utf16) && bytes[at + utf16.len()..].starts_with(&[0, 0])
        })
        .unwrap()
}

#[test]
fn an_xls_hiding_a_workbook_stream_outside_its_directory_tree_is_refused() {
    let env = TestEnv::new();
    let path = env.path("hidden.xls");
    let bomb = vec![dimensions(0, 4_000_000_000, 0, 2), label(0, 0, "name")];
    compound_file(
        &path,
        &[
            ("/Xorkbook", workbook_stream(&[("S", bomb)], None, &[])),
            (
                "/Workbook",
                workbook_stream(&[("S", small_sheet())], None, &[]),
            ),
        ],
    );
    // The first entry is renamed Workbook and left out of the tree: the root's child becomes
    // the other one, alone and black. calamine takes the first entry of that name it finds.
    let mut bytes = std::fs::read(&path).unwrap();
    let root = entry_at(&bytes, "Root Entry");
    let hidden = entry_at(&bytes, "Xorkbook");
    let shown = entry_at(&bytes, "Workbook");
    bytes[hidden] = b'W';
    let id = u32::try_from((shown - root) / 128).unwrap();
    bytes[root + 76..root + 80].copy_from_slice(&id.to_le_bytes());
    bytes[shown + 67] = 1;
    bytes[shown + 68..shown + 76].fill(0xFF);
    std::fs::write(&path, &bytes).unwrap();
    let (code, stderr) = run_capped(&env, &path, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(
            "hidden.xls: it holds a directory entry named like the workbook stream outside its directory tree: nothing was read from it"
        ),
        "{stderr}"
    );
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
}

#[test]
fn an_xls_whose_workbook_stream_claims_more_bytes_than_the_file_is_refused() {
    let env = TestEnv::new();
    let path = env.path("loop.xls");
    // A stream of 8 KiB lives in 512-byte sectors, chained in the FAT.
    let mut sheet = small_sheet();
    sheet.extend((0..500).map(|i| number(2 + i, 5, 1.0)));
    let stream = workbook_stream(&[("S", sheet)], None, &[]);
    assert!(stream.len() > 4096);
    compound_file(&path, &[("/Workbook", stream)]);
    // Its chain made a loop and its size 4 GB: calamine follows the chain for the size.
    let mut bytes = std::fs::read(&path).unwrap();
    let sector = |id: u32| 512 + 512 * id as usize;
    let fat = sector(u32_at(&bytes, 76));
    let entry = entry_at(&bytes, "Workbook");
    let start = u32_at(&bytes, entry + 116);
    let mut id = start;
    while u32_at(&bytes, fat + 4 * id as usize) != 0xFFFF_FFFE {
        id = u32_at(&bytes, fat + 4 * id as usize);
    }
    bytes[fat + 4 * id as usize..][..4].copy_from_slice(&start.to_le_bytes());
    bytes[entry + 120..entry + 124].copy_from_slice(&4_000_000_000u32.to_le_bytes());
    std::fs::write(&path, &bytes).unwrap();
    let (code, stderr) = run_capped(&env, &path, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "loop.xls: its entry \"/Workbook\" claims 4000000000 bytes in a file of {}: nothing was read from it",
            bytes.len()
        )),
        "{stderr}"
    );
}

/// A MULRK record (0x00BD): `count` RK numbers in row `row` from column `first`.
fn mul_rk(row: u16, first: u16, count: u16) -> Vec<u8> {
    let mut data = [row, first]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect::<Vec<_>>();
    for _ in 0..count {
        data.extend_from_slice(&[0, 0]); // format
        data.extend_from_slice(&(7u32 << 2 | 2).to_le_bytes()); // the integer 7
    }
    data.extend_from_slice(&(first + count - 1).to_le_bytes());
    record(0x00BD, &data)
}

#[test]
fn xls_cells_are_counted_as_calamine_reads_them() {
    // An embedded chart's substream is skipped by calamine, its far cells too.
    let env = TestEnv::new();
    let path = env.path("chart.xls");
    let mut sheet = small_sheet();
    sheet.extend([bof(0x20), number(65_535, 16_383, 1.0), record(0x000A, &[])]);
    xls(&path, &sheet);
    env.cmd("nxlink").arg(&path).assert().code(0);
    assert_eq!(env.held_nxlink().len(), 1);
    // A MULRK's cells run from its first column, one per number: here past XFD.
    let env = TestEnv::new();
    let path = env.path("mulrk.xls");
    let mut sheet = small_sheet();
    sheet.push(mul_rk(1, 16_380, 10));
    xls(&path, &sheet);
    let (code, stderr) = run_capped(&env, &path, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(
            "mulrk.xls: sheet \"S\", cell XFE2: beyond Excel's last column (XFD, 16,384 columns): nothing was read from it"
        ),
        "{stderr}"
    );
}
