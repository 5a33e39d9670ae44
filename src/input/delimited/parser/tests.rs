//! Unit tests of `input::delimited::parser`.
use super::*;
use proptest::prelude::*;

fn parse(input: &[u8], delimiter: u8, cap: usize) -> Vec<RawRecord> {
    // A tiny buffer exercises records that straddle buffer refills.
    let reader = io::BufReader::with_capacity(3, input);
    let mut parser = Parser::new(reader, delimiter, cap);
    let mut out = Vec::new();
    while let Some(rec) = parser.next_record().unwrap() {
        out.push(rec.clone());
    }
    out
}

fn fields(recs: &[RawRecord]) -> Vec<Vec<String>> {
    recs.iter()
        .map(|r| {
            r.fields()
                .map(|f| String::from_utf8_lossy(f).into_owned())
                .collect()
        })
        .collect()
}

#[test]
fn records_beyond_the_caps_are_flagged_not_stored() {
    let mut wide = vec![b'x'; 1];
    for _ in 0..MAX_FIELDS + 5 {
        wide.extend_from_slice(b",");
    }
    wide.extend_from_slice(b"\nnext\n");
    let recs = parse(&wide, b',', 100);
    assert_eq!(recs.len(), 2);
    assert!(recs[0].too_big);
    assert_eq!(recs[0].len(), MAX_FIELDS);
    assert!(!recs[1].too_big);
    // Many fields each under the cap, together over the record cap.
    let field = vec![b'y'; 10];
    let mut big = Vec::new();
    for _ in 0..(RECORD_CAP_FACTOR * 10 / 10 + 2) {
        big.extend_from_slice(&field);
        big.push(b',');
    }
    big.push(b'\n');
    let recs = parse(&big, b',', 10);
    assert!(recs[0].too_big);
    assert!(recs[0].stored() <= 10 * RECORD_CAP_FACTOR);
    assert!(recs[0].fields().map(<[u8]>::len).sum::<usize>() <= 10 * RECORD_CAP_FACTOR);
}

#[test]
fn quotes_delimiters_and_line_endings() {
    let recs = parse(
        b"a,\"b,\"\"c\"\"\"\r\n\r\n\"x\ny\",z\rlast,\"q\"tail",
        b',',
        100,
    );
    assert_eq!(
        fields(&recs),
        [
            vec!["a", "b,\"c\""],
            vec!["x\ny", "z"],
            vec!["last", "qtail"]
        ]
    );
    let lines: Vec<u64> = recs.iter().map(|r| r.line).collect();
    assert_eq!(lines, [1, 3, 5]);
    let ends: Vec<u64> = recs.iter().map(|r| r.end_line).collect();
    assert_eq!(ends, [1, 4, 5]);
    assert_eq!(recs[1].field_lines, [3, 4]);
    assert!(recs.iter().all(|r| r.unterminated.is_none()));
}

#[test]
fn unterminated_quote_reports_first_and_last_line() {
    let recs = parse(b"h\n1,\"open\n2\r\n3\n", b',', 100);
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[1].line, 2);
    assert_eq!(recs[1].unterminated, Some((2, 4)));
    let recs = parse(b"a,b\nx,\"y", b',', 100);
    assert_eq!(recs[1].unterminated, Some((2, 2)));
    assert_eq!(fields(&recs)[1], ["x", "y"]);
    // A closed quote at the very end is fine.
    assert_eq!(parse(b"x,\"y\"", b',', 100)[0].unterminated, None);
}

#[test]
fn field_cap_flags_the_first_large_field_and_keeps_it_within_the_records_cap() {
    let recs = parse(b"ab,abcdef,abcdefgh\nabcd,x\n", b',', 4);
    assert_eq!(recs[0].too_large, Some(1));
    assert!(!recs[0].too_big);
    // Kept whole for the failure report: the record is within 8 x 4 bytes.
    assert_eq!(fields(&recs)[0], ["ab", "abcdef", "abcdefgh"]);
    assert_eq!(recs[1].too_large, None);
    // A field past the record's cap is cut there, still a field too large, not a record.
    let long = format!("a,{}\n", "x".repeat(100));
    let recs = parse(long.as_bytes(), b',', 4);
    assert_eq!(recs[0].too_large, Some(1));
    assert!(!recs[0].too_big);
    assert_eq!(fields(&recs)[0][1].len(), 4 * RECORD_CAP_FACTOR - 1);
    // Many fields each within the cap fill the record: the record is too big.
    let wide = format!("{}\n", vec!["xxxx"; 20].join(","));
    let recs = parse(wide.as_bytes(), b',', 4);
    assert!(recs[0].too_big);
    assert_eq!(recs[0].too_large, None);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// Same fields as the csv crate, and `line` equal to its (LF-only) line count when
    /// the input has no CR and no empty line.
    #[test]
    fn agrees_with_the_csv_crate(
        input in proptest::collection::vec(
            prop_oneof![
                Just(b'"'), Just(b','), Just(b';'), Just(b'\n'), Just(b'\r'),
                Just(b'a'), Just(b' '), any::<u8>()
            ],
            0..80,
        ),
        delimiter in prop_oneof![Just(b','), Just(b';'), Just(b'\t')],
    ) {
        let ours = parse(&input, delimiter, usize::MAX);
        let mut theirs = ::csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(&input[..]);
        let mut expected = Vec::new();
        for rec in theirs.byte_records() {
            let rec = rec.unwrap();
            let line = rec.position().map(|p| p.line()).unwrap_or(0);
            expected.push((rec.iter().map(<[u8]>::to_vec).collect::<Vec<_>>(), line));
        }
        prop_assert_eq!(ours.len(), expected.len());
        // The csv crate takes a record's position before skipping empty lines.
        let comparable_lines = !input.contains(&b'\r')
            && !input.starts_with(b"\n")
            && !input.windows(2).any(|w| w == b"\n\n");
        for (o, (fields, line)) in ours.iter().zip(&expected) {
            prop_assert_eq!(&o.fields().map(<[u8]>::to_vec).collect::<Vec<_>>(), fields);
            if comparable_lines {
                prop_assert_eq!(o.line, *line);
            }
        }
    }
}
