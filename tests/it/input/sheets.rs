//! Spreadsheet input end to end: workbooks built here (rust_xlsxwriter for .xlsx, a hand-made
//! zip for .ods) imported into the sandbox; what it holds and what the reports say.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use predicates::prelude::*;
use rust_xlsxwriter::{ExcelDateTime, Format, Formula, Workbook};
use serde_json::{json, Value};

use crate::env::{by_row, cell, TestEnv};

fn held_by_phone(env: &TestEnv) -> BTreeMap<String, Value> {
    env.held_nxlink()
        .into_iter()
        .map(|c| {
            (
                c["whats_app_phone"].as_str().unwrap_or_default().to_owned(),
                c,
            )
        })
        .collect()
}

/// A held customer without the ids the sandbox adds.
fn strip(c: &Value) -> Value {
    let mut c = c.clone();
    if let Some(o) = c.as_object_mut() {
        o.remove("customerId");
        o.remove("tenant_id");
    }
    c
}

fn date(y: u16, m: u8, d: u8) -> ExcelDateTime {
    ExcelDateTime::from_ymd(y, m, d).unwrap()
}

/// "Customers" (first sheet) and "Archive" (second), as a person would have typed them.
fn customers_workbook(path: &Path) {
    let mut wb = Workbook::new();
    let iso = Format::new().set_num_format("yyyy-mm-dd");
    let us = Format::new().set_num_format("m/d/yy");
    let stamp = Format::new().set_num_format("yyyy-mm-dd hh:mm");
    let ws = wb.add_worksheet();
    ws.set_name("Customers").unwrap();
    for (c, h) in ["姓名", "手机", "生日", "备注"].iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    // Row 2: a 13-digit phone stored as a number, an ISO date, text with leading zeros.
    ws.write_string(1, 0, "张伟").unwrap();
    ws.write_number(1, 1, 6281234567801.0).unwrap();
    ws.write_datetime_with_format(1, 2, date(1990, 5, 17), &iso)
        .unwrap();
    ws.write_string(1, 3, "00123").unwrap();
    // Row 3: a phone typed as text with its leading zero, a date shown as 3/14/85, a fraction.
    ws.write_string(2, 0, "Budi").unwrap();
    ws.write_string(2, 1, "081234567802").unwrap();
    ws.write_datetime_with_format(2, 2, date(1985, 3, 14), &us)
        .unwrap();
    ws.write_number(2, 3, 2.5).unwrap();
    // Row 4 is empty. Row 5: a date-time in a text field.
    ws.write_string(4, 0, "Siti").unwrap();
    ws.write_number(4, 1, 6281345677804.0).unwrap();
    let at = date(2024, 5, 17).and_hms(14, 30, 0).unwrap();
    ws.write_datetime_with_format(4, 3, at, &stamp).unwrap();
    // Row 6: a 16-digit number, which Excel cannot hold exactly, and a boolean.
    ws.write_string(5, 0, "Long").unwrap();
    ws.write_number(5, 1, 6281234567890123.0).unwrap();
    ws.write_boolean(5, 3, true).unwrap();
    // Row 7: an error value where the phone should be.
    ws.write_string(6, 0, "Err").unwrap();
    ws.write_formula(
        6,
        1,
        Formula::new("=VLOOKUP(A7,Z:Z,1,0)").set_result("#N/A"),
    )
    .unwrap();
    // Rows 8-9 are empty; row 10: a formula whose cached value is the phone.
    ws.write_string(9, 0, "王芳").unwrap();
    ws.write_formula(
        9,
        1,
        Formula::new("=6281345677800+9").set_result("6281345677809"),
    )
    .unwrap();
    ws.write_string(9, 3, "老客户").unwrap();

    let ws = wb.add_worksheet();
    ws.set_name("Archive").unwrap();
    for (c, h) in ["name", "phone", "邮编", "joined"].iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    ws.write_string(1, 0, "Old One").unwrap();
    ws.write_number(1, 1, 6285700000001.0).unwrap();
    ws.write_string(1, 2, "01234").unwrap();
    ws.write_datetime_with_format(1, 3, date(2020, 1, 2), &iso)
        .unwrap();
    wb.save(path).unwrap();
}

