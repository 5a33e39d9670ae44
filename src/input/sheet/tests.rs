//! Unit tests of `input::sheet`.
use std::borrow::Cow;

use calamine::{CellErrorType, Data, DataRef, ExcelDateTime, ExcelDateTimeType};
use rust_xlsxwriter::{Formula, Workbook};

use super::show::{self, Shown, Style};
use super::*;
use crate::input::{Format, Input, InputOptions};

fn text(s: &str) -> Shown<'_> {
    Shown::Text(Cow::Borrowed(s))
}

#[test]
fn whole_numbers_are_their_digits_up_to_15_digits() {
    assert_eq!(show::number(6281234567801.0), "6281234567801");
    assert_eq!(show::number(628123456780123.0), "628123456780123");
    assert_eq!(show::number(999_999_999_999_999.0), "999999999999999");
    assert_eq!(show::number(42.0), "42");
    assert_eq!(show::number(-7.0), "-7");
    assert_eq!(show::number(0.0), "0");
    assert_eq!(show::number(-0.0), "0");
    assert_eq!(show::number(1e14), "100000000000000");
}

#[test]
fn numbers_of_16_digits_or_more_are_shown_as_excel_shows_them() {
    // Excel keeps 15 significant digits: the rest is not known, so it is not invented.
    assert_eq!(show::number(6281234567890123.0), "6.28123456789012E+15");
    assert_eq!(show::number(1e15), "1E+15");
    assert_eq!(show::number(123456789012345678.0), "1.23456789012346E+17");
    assert_eq!(show::number(-4.2e20), "-4.2E+20");
}

#[test]
fn fractions_in_their_shortest_form_at_15_significant_digits() {
    assert_eq!(show::number(0.1), "0.1");
    assert_eq!(show::number(0.1 + 0.2), "0.3");
    assert_eq!(show::number(2.5), "2.5");
    assert_eq!(show::number(-1.25), "-1.25");
    assert_eq!(show::number(1.0 / 3.0), "0.333333333333333");
    assert_eq!(show::number(123.456), "123.456");
    assert_eq!(show::number(0.000015), "0.000015");
}

#[test]
fn zero_padded_formats_keep_the_leading_zeros_shown() {
    let pad = Style::of_format("00000000000");
    assert_eq!(pad.zero_pad, Some(11));
    let cell = DataRef::Float(81234567801.0);
    assert_eq!(show::data_ref(&cell, pad), text("81234567801"));
    let cell = DataRef::Float(8123456780.0);
    assert_eq!(show::data_ref(&cell, pad), text("08123456780"));
    assert_eq!(Style::of_format("0").zero_pad, None);
    assert_eq!(Style::of_format("0.00").zero_pad, None);
    assert_eq!(Style::of_format("General"), Style::default());
}

