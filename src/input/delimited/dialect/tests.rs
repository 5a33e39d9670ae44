//! Unit tests of `input::delimited::dialect`.
use super::*;

fn sniff(text: &str) -> Dialect {
    sniff_dialect(text.as_bytes(), true, None)
}

#[test]
fn title_lines_and_sep_lines_move_the_header() {
    let d =
        sniff("Customer export, May\nName,Phone,City\nAnn,+6591234567,SG\nBob,+60123456789,MY\n");
    assert_eq!((d.delimiter, d.header_row), (b',', 2));
    let d = sniff("sep=;\nName;Phone\nAnn;6591234567\n");
    assert_eq!((d.delimiter, d.header_row), (b';', 2));
    let d = sniff("Report;;\n;;\nName;Phone;City\nAnn;0812;Jakarta\nBob;0813;Bandung\n");
    assert_eq!((d.delimiter, d.header_row), (b';', 3));
}

#[test]
fn a_first_row_of_values_is_no_header() {
    let d = sniff("Ann,6591234567,2020-01-02\nBob,60123456789,2021-03-04\n");
    assert_eq!((d.delimiter, d.quoted, d.header_row), (b',', false, 0));
    let d = sniff("\"Name\",\"Phone\"\n\"Ann\",\"6591234567\"\n");
    assert_eq!((d.delimiter, d.quoted, d.header_row), (b',', true, 1));
}

#[test]
fn decimal_commas_and_commas_in_names_stay_inside_semicolon_fields() {
    let d = sniff("Name;Umsatz\nMüller, Hans;1.234,56\nWeiß, Anna;987,10\nLang;0,75\n");
    assert_eq!(d.delimiter, b';');
    assert!(is_value(b"1.234,56") && is_value(b"+49 30 1234567") && is_value(b"12:30:01"));
    assert!(!is_value(b"Umsatz 2025") && !is_value(b"No HP"));
    assert!(is_text(b"M\xc3\xbcller, Hans", b';') && !is_text(b"a;b", b','));
}

/// One data row whose cells each hold the other candidate (`a,b;c,d`): no cell reads as a
/// known kind under either reading, so the consistent table decides (`;`: two fields in the
/// header and the row; `,` would read one field above three).
#[test]
fn with_no_known_cell_the_consistent_table_decides() {
    let d = sniff("c0_;c1_\nx,y;z,w");
    assert_eq!((d.delimiter, d.header_row), (b';', 1));
    let d = sniff("c0_,c1_\nx;y,z;w");
    assert_eq!((d.delimiter, d.header_row), (b',', 1));
}

/// A line that one delimiter reads as the header and another as a title above a table of
/// punctuation cells is the header: the reading that makes the whole sample one table wins
/// (found by `props::readers::csv_tables_read_back_exactly`).
#[test]
fn a_whole_table_beats_one_below_a_title_line() {
    let d = sniff("c0_;c1_\na|';,.\n;,'");
    assert_eq!((d.delimiter, d.header_row), (b';', 1));
    let d = sniff("c0_;c1_\n\";'\";,a\n,';,'");
    assert_eq!((d.delimiter, d.header_row), (b';', 1));
    // A real title line stays a title: no delimiter reads it into the table.
    let d = sniff("Customer export\nname;phone\nAni;0812345678\nBudi;0812345679");
    assert_eq!((d.delimiter, d.header_row), (b';', 2));
}

/// CleverCSV 0.8.5's score on tests/data/sniff/ (delimiter, quote, header row), as
/// `bench/sniff_compare.py` measured it and BENCHMARKS.md records it.
const CLEVERCSV: [usize; 3] = [45, 45, 29];

/// Every file of the test set reads with its expected delimiter, quote and header row, and
/// the sniffer scores at least CleverCSV's recorded figures.
#[test]
fn sniff_corpus() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sniff");
    let mut manifest = csv::Reader::from_path(dir.join("expected.csv")).unwrap();
    let mut wrong = Vec::new();
    let mut files = 0;
    for row in manifest.records() {
        let row = row.unwrap();
        let bytes = std::fs::read(dir.join(&row[0])).unwrap();
        let want = Dialect {
            delimiter: match &row[1] {
                "semicolon" => b';',
                "tab" => b'\t',
                "pipe" => b'|',
                _ => b',',
            },
            quoted: &row[2] == "dquote",
            header_row: row[3].parse().unwrap(),
        };
        let got = sniff_dialect(&bytes, true, None);
        if got != want {
            wrong.push(format!("{}: got {got:?}, want {want:?}", &row[0]));
        }
        files += 1;
    }
    assert!(files >= 40, "{files} files");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(CLEVERCSV.iter().all(|&s| s <= files));
}