#[test]
fn xlsx_cells_reach_nxlink_as_the_person_sees_them() {
    let env = TestEnv::new();
    let input = env.path("customers.xlsx");
    customers_workbook(&input);
    env.cmd("nxlink")
        .arg(&input)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "row 5 rejected: sheet \"Customers\", cell B7 (column \"手机\"): holds the error value #N/A",
        ));

    let held = held_by_phone(&env);
    assert_eq!(held.len(), 4, "{held:?}");
    assert_eq!(
        strip(&held["6281234567801"]),
        json!({"full_name": "张伟", "whats_app_phone": "6281234567801",
               "birthday": "1990-05-17", "remark": "00123"})
    );
    assert_eq!(
        strip(&held["081234567802"]),
        json!({"full_name": "Budi", "whats_app_phone": "081234567802",
               "birthday": "1985-03-14", "remark": "2.5"})
    );
    assert_eq!(
        strip(&held["6281345677804"]),
        json!({"full_name": "Siti", "whats_app_phone": "6281345677804",
               "remark": "2024-05-17 14:30:00"})
    );
    assert_eq!(
        strip(&held["6281345677809"]),
        json!({"full_name": "王芳", "whats_app_phone": "6281345677809", "remark": "老客户"})
    );

    let s = env.summary();
    for (k, v) in [
        ("total", 6),
        ("succeeded", 4),
        ("rejected", 2),
        ("requests", 1),
        ("exit_code", 1),
    ] {
        assert_eq!(s[k], json!(v), "{k} in {s}");
    }
    assert_eq!(s["input"], json!(input.display().to_string()));
    let success = by_row(&env.csv_rows("success.csv"), "row");
    assert_eq!(success.keys().copied().collect::<Vec<_>>(), [1, 2, 3, 6]);
    assert_eq!(cell(&success[&6], "full_name"), "王芳");

    // The failure report: the original cells as text, then ours; a comma CSV, starting with
    // a BOM so that Excel reads it as UTF-8.
    assert_eq!(
        env.read("failed.csv"),
        "\u{feff}姓名,手机,生日,备注,custimport_row,custimport_outcome,custimport_code,custimport_error\n\
         Long,6.28123456789012E+15,,true,4,rejected,invalid_phone,\"sheet \"\"Customers\"\" row 6: whats_app_phone: looks like a number a spreadsheet rounded to scientific notation; format the column as text and export again\"\n\
         Err,#N/A,,,5,rejected,invalid_cell,\"sheet \"\"Customers\"\", cell B7 (column \"\"手机\"\"): holds the error value #N/A; fix its formula or clear the cell\"\n"
    );
}

#[test]
fn a_fixed_failure_report_of_a_workbook_imports_as_csv() {
    let env = TestEnv::new();
    let input = env.path("customers.xlsx");
    customers_workbook(&input);
    env.cmd("nxlink").arg(&input).assert().code(1);
    let fixed = env
        .read("failed.csv")
        .replace("6.28123456789012E+15", "6281234567890")
        .replace("#N/A", "6281200000007");
    let fixed = env.write("fixed.csv", fixed);
    std::fs::remove_dir_all(env.out()).unwrap();
    env.cmd("nxlink").arg(&fixed).assert().code(0);
    let held = held_by_phone(&env);
    assert_eq!(held.len(), 6);
    assert_eq!(held["6281234567890"]["full_name"], "Long");
    assert_eq!(held["6281234567890"]["remark"], "true");
    assert_eq!(held["6281200000007"]["full_name"], "Err");
}

#[test]
fn the_second_sheet_by_name_or_number_into_itnio() {
    for choice in ["Archive", "2"] {
        let env = TestEnv::new();
        let input = env.path("customers.xlsx");
        customers_workbook(&input);
        env.cmd("itnio")
            .args(["--job", "9", "--sheet", choice])
            .arg(&input)
            .assert()
            .code(0);
        assert_eq!(
            env.held_itnio(9),
            [json!({"name": "Old One", "phoneNumber": "6285700000001",
                    "properties": {"邮编": "01234", "joined": "2020-01-02"}})],
            "--sheet {choice}"
        );
        assert_eq!(
            env.read("success.csv"),
            "\u{feff}row,phone_number,name,source_row\n1,6285700000001,Old One,\n"
        );
    }
}