#[test]
fn date_formats_say_whether_a_time_is_shown() {
    assert_eq!(Style::of_format("yyyy-mm-dd").shows_time, Some(false));
    assert_eq!(Style::of_format("m/d/yy").shows_time, Some(false));
    assert_eq!(
        Style::of_format("yyyy-mm-dd hh:mm:ss").shows_time,
        Some(true)
    );
    assert_eq!(
        Style::of_format("[$-409]d-mmm-yy h:mm AM/PM").shows_time,
        Some(true)
    );
    assert_eq!(Style::of_format(r#""Day "d"#).shows_time, Some(false));
    assert_eq!(Style::of_format("0.00").shows_time, None);
    assert_eq!(Style::of_format(r#"0" days""#).shows_time, None);
}

fn excel_date(serial: f64) -> ExcelDateTime {
    ExcelDateTime::new(serial, ExcelDateTimeType::DateTime, false)
}

#[test]
fn dates_are_iso_and_keep_a_time_of_day_only_where_one_is_shown() {
    // 1990-05-17 is serial 33010.
    assert_eq!(show::date_time(&excel_date(33010.0), None), "1990-05-17");
    assert_eq!(
        show::date_time(&excel_date(33010.0), Some(true)),
        "1990-05-17"
    );
    assert_eq!(
        show::date_time(&excel_date(33010.5), None),
        "1990-05-17 12:00:00"
    );
    assert_eq!(
        show::date_time(&excel_date(33010.5), Some(false)),
        "1990-05-17"
    );
    // 14:30 as Excel stores it.
    assert_eq!(
        show::date_time(&excel_date(45429.604166666664), Some(true)),
        "2024-05-17 14:30:00"
    );
    assert_eq!(show::date_time(&excel_date(0.75), None), "18:00:00");
    let duration = ExcelDateTime::new(1.5, ExcelDateTimeType::TimeDelta, false);
    assert_eq!(show::date_time(&duration, None), "36:00:00");
    let in_1904 = ExcelDateTime::new(31548.0, ExcelDateTimeType::DateTime, true);
    assert_eq!(show::date_time(&in_1904, None), "1990-05-17");
}

#[test]
fn opendocument_dates_and_times() {
    assert_eq!(show::iso_date_time("1990-05-17"), "1990-05-17");
    assert_eq!(show::iso_date_time("1990-05-17T00:00:00"), "1990-05-17");
    assert_eq!(
        show::iso_date_time("2024-05-17T14:30:00.123"),
        "2024-05-17 14:30:00"
    );
    assert_eq!(show::iso_duration("PT14H30M00S"), "14:30:00");
    assert_eq!(show::iso_duration("PT36H00M00.4S"), "36:00:00");
    assert_eq!(show::iso_duration("nonsense"), "nonsense");
}

#[test]
fn booleans_text_errors_and_empty_cells() {
    assert_eq!(
        show::data_ref(&DataRef::Bool(true), Style::default()),
        text("true")
    );
    assert_eq!(show::data(&Data::Bool(false), false), text("false"));
    assert_eq!(
        show::data_ref(&DataRef::SharedString("0812"), Style::default()),
        text("0812")
    );
    assert_eq!(
        show::data(&Data::String("张伟".into()), false),
        text("张伟")
    );
    assert_eq!(show::data(&Data::Int(62812), false), text("62812"));
    assert_eq!(show::data(&Data::Empty, false), text(""));
    assert_eq!(
        show::data_ref(&DataRef::Error(CellErrorType::NA), Style::default()),
        Shown::Error(Cow::Borrowed("#N/A"))
    );
    assert_eq!(
        show::data(&Data::Error(CellErrorType::Div0), false),
        Shown::Error(Cow::Borrowed("#DIV/0!"))
    );
    // OpenDocument error values arrive as their text.
    assert_eq!(
        show::data(&Data::String("#N/A".into()), true),
        Shown::Error(Cow::Borrowed("#N/A"))
    );
    assert_eq!(
        show::data(&Data::String("Err:502".into()), true),
        Shown::Error(Cow::Borrowed("Err:502"))
    );
    assert_eq!(
        show::data(&Data::String("#N/A".into()), false),
        text("#N/A")
    );
    assert_eq!(show::data(&Data::String("Err:".into()), true), text("Err:"));
}

#[test]
fn cells_are_named_as_spreadsheets_name_them() {
    assert_eq!(column_letters(0), "A");
    assert_eq!(column_letters(25), "Z");
    assert_eq!(column_letters(26), "AA");
    assert_eq!(column_letters(701), "ZZ");
    assert_eq!(column_letters(702), "AAA");
    assert_eq!(cell_name(16, 2), "C17");
}

fn options(path: &Path, sheet: Option<&str>) -> InputOptions {
    InputOptions {
        path: path.to_path_buf(),
        format: Format::Xlsx,
        delimiter: None,
        encoding: None,
        max_field_bytes: 1 << 20,
        sheet: sheet.map(str::to_owned),
        header_row: None,
    }
}

/// A workbook: "Notes" (hidden, first), "Customers" with a table starting at B3, "Second".
fn workbook(dir: &Path) -> std::path::PathBuf {
    let mut wb = Workbook::new();
    let notes = wb.add_worksheet();
    notes.set_name("Notes").unwrap();
    notes.write_string(0, 0, "not data").unwrap();
    notes.set_hidden(true);
    let ws = wb.add_worksheet();
    ws.set_name("Customers").unwrap();
    ws.set_active(true);
    ws.write_string(2, 1, "name").unwrap();
    ws.write_string(2, 2, " phone ").unwrap();
    ws.write_string(3, 1, "A").unwrap();
    ws.write_number(3, 2, 6281234567801.0).unwrap();
    // Row 5 is empty; row 6 has an error in C6.
    ws.write_string(5, 1, "B").unwrap();
    ws.write_formula(5, 2, Formula::new("=NA()").set_result("#N/A"))
        .unwrap();
    // Row 7: a value right of the header.
    ws.write_string(6, 1, "C").unwrap();
    ws.write_string(6, 4, "note").unwrap();
    let second = wb.add_worksheet();
    second.set_name("Second").unwrap();
    second.write_string(0, 0, "name").unwrap();
    second.write_string(1, 0, "Z").unwrap();
    let path = dir.join("book.xlsx");
    wb.save(&path).unwrap();
    path
}

fn read_all(input: Input) -> Vec<Record> {
    input.map(|r| r.unwrap()).collect()
}

#[test]
fn first_visible_sheet_its_header_and_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = workbook(dir.path());
    let input = Input::open(&options(&path, None)).unwrap();
    assert_eq!(input.headers, Some(vec!["name".into(), "phone".into()]));
    assert_eq!(input.sheet.as_ref().unwrap().name, "Customers");
    assert_eq!(input.sheet.as_ref().unwrap().rows, Some(4));
    let recs = read_all(input);
    let rows: Vec<(u64, u64)> = recs.iter().map(|r| (r.row, r.line)).collect();
    assert_eq!(rows, [(1, 4), (2, 6), (3, 7)]);
    let cells = |r: &Record| match &r.data {
        RecordData::Cells(c) => c.to_vec(),
        other => panic!("{other:?}"),
    };
    assert_eq!(cells(&recs[0]), ["A", "6281234567801"]);
    assert!(recs[0].problem.is_none());
    assert_eq!(cells(&recs[1]), ["B", "#N/A"]);
    let p = recs[1].problem.as_ref().unwrap();
    assert_eq!(p.code, "invalid_cell");
    assert_eq!(
        p.message,
        "sheet \"Customers\", cell C6 (column \"phone\"): holds the error value #N/A; fix its formula or clear the cell"
    );
    assert_eq!(cells(&recs[2]), ["C", "", "note"]);
    let p = recs[2].problem.as_ref().unwrap();
    assert_eq!(p.code, "wrong_field_count");
    assert_eq!(
        p.message,
        "sheet \"Customers\", cell E7: a value in a column without a header (the header spans B–C); name the column or clear the cell"
    );
}

#[test]
fn sheets_are_picked_by_name_or_number_and_an_unknown_one_is_listed() {
    let dir = tempfile::tempdir().unwrap();
    let path = workbook(dir.path());
    for choice in ["Second", "second", "3"] {
        let input = Input::open(&options(&path, Some(choice))).unwrap();
        assert_eq!(input.sheet.as_ref().unwrap().name, "Second", "{choice}");
        assert_eq!(input.headers, Some(vec!["name".into()]));
        assert_eq!(read_all(input).len(), 1);
    }
    let input = Input::open(&options(&path, Some("1"))).unwrap();
    assert_eq!(input.headers, Some(vec!["not data".into()]));
    for choice in ["Leads", "0", "4"] {
        let Err(InputError::Named(msg)) = Input::open(&options(&path, Some(choice))) else {
            panic!("{choice} was accepted");
        };
        assert_eq!(
            msg,
            format!(
                "--sheet: {} has no sheet {choice:?} (give a name or a number from 1); its sheets: 1 \"Notes\" (hidden), 2 \"Customers\", 3 \"Second\"",
                path.display()
            )
        );
    }
}

#[test]
fn an_empty_sheet_has_an_empty_header_and_no_records() {
    let dir = tempfile::tempdir().unwrap();
    let mut wb = Workbook::new();
    wb.add_worksheet();
    let path = dir.path().join("empty.xlsx");
    wb.save(&path).unwrap();
    let input = Input::open(&options(&path, None)).unwrap();
    assert_eq!(input.headers, Some(vec![]));
    assert_eq!(read_all(input).len(), 0);
}

#[test]
fn a_header_with_an_error_is_refused_and_repeated_names_are_numbered() {
    let dir = tempfile::tempdir().unwrap();
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "name").unwrap();
    ws.write_formula(0, 1, Formula::new("=1/0").set_result("#DIV/0!"))
        .unwrap();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "phone").unwrap();
    ws.write_string(0, 3, "Phone").unwrap();
    ws.write_string(0, 4, "phone").unwrap();
    ws.write_string(1, 4, "6281").unwrap();
    let path = dir.path().join("bad.xlsx");
    wb.save(&path).unwrap();
    match Input::open(&options(&path, Some("1"))) {
        Err(InputError::Unnamed(msg)) => assert_eq!(
            msg,
            "sheet \"Sheet1\", header cell B1: holds the error value #DIV/0!"
        ),
        _ => panic!("accepted"),
    }
    let input = Input::open(&options(&path, Some("2"))).unwrap();
    assert_eq!(
        input.headers,
        Some(vec![
            "phone".into(),
            "".into(),
            "".into(),
            "Phone".into(),
            "phone (2)".into()
        ])
    );
    assert_eq!(
        input.original_headers,
        Some(vec![
            "phone".into(),
            "".into(),
            "".into(),
            "Phone".into(),
            "phone".into()
        ])
    );
    assert_eq!(input.warnings.len(), 1, "{:?}", input.warnings);
    assert!(
        input.warnings[0].contains("\"phone (2)\""),
        "{:?}",
        input.warnings
    );
    let recs = read_all(input);
    let RecordData::Cells(c) = &recs[0].data else {
        panic!()
    };
    assert_eq!(c.to_vec(), ["", "", "", "", "6281"]);
}

#[test]
fn a_file_that_is_not_a_workbook_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fake.xlsx");
    std::fs::write(&path, "name,phone\nA,1\n").unwrap();
    let Err(InputError::Named(msg)) = Input::open(&options(&path, None)) else {
        panic!("accepted");
    };
    let expected = format!("{}: not a readable workbook of this type (", path.display());
    assert!(msg.starts_with(&expected), "{msg}");
}

