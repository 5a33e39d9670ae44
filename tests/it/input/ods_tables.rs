//! `.ods` workbooks of several tables through the binary: calamine reads every table when the
//! workbook is opened, so each table's repeats are checked against its own cells, and all the
//! tables together; a table hidden inside a cell or left open at the end of the file is no way
//! around that. Each runs under the 200 MB cap and 20 s deadline of [`run_capped`].

use std::path::Path;

use crate::env::TestEnv;
use crate::input::bombs::{run_capped, zip_parts};

/// A string cell repeated `repeat` times across.
fn cell(text: &str, repeat: u64) -> String {
    format!(
        r#"<table:table-cell table:number-columns-repeated="{repeat}" office:value-type="string"><text:p>{text}</text:p></table:table-cell>"#
    )
}

fn row(cells: &[String], repeat: u64) -> String {
    format!(
        r#"<table:table-row table:number-rows-repeated="{repeat}">{}</table:table-row>"#,
        cells.concat()
    )
}

fn table(name: &str, rows: &[String]) -> String {
    format!(
        r#"<table:table table:name="{name}">{}</table:table>"#,
        rows.concat()
    )
}

/// The header and one row.
fn small(name: &str) -> String {
    table(
        name,
        &[
            row(&[cell("name", 1), cell("phone", 1)], 1),
            row(&[cell("Ana", 1), cell("6281200001", 1)], 1),
        ],
    )
}

/// A table whose one cell expands to 16,384 × 6,000 cells.
fn bomb(name: &str) -> String {
    table(name, &[row(&[cell("x", 16_384)], 6_000)])
}

/// Writes an `.ods` whose spreadsheet body is `body` (its tables), as written: `close: false`
/// leaves the document's elements unclosed after it.
fn ods(path: &Path, body: &str, close: bool) {
    let end = if close {
        "</office:spreadsheet></office:body></office:document-content>"
    } else {
        ""
    };
    let content = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body><office:spreadsheet>{body}{end}"#
    );
    let manifest = r#"<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#;
    zip_parts(
        path,
        &[
            (
                "mimetype",
                "application/vnd.oasis.opendocument.spreadsheet".to_owned(),
            ),
            ("META-INF/manifest.xml", manifest.to_owned()),
            ("content.xml", content),
        ],
    );
}

#[test]
fn two_small_ods_sheets_import_whichever_is_picked() {
    let env = TestEnv::new();
    let path = env.path("two.ods");
    let second = small("B").replace("Ana", "Bob");
    ods(&path, &[small("A"), second].concat(), true);
    env.cmd("nxlink")
        .args(["--sheet", "B"])
        .arg(&path)
        .assert()
        .code(0);
    let held = env.held_nxlink();
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(held[0]["full_name"], "Bob");
}

#[test]
fn an_ods_bomb_is_refused_whether_its_sheet_is_picked_or_not() {
    const WHY: &str = "its repeated cells expand to 98320384 cells for 1 written (at most 16 per cell written are read; every sheet of an .ods is read when it is opened): nothing was read from it";
    let env = TestEnv::new();
    let path = env.path("second.ods");
    ods(&path, &[small("A"), bomb("B")].concat(), true);
    // Picked: the first sheet's allowance is not lent to it.
    let (code, stderr) = run_capped(&env, &path, &["--sheet", "B"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(&format!("second.ods: sheet \"B\": {WHY}")),
        "{stderr}"
    );
    // Not picked: calamine would still lay it out when opening the workbook.
    let (code, stderr) = run_capped(&env, &path, &["--sheet", "A"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(&format!("second.ods: sheet \"B\": {WHY}")),
        "{stderr}"
    );
    assert!(env.held_nxlink().is_empty());
}

#[test]
fn ods_sheets_each_within_their_allowance_are_refused_together() {
    // Each of these expands to 1,001,000 cells: within one table's slack, not eight times.
    let env = TestEnv::new();
    let path = env.path("many.ods");
    let square = |name: &str| table(name, &[row(&[cell("x", 1_000)], 1_000)]);
    let body: String = std::iter::once(small("A"))
        .chain((1..=8).map(|i| square(&format!("P{i}"))))
        .collect();
    ods(&path, &body, true);
    let (code, stderr) = run_capped(&env, &path, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(
            "many.ods: its first 3 sheets expand to 2002008 cells for 6 written (at most 16 per cell written are read; every sheet of an .ods is read when it is opened): nothing was read from it"
        ),
        "{stderr}"
    );
}

#[test]
fn a_table_inside_a_cell_does_not_hide_the_bomb_around_it() {
    let env = TestEnv::new();
    let path = env.path("nested.ods");
    let inner = r#"<table:table-cell office:value-type="string"><text:p>y</text:p><table:table table:name="T"></table:table></table:table-cell>"#;
    let body = table(
        "S",
        &[
            row(&[cell("name", 1), cell("phone", 1)], 1),
            row(&[cell("x", 16_384)], 6_000),
            row(&[inner.to_owned()], 1),
        ],
    );
    ods(&path, &body, true);
    let (code, stderr) = run_capped(&env, &path, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("nested.ods: sheet \"S\": its repeated cells expand to"),
        "{stderr}"
    );
}

#[test]
fn an_ods_cut_off_inside_a_sheet_is_refused_not_waited_for() {
    let env = TestEnv::new();
    let path = env.path("cut.ods");
    let rows = [
        row(&[cell("name", 1), cell("phone", 1)], 1),
        row(&[cell("Ana", 1), cell("6281200001", 1)], 1),
    ]
    .concat();
    ods(
        &path,
        &format!(r#"<table:table table:name="S">{rows}"#),
        false,
    );
    let (code, stderr) = run_capped(&env, &path, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("cut.ods: content.xml ends inside sheet \"S\": nothing was read from it"),
        "{stderr}"
    );
}