#[test]
fn an_unknown_sheet_lists_the_sheets_and_sends_nothing() {
    let env = TestEnv::new();
    let input = env.path("customers.xlsx");
    customers_workbook(&input);
    env.cmd("nxlink")
        .args(["--sheet", "Leads"])
        .arg(&input)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "--sheet: {} has no sheet \"Leads\" (give a name or a number from 1); its sheets: 1 \"Customers\", 2 \"Archive\"",
            input.display()
        )));
    assert_eq!(env.stats()["requests"], json!(0), "{}", env.stats());
}

#[test]
fn spreadsheets_are_not_read_from_standard_input() {
    let env = TestEnv::new();
    env.cmd("nxlink")
        .args(["--format", "xlsx", "-"])
        .write_stdin("PK")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "spreadsheets are read from files, not standard input",
        ));
}

#[test]
fn format_names_a_workbook_with_another_extension() {
    let env = TestEnv::new();
    let input = env.path("export.dat");
    customers_workbook(&input);
    env.cmd("nxlink")
        .arg(&input)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "use --format csv|tsv|jsonl|xlsx|xlsb|xls|ods",
        ));
    env.cmd("nxlink")
        .args(["--format", "xlsx", "--sheet", "Archive"])
        .arg(&input)
        .assert()
        .code(0);
    assert_eq!(env.held_nxlink().len(), 1);
}

#[test]
fn dry_run_shows_the_plan_of_a_sheet() {
    let env = TestEnv::new();
    let input = env.path("customers.xlsx");
    customers_workbook(&input);
    env.cmd("nxlink")
        .arg("--dry-run")
        .arg(&input)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "whats_app_phone <- \"手机\" (alias)",
        ))
        .stderr(predicate::str::contains(
            "Rows: 6 read, 4 valid, 2 rejected",
        ))
        .stderr(predicate::str::contains(
            "invalid_cell               1  (rows 5)",
        ))
        .stderr(predicate::str::contains(
            "invalid_phone              1  (rows 4)",
        ));
    assert_eq!(env.stats()["requests"], json!(0));
    let failed = by_row(&env.csv_rows("failed.csv"), "custimport_row");
    assert_eq!(failed.keys().copied().collect::<Vec<_>>(), [4, 5]);
}

#[test]
fn resume_is_tied_to_the_workbook_and_its_sheet() {
    let env = TestEnv::new();
    let input = env.path("customers.xlsx");
    customers_workbook(&input);
    env.cmd("nxlink").arg(&input).assert().code(1);
    let requests = env.stats()["requests"].clone();
    // The same sheet (named this time): nothing is sent again.
    env.cmd("nxlink")
        .args(["--resume", "--sheet", "Customers"])
        .arg(&input)
        .assert()
        .code(1);
    assert_eq!(env.stats()["requests"], requests);
    // Another sheet of the same file is another input.
    env.cmd("nxlink")
        .args(["--resume", "--sheet", "Archive"])
        .arg(&input)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "--resume: the run in {} read sheet \"Customers\" of {}, not sheet \"Archive\"; another sheet is another input",
            env.out().display(),
            input.display()
        )));
    assert_eq!(env.stats()["requests"], requests);
}

#[test]
fn the_built_in_sandbox_takes_a_workbook() {
    let env = TestEnv::new();
    let input = env.path("customers.xlsx");
    customers_workbook(&input);
    env.bare()
        .args(["nxlink", "--sandbox", "--sheet", "Archive", "--out"])
        .arg(env.out())
        .arg(&input)
        .assert()
        .code(0);
    let success = env.csv_rows("success.csv");
    assert_eq!(success.len(), 1);
    assert_eq!(cell(&success[0], "whats_app_phone"), "6285700000001");
    assert_eq!(cell(&success[0], "full_name"), "Old One");
}