#[test]
fn many_rows_stream_through_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "n").unwrap();
    for i in 1..=1000u32 {
        ws.write_number(i, 0, f64::from(i)).unwrap();
    }
    let path = dir.path().join("many.xlsx");
    wb.save(&path).unwrap();
    let recs = read_all(Input::open(&options(&path, None)).unwrap());
    assert_eq!(recs.len(), 1000);
    for (i, r) in (1u64..).zip(&recs) {
        assert_eq!(r.row, i);
        assert_eq!(r.line, i + 1);
        let RecordData::Cells(c) = &r.data else {
            panic!()
        };
        assert_eq!(c.get(0), Some(i.to_string().as_str()));
    }
}

#[test]
fn dropping_the_input_early_stops_the_reading_thread() {
    let dir = tempfile::tempdir().unwrap();
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "n").unwrap();
    for i in 1..=5000u32 {
        ws.write_number(i, 0, f64::from(i)).unwrap();
    }
    let path = dir.path().join("many.xlsx");
    wb.save(&path).unwrap();
    let mut input = Input::open(&options(&path, None)).unwrap();
    assert!(input.next().is_some());
    // The thread blocks on the full channel, then ends once the receiver is dropped.
    drop(input);
}

#[test]
fn xlsx_number_formats_shape_the_text() {
    use rust_xlsxwriter::{ExcelDateTime as XDate, Format as XFormat};
    let dir = tempfile::tempdir().unwrap();
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in ["padded", "date only", "date and time", "general"]
        .iter()
        .enumerate()
    {
        ws.write_string(0, u16::try_from(c).unwrap(), *h).unwrap();
    }
    let pad = XFormat::new().set_num_format("00000000000");
    let day = XFormat::new().set_num_format("yyyy-mm-dd");
    let stamp = XFormat::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    let at = XDate::from_ymd(2024, 5, 17)
        .unwrap()
        .and_hms(14, 30, 5)
        .unwrap();
    ws.write_number_with_format(1, 0, 8123456780.0, &pad)
        .unwrap();
    ws.write_datetime_with_format(1, 1, &at, &day).unwrap();
    ws.write_datetime_with_format(1, 2, &at, &stamp).unwrap();
    ws.write_number(1, 3, 8123456780.0).unwrap();
    let midnight = XDate::from_ymd(1990, 5, 17).unwrap();
    ws.write_datetime_with_format(2, 2, &midnight, &stamp)
        .unwrap();
    let path = dir.path().join("formats.xlsx");
    wb.save(&path).unwrap();
    let recs = read_all(Input::open(&options(&path, None)).unwrap());
    let cells: Vec<Vec<String>> = recs
        .iter()
        .map(|r| match &r.data {
            RecordData::Cells(c) => c.to_vec(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        cells,
        [
            vec![
                "08123456780",
                "2024-05-17",
                "2024-05-17 14:30:05",
                "8123456780"
            ],
            vec!["", "", "1990-05-17", ""],
        ]
    );
}

#[test]
fn header_row_is_the_sheet_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = workbook(dir.path());
    // The table's header is sheet row 3 (B3); rows above it are skipped, records numbered
    // from 1 below it.
    let opts = InputOptions {
        header_row: Some(4),
        ..options(&path, None)
    };
    let input = Input::open(&opts).unwrap();
    assert_eq!(
        input.headers,
        Some(vec!["A".into(), "6281234567801".into()])
    );
    let rows: Vec<(u64, u64)> = read_all(input).iter().map(|r| (r.row, r.line)).collect();
    assert_eq!(rows, [(1, 6), (2, 7)]);
    let opts = InputOptions {
        header_row: Some(5),
        ..options(&path, None)
    };
    match Input::open(&opts) {
        Err(e) => assert_eq!(
            e.to_string(),
            "--header-row 5: row 5 of sheet \"Customers\" is empty"
        ),
        Ok(_) => panic!("an empty header row was read"),
    }
}