/// A minimal OpenDocument spreadsheet: `mimetype` first and stored, a manifest, and
/// `content.xml` with the rows given as `<table:table-row>` elements.
fn ods(path: &Path, rows: &str) -> PathBuf {
    let content = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:calcext="urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0" office:version="1.2">
<office:body><office:spreadsheet>
<table:table table:name="Kunden">{rows}</table:table>
<table:table table:name="Leer"><table:table-row><table:table-cell/></table:table-row></table:table>
</office:spreadsheet></office:body></office:document-content>"#
    );
    let manifest = r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">
<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>
<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
</manifest:manifest>"#;
    let file = std::fs::File::create(path).unwrap();
    let mut zip = zip::ZipWriter::new(file);
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let deflated = zip::write::SimpleFileOptions::default();
    zip.start_file("mimetype", stored).unwrap();
    zip.write_all(b"application/vnd.oasis.opendocument.spreadsheet")
        .unwrap();
    zip.start_file("META-INF/manifest.xml", deflated).unwrap();
    zip.write_all(manifest.as_bytes()).unwrap();
    zip.start_file("content.xml", deflated).unwrap();
    zip.write_all(content.as_bytes()).unwrap();
    zip.finish().unwrap();
    path.to_path_buf()
}

fn text_cell(s: &str) -> String {
    format!(
        r#"<table:table-cell office:value-type="string"><text:p>{s}</text:p></table:table-cell>"#
    )
}

#[test]
fn ods_cells_reach_itnio_as_the_person_sees_them() {
    let env = TestEnv::new();
    let row = |cells: &[String]| format!("<table:table-row>{}</table:table-row>", cells.concat());
    let float = |v: &str, shown: &str| {
        format!(
            r#"<table:table-cell office:value-type="float" office:value="{v}"><text:p>{shown}</text:p></table:table-cell>"#
        )
    };
    let date = |v: &str, shown: &str| {
        format!(
            r#"<table:table-cell office:value-type="date" office:date-value="{v}"><text:p>{shown}</text:p></table:table-cell>"#
        )
    };
    let error = r#"<table:table-cell table:formula="of:=1/0" office:value-type="string" office:string-value="" calcext:value-type="error"><text:p>#DIV/0!</text:p></table:table-cell>"#;
    let rows = [
        row(&[text_cell("name"), text_cell("phone"), text_cell("due_date"), text_cell("证件后4位")]),
        row(&[
            text_cell("李娜"),
            float("6281234567801", "6.28123E+12"),
            date("2026-12-01", "12/01/26"),
            text_cell("0235"),
        ]),
        r#"<table:table-row table:number-rows-repeated="2"><table:table-cell table:number-columns-repeated="4"/></table:table-row>"#.to_owned(),
        row(&[text_cell("Broken"), error.to_owned(), text_cell(""), text_cell("0007")]),
        row(&[
            text_cell("Ana"),
            float("6281234567802", "6281234567802"),
            date("2026-12-15T09:15:00", "12/15/26 09:15"),
            float("12.5", "12.5"),
        ]),
    ]
    .concat();
    let input = ods(&env.path("kunden.ods"), &rows);
    env.cmd("itnio")
        .args(["--job", "9"])
        .arg(&input)
        .assert()
        .code(1);
    let held: BTreeMap<String, Value> = env
        .held_itnio(9)
        .into_iter()
        .map(|p| (p["phoneNumber"].as_str().unwrap_or_default().to_owned(), p))
        .collect();
    assert_eq!(held.len(), 2, "{held:?}");
    assert_eq!(
        held["6281234567801"],
        json!({"name": "李娜", "phoneNumber": "6281234567801",
               "properties": {"due_date": "2026-12-01", "证件后4位": "0235"}})
    );
    assert_eq!(
        held["6281234567802"],
        json!({"name": "Ana", "phoneNumber": "6281234567802",
               "properties": {"due_date": "2026-12-15 09:15:00", "证件后4位": "12.5"}})
    );
    assert_eq!(
        env.read("failed.csv"),
        "\u{feff}name,phone,due_date,证件后4位,custimport_row,custimport_outcome,custimport_code,custimport_error\n\
         Broken,#DIV/0!,,0007,2,rejected,invalid_cell,\"sheet \"\"Kunden\"\", cell B5 (column \"\"phone\"\"): holds the error value #DIV/0!; fix its formula or clear the cell\"\n"
    );
}

#[test]
fn the_progress_bar_counts_the_rows_of_the_sheet() {
    let env = TestEnv::latency(20);
    let input = env.path("p.xlsx");
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "name").unwrap();
    ws.write_string(0, 1, "phone").unwrap();
    for i in 1..=300u32 {
        ws.write_string(i, 0, format!("N{i}")).unwrap();
        ws.write_number(i, 1, 6_281_000_000_000.0 + f64::from(i))
            .unwrap();
    }
    wb.save(&input).unwrap();
    // Under a pseudo-terminal (util-linux `script`): the bar is drawn with the sheet's total.
    let bin = assert_cmd::cargo::cargo_bin("custimport");
    let cmdline = format!(
        "{} nxlink {} --base-url {} --out {} --batch-size 10 --concurrency 1",
        bin.display(),
        input.display(),
        env.base_url,
        env.out().display()
    );
    let typescript = env.path("typescript");
    let status = std::process::Command::new("script")
        .arg("-qec")
        .arg(&cmdline)
        .arg(&typescript)
        .env("CUSTIMPORT_NXLINK_ACCESS_KEY", "sandbox")
        .env("CUSTIMPORT_NXLINK_ACCESS_SECRET", "sandbox-secret")
        .env("CUSTIMPORT_NXLINK_TENANT_ID", "1")
        .env("CUSTIMPORT_NXLINK_APP_KEY", "sandbox")
        .env("TERM", "xterm")
        .stdout(std::process::Stdio::null())
        .status()
        .expect("util-linux `script` is needed for the pseudo-terminal test");
    assert!(status.success());
    let screen = String::from_utf8_lossy(&std::fs::read(&typescript).unwrap()).into_owned();
    assert!(screen.contains("/300 rows"), "{screen}");
    assert!(screen.contains("300 succeeded"), "{screen}");
}

/// `fixtures/customers-xlwt.xls` is an Excel 97-2003 workbook written by another program
/// (Python xlwt 1.3.0):
///
/// ```python
/// rows = [["姓名", "手机", "生日", "备注"],
///         ["张伟", 6281234567801, date(1990, 5, 17), "00123"],            # date: yyyy-mm-dd
///         ["Budi", "081234567802", datetime(1985, 3, 14), 2.5],           # date: yyyy-mm-dd
///         [],
///         ["Siti", 6281345677804, None, datetime(2024, 5, 17, 14, 30)],   # yyyy-mm-dd hh:mm
///         ["Long", 6281234567890123, None, True]]
/// # sheet "Customers", then an empty sheet "Archive"
/// ```
#[test]
fn xls_written_by_another_program() {
    let env = TestEnv::new();
    let input =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/customers-xlwt.xls");
    env.cmd("nxlink").arg(&input).assert().code(1);
    let held = held_by_phone(&env);
    assert_eq!(held.len(), 3, "{held:?}");
    assert_eq!(
        strip(&held["6281234567801"]),
        json!({"full_name": "张伟", "whats_app_phone": "6281234567801",
               "birthday": "1990-05-17", "remark": "00123"})
    );
    assert_eq!(
        strip(&held["081234567802"]),
        json!({"full_name": "Budi", "whats_app_phone": "081234567802",
               "birthday": "1985-03-14", "remark": "2.5"})
    );
    assert_eq!(
        strip(&held["6281345677804"]),
        json!({"full_name": "Siti", "whats_app_phone": "6281345677804",
               "remark": "2024-05-17 14:30:00"})
    );
    let failed = by_row(&env.csv_rows("failed.csv"), "custimport_row");
    assert_eq!(failed.keys().copied().collect::<Vec<_>>(), [4]);
    assert_eq!(cell(&failed[&4], "手机"), "6.28123456789012E+15");
    assert_eq!(cell(&failed[&4], "备注"), "true");
    assert_eq!(cell(&failed[&4], "custimport_code"), "invalid_phone");
}
