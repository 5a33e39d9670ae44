//! Unit tests of phone numbers by region. The expected values are libphonenumber's own: its
//! example numbers for ID, CN, PH, IN, US and BR (metadata 9.0.33, as the `phonenumber` crate
//! ships it) written in their national, international, bare, IDD and significant forms, and
//! the E.164 form libphonenumber's `parse` + `isValidNumber` give for each (computed with the
//! reference implementation, not with this code).

use super::plan::*;
use super::*;
use phonenumber::metadata::DATABASE;

/// The region of a row whose country cell is `country`, as the providers read it.
fn row_region(p: &Phones, country: Option<&str>, seen: &mut PhoneStats) -> Option<Region> {
    let cell = p.country(country, seen);
    p.row_region(cell)
}

fn region(code: &str) -> Region {
    Region::from_code(code).unwrap()
}

fn norm(r: &str, value: &str) -> Result<String, Rejection> {
    Phones::new(None, false).normalise(
        "whats_app_phone",
        value,
        30,
        Some(region(r)),
        &mut PhoneStats::default(),
    )
}

/// libphonenumber's example numbers (see the module's head) in a region, as written, and the
/// E.164 digits it reads them as (`None`: not a valid number).
const LIBPHONENUMBER_EXAMPLES: &[(&str, &str, Option<&str>)] = &[
    ("ID", "0812-345-678", Some("62812345678")),
    ("ID", "+62 812-345-678", Some("62812345678")),
    ("ID", "62812345678", Some("6262812345678")),
    ("ID", "008 62812345678", Some("62812345678")),
    ("ID", "812345678", Some("62812345678")),
    ("ID", "(021) 8350123", Some("62218350123")),
    ("ID", "+62 21 8350123", Some("62218350123")),
    ("ID", "62218350123", Some("6262218350123")),
    ("ID", "008 62218350123", Some("62218350123")),
    ("ID", "218350123", Some("62218350123")),
    ("CN", "131 2345 6789", Some("8613123456789")),
    ("CN", "+86 131 2345 6789", Some("8613123456789")),
    ("CN", "8613123456789", Some("8613123456789")),
    ("CN", "00 8613123456789", Some("8613123456789")),
    ("CN", "13123456789", Some("8613123456789")),
    ("CN", "010 1234 5678", Some("861012345678")),
    ("CN", "+86 10 1234 5678", Some("861012345678")),
    ("CN", "861012345678", Some("861012345678")),
    ("CN", "00 861012345678", Some("861012345678")),
    ("CN", "1012345678", Some("861012345678")),
    ("PH", "0905 123 4567", Some("639051234567")),
    ("PH", "+63 905 123 4567", Some("639051234567")),
    ("PH", "639051234567", Some("639051234567")),
    ("PH", "00 639051234567", Some("639051234567")),
    ("PH", "9051234567", Some("639051234567")),
    ("PH", "(02) 3234 5678", Some("63232345678")),
    ("PH", "+63 2 3234 5678", Some("63232345678")),
    ("PH", "63232345678", Some("63232345678")),
    ("PH", "00 63232345678", Some("63232345678")),
    ("PH", "232345678", Some("63232345678")),
    ("IN", "081234 56789", Some("918123456789")),
    ("IN", "+91 81234 56789", Some("918123456789")),
    ("IN", "918123456789", Some("918123456789")),
    ("IN", "00 918123456789", Some("918123456789")),
    ("IN", "8123456789", Some("918123456789")),
    ("IN", "074104 10123", Some("917410410123")),
    ("IN", "+91 74104 10123", Some("917410410123")),
    ("IN", "917410410123", Some("917410410123")),
    ("IN", "00 917410410123", Some("917410410123")),
    ("IN", "7410410123", Some("917410410123")),
    ("US", "(201) 555-0123", Some("12015550123")),
    ("US", "+1 201-555-0123", Some("12015550123")),
    ("US", "12015550123", Some("12015550123")),
    ("US", "011 12015550123", Some("12015550123")),
    ("US", "2015550123", Some("12015550123")),
    ("BR", "(11) 96123-4567", Some("5511961234567")),
    ("BR", "+55 11 96123-4567", Some("5511961234567")),
    ("BR", "5511961234567", Some("5511961234567")),
    ("BR", "0014 5511961234567", Some("5511961234567")),
    ("BR", "11961234567", Some("5511961234567")),
    ("BR", "(11) 2345-6789", Some("551123456789")),
    ("BR", "+55 11 2345-6789", Some("551123456789")),
    ("BR", "551123456789", Some("551123456789")),
    ("BR", "0014 551123456789", Some("551123456789")),
    ("BR", "1123456789", Some("551123456789")),
    ("US", "1-650-253-0000", Some("16502530000")),
    ("US", "011 86 181 6372 5558", Some("8618163725558")),
    ("ID", "+86 181 6372 5558", Some("8618163725558")),
    ("ID", "0812", None),
    ("ID", "0812-3456-7801", Some("6281234567801")),
    ("ID", "+62 812 3456 7802", Some("6281234567802")),
    ("ID", "(0812) 3456-7804", Some("6281234567804")),
    ("ID", "812 3456 7806", Some("6281234567806")),
    ("ID", "6281234567801", Some("6281234567801")),
    ("CN", "18163725558", Some("8618163725558")),
    ("CN", "8618163725558", Some("8618163725558")),
    ("CN", "00 86 181 6372 5558", Some("8618163725558")),
    ("PH", "0917 123 4567", Some("639171234567")),
    ("PH", "+63 (0) 917 123 4567", Some("639171234567")),
    ("IN", "098765 43210", Some("919876543210")),
    ("BR", "0 15 11 96123-4567", Some("5511961234567")),
    ("ID", "+999 1234 5678", None),
    ("ID", "0812345678901234", None),
    ("PH", "+63 2 1234", None),
];

#[test]
fn libphonenumber_examples() {
    for (r, input, want) in LIBPHONENUMBER_EXAMPLES {
        let got = norm(r, input);
        match want {
            Some(w) => assert_eq!(got.as_deref(), Ok(*w), "{r} {input:?}"),
            None => {
                let e = got.expect_err(input);
                assert_eq!(e.code, "invalid_phone", "{r} {input:?}");
            }
        }
    }
}

#[test]
fn messages_say_what_was_understood() {
    let msg = |r: &str, v: &str| norm(r, v).unwrap_err().message;
    assert_eq!(
        msg("ID", "0812"),
        "whats_app_phone: too short for Indonesia (+62): read as a national number \
         of 4 digits"
    );
    assert_eq!(
        msg("ID", "0812345678901234"),
        "whats_app_phone: not a number in use for Indonesia (+62): read as a national number \
         of 16 digits"
    );
    assert_eq!(
        msg("ID", "+86 181 6372 5558 1234"),
        "whats_app_phone: too long for China (+86): read as an international number (+86), \
         15 digits after the country code"
    );
    assert_eq!(
        msg("ID", "+999 1234 5678"),
        "whats_app_phone: written with +, but the digits after it do not start with a country \
         calling code"
    );
    assert_eq!(
        msg("ID", "+86 123 4567 8901"),
        "whats_app_phone: not a number in use for China (+86): read as an international \
         number (+86), 11 digits after the country code"
    );
    assert_eq!(
        msg("PH", "+63 2 1234"),
        "whats_app_phone: a local number without its area code for Philippines (+63): read as \
         an international number (+63), 5 digits after the country code"
    );
    assert_eq!(
        msg("CN", "00 999 1234 5678"),
        "whats_app_phone: read as dialled from China with an international prefix, but no \
         country calling code follows it"
    );
    // The value's own checks come first.
    assert_eq!(
        msg("ID", "0812-abc"),
        "whats_app_phone: must be digits (spaces, -, ., parentheses and one leading + are allowed)"
    );
}

#[test]
fn another_countrys_plus_code_keeps_its_country() {
    assert_eq!(
        norm("ID", "+86 181 6372 5558").as_deref(),
        Ok("8618163725558")
    );
    assert_eq!(
        norm("PH", "+62 812-3456-7801").as_deref(),
        Ok("6281234567801")
    );
    // +1 is shared: the number's own area code picks Canada, still +1.
    assert_eq!(norm("ID", "+1 604 555 0123").as_deref(), Ok("16045550123"));
}

#[test]
fn regions_from_codes_and_country_names() {
    for code in ["ID", "id", " cn ", "Ph"] {
        assert!(Region::from_code(code).is_some(), "{code}");
    }
    for bad in ["", "X", "XX", "IDN", "00", "Indonesia", "AQ"] {
        assert!(Region::from_code(bad).is_none(), "{bad}");
    }
    let id = |t: &str| Region::from_country(t).map(|r| r.id());
    assert_eq!(id("Indonesia"), Some("ID"));
    assert_eq!(id("indonesia "), Some("ID"));
    assert_eq!(id("IDN"), Some("ID"));
    assert_eq!(id("id"), Some("ID"));
    assert_eq!(id("Philippines"), Some("PH"));
    assert_eq!(id("The Philippines"), Some("PH"));
    assert_eq!(id("United States"), Some("US"));
    assert_eq!(id("USA"), Some("US"));
    assert_eq!(id("South Korea"), Some("KR"));
    assert_eq!(id("Viet Nam"), Some("VN"));
    assert_eq!(id("China"), Some("CN"));
    assert_eq!(id("India"), Some("IN"));
    assert_eq!(id("Brazil"), Some("BR"));
    for unknown in ["", "Atlantis", "360", "62", "Antarctica"] {
        assert_eq!(id(unknown), None, "{unknown}");
    }
    assert_eq!(region("PH").name(), "Philippines");
    assert_eq!(region("ID").name(), "Indonesia");
}

#[test]
fn row_region_prefers_a_known_country() {
    let p = Phones::new(Some(region("ID")), false);
    let mut seen = PhoneStats::default();
    assert_eq!(
        row_region(&p, Some("Philippines"), &mut seen),
        Some(region("PH"))
    );
    assert_eq!(
        row_region(&p, Some("Atlantis"), &mut seen),
        Some(region("ID"))
    );
    assert_eq!(row_region(&p, None, &mut seen), Some(region("ID")));
    // Without --phone-region, numbers are read as before whatever the country says.
    let none = Phones::new(None, false);
    let mut none_seen = PhoneStats::default();
    assert_eq!(row_region(&none, Some("CN"), &mut none_seen), None);
    assert_eq!(row_region(&none, None, &mut none_seen), None);
    let extras = [
        (Cow::Borrowed("amount"), Cell::Text("5")),
        (Cow::Borrowed("Country"), Cell::Text("India")),
    ];
    assert_eq!(p.extras_region(&extras, &mut seen), Some(region("IN")));
    for key in [
        "country", "COUNTRY", "Coun try", "国家", "Negara", "negara_",
    ] {
        assert!(is_country_key(key), "{key}");
    }
    for key in ["countries", "country code", "", "c"] {
        assert!(!is_country_key(key), "{key}");
    }
}

#[test]
fn without_a_region_digits_are_sent_as_before() {
    let p = Phones::new(None, false);
    let mut seen = PhoneStats::default();
    assert_eq!(
        p.normalise("sms_phone", "0812-3456-7801", 30, None, &mut seen)
            .as_deref(),
        Ok("081234567801")
    );
    p.note_row(None, &[Some("081234567801"), None], &mut seen);
    p.note_row(None, &[None, Some("6281234567802")], &mut seen);
    p.note_row(
        None,
        &[Some("0811"), Some("13800138003"), Some("8613800138003")],
        &mut seen,
    );
    p.note_row(Some(region("ID")), &[Some("0811"), None], &mut seen);
    let r = p.report(&seen);
    assert_eq!(r.not_international, 3);
    assert_eq!(
        r.national_warning().as_deref(),
        Some(
            "3 phone numbers are not valid international numbers as written (national, such as \
             0812…, or without a country code) and will be sent as given; give --phone-region \
             <CC> (e.g. --phone-region ID) to read them with that country's numbering plan"
        )
    );
    // Encrypted ids are not phone numbers.
    let enc = Phones::new(None, true);
    let mut enc_seen = PhoneStats::default();
    enc.note_row(None, &[Some("0811")], &mut enc_seen);
    assert_eq!(enc.report(&enc_seen).not_international, 0);
}

#[test]
fn international_validity_needs_a_code_and_a_valid_number() {
    for valid in [
        "6281234567801",
        "8613800138003",
        "639171234567",
        "14155552671",
    ] {
        assert!(is_valid_international(valid), "{valid}");
    }
    // National forms, a Chinese mobile without 86, a bare code, too short, unassigned code.
    for not in [
        "081234567801",
        "13800138003",
        "62",
        "6281",
        "",
        "0",
        "99912345678",
        "628123456780123456789",
    ] {
        assert!(!is_valid_international(not), "{not}");
    }
}

#[test]
fn examples_are_the_first_two_changed_values() {
    let p = Phones::new(Some(region("ID")), false);
    let mut seen = PhoneStats::default();
    let r = Some(region("ID"));
    for v in [
        "6281234567801",
        "0812-3456-7802",
        "+62 812 3456 7803",
        "0812 3456 7804",
    ] {
        p.normalise("whats_app_phone", v, 30, r, &mut seen).unwrap();
    }
    assert_eq!(
        p.report(&seen).examples,
        vec![
            ("0812-3456-7802".to_owned(), "6281234567802".to_owned()),
            ("+62 812 3456 7803".to_owned(), "6281234567803".to_owned()),
        ]
    );
}

#[test]
fn encrypted_ids_are_sent_as_given() {
    let p = Phones::new(Some(region("ID")), true);
    let mut seen = PhoneStats::default();
    let id = "a1B2+c3/D4=e5:F6,g7";
    assert_eq!(
        p.normalise("phoneNumber", id, 32, None, &mut seen)
            .as_deref(),
        Ok(id)
    );
    assert_eq!(row_region(&p, Some("CN"), &mut seen), None);
    assert_eq!(
        p.normalise("phoneNumber", &"x".repeat(32), 32, None, &mut seen)
            .map(|s| s.len()),
        Ok(32)
    );
    for bad in ["a b", " ab", "ab\t", "牛", "é1", "\u{7f}"] {
        let e = p
            .normalise("phoneNumber", bad, 32, None, &mut seen)
            .unwrap_err();
        assert_eq!(e.code, "invalid_phone", "{bad:?}");
        assert!(e.message.contains("printable ASCII"), "{}", e.message);
    }
    let e = p
        .normalise("phoneNumber", &"x".repeat(33), 32, None, &mut seen)
        .unwrap_err();
    assert_eq!(
        e.message,
        "phoneNumber: an encrypted id has at most 32 characters, this one has 33"
    );
}

#[test]
fn transform_rules_use_braced_groups() {
    assert_eq!(transform_rule("9$1"), "9${1}");
    assert_eq!(transform_rule("$15"), "${1}5");
    assert_eq!(transform_rule("268$1"), "268${1}");
}

#[test]
fn debug_output_holds_no_phone_number() {
    let p = Phones::new(Some(region("ID")), false);
    let mut seen = PhoneStats::default();
    p.normalise(
        "whats_app_phone",
        "0812-3456-7801",
        30,
        p.region(),
        &mut seen,
    )
    .unwrap();
    row_region(&p, Some("Philippines"), &mut seen);
    assert_eq!(
        format!("{p:?}"),
        "Phones { region: Some(Region(ID)), encrypted: false, country_field: false }"
    );
    // What reading saw shows its counts only, never a number or a country cell.
    assert_eq!(
        format!("{seen:?}"),
        "PhoneStats { not_international: 0, examples: 1, unknown_countries: 0, .. }"
    );
}

#[test]
fn every_region_of_the_metadata_compiles() {
    let ids: Vec<&str> = DATABASE
        .iter()
        .map(|m| m.id())
        .filter(|id| id.len() == 2)
        .collect();
    assert!(ids.len() > 200, "{}", ids.len());
    for id in ids {
        let r = Region::from_code(id).unwrap_or_else(|| panic!("{id}"));
        // Its own example numbers are valid, in national form.
        let meta = DATABASE.by_id(id).unwrap();
        for ex in [meta.descriptors().mobile(), meta.descriptors().fixed_line()]
            .into_iter()
            .flatten()
            .filter_map(|d| d.example())
        {
            let p = Phones::new(Some(r), false);
            let mut seen = PhoneStats::default();
            let got = p.normalise(
                "p",
                &format!("+{}{ex}", meta.country_code()),
                30,
                Some(r),
                &mut seen,
            );
            assert_eq!(got, Ok(format!("{}{ex}", meta.country_code())), "{id} {ex}");
        }
    }
}

#[test]
fn country_cells_are_codes_or_names_exactly() {
    for placeholder in [
        "N/A", "n/a", "NA", "na", "No", "-", "--", "?", "none", "NULL", "nil", "Unknown", "TBD",
        " #N/A ", "",
    ] {
        assert_eq!(
            read_country(placeholder),
            CountryCell::Placeholder,
            "{placeholder}"
        );
    }
    for unknown in [
        "Jawa Barat",
        "Indonesiaa",
        "ID1",
        "62",
        "I.D.",
        "UK",
        "Norw",
    ] {
        assert_eq!(read_country(unknown), CountryCell::Unknown, "{unknown}");
    }
    for (text, id) in [
        ("ID", "ID"),
        (" idn ", "ID"),
        ("NAM", "NA"),
        ("Norway", "NO"),
        ("NOR", "NO"),
        ("viet nam", "VN"),
    ] {
        assert_eq!(
            read_country(text),
            CountryCell::Known(Some(region(id))),
            "{text}"
        );
    }
}

#[test]
fn unknown_countries_are_counted_for_one_warning() {
    let p = Phones::new(Some(region("ID")), false);
    let mut seen = PhoneStats::default();
    assert_eq!(row_region(&p, Some("N/A"), &mut seen), Some(region("ID")));
    assert_eq!(row_region(&p, Some("Jawa"), &mut seen), Some(region("ID")));
    assert_eq!(row_region(&p, Some("Jawa"), &mut seen), Some(region("ID")));
    assert_eq!(row_region(&p, Some("Bali"), &mut seen), Some(region("ID")));
    let r = p.report(&seen);
    assert_eq!(r.unknown_countries, 3);
    assert_eq!(
        r.country_warning().as_deref(),
        Some(
            "3 rows have a country that is no ISO 3166 code or country name (write e.g. ID, \
             IDN or Indonesia): their phone numbers were read as numbers of Indonesia \
             (--phone-region)"
        )
    );
    // Counted without --phone-region too, and said for what becomes of the value.
    let none = Phones::new(None, false);
    let mut none_seen = PhoneStats::default();
    row_region(&none, Some("Jawa"), &mut none_seen);
    assert_eq!(
        none.report(&none_seen).country_warning().as_deref(),
        Some(
            "1 row has a country that is no ISO 3166 code or country name (write e.g. ID, IDN \
             or Indonesia): the property is sent as written"
        )
    );
    let nx = none.with_country_field();
    assert_eq!(
        nx.report(&none_seen).country_warning().as_deref(),
        Some(
            "1 row has a country that is no ISO 3166 code or country name (write e.g. ID, IDN \
             or Indonesia): the country field is left out of what is sent"
        )
    );
    let nx_id = p.with_country_field();
    assert_eq!(
        nx_id.report(&seen).country_warning().as_deref(),
        Some(
            "3 rows have a country that is no ISO 3166 code or country name (write e.g. ID, \
             IDN or Indonesia): the country field is left out of what is sent, and their phone \
             numbers were read as numbers of Indonesia (--phone-region)"
        )
    );
    let mut clean = PhoneStats::default();
    row_region(&none, Some("Indonesia"), &mut clean);
    row_region(&none, Some("n/a"), &mut clean);
    assert_eq!(none.report(&clean).country_warning(), None);
}

/// The table of numbering plans (`table.rs`) rendered from the `phonenumber` crate's metadata.
fn render_table() -> String {
    use std::fmt::Write as _;
    // Every entry: `iter` yields one per id, and the non-geographic entities share `001`.
    let mut metas: Vec<&phonenumber::Metadata> = (0..1000u16)
        .filter_map(|code| DATABASE.by_code(&code))
        .flatten()
        .collect();
    metas.sort_by_key(|m| (m.id().to_owned(), m.country_code()));
    let mut out = String::from(
        "//! Generated: libphonenumber's numbering plans as the `phonenumber` crate ships them, the\n\
         //! fields `NumberingPlan::compile` reads, one entry per region sorted by id and code. Kept\n\
         //! in the source so that no run deserialises the crate's whole database (tens of\n\
         //! milliseconds, megabytes);\n\
         //! the test `plan_table_is_the_crates_metadata` fails when they differ. To regenerate:\n\
         //! `CUSTIMPORT_WRITE_PLAN_TABLE=1 cargo test --lib plan_table_is_the_crates_metadata`.\n\n\
",
    );
    out.push_str(
        "use super::table_types::{TableDesc as D, TableRegion as R};\n\n#[rustfmt::skip]\n\
         pub(super) static REGIONS: &[R] = &[\n",
    );
    let opt = |s: Option<&str>| match s {
        Some(s) => format!("Some({s:?})"),
        None => "None".to_owned(),
    };
    for m in metas {
        let d = m.descriptors();
        let types: Vec<String> = [
            d.mobile(),
            d.fixed_line(),
            d.toll_free(),
            d.premium_rate(),
            d.shared_cost(),
            d.personal_number(),
            d.voip(),
            d.pager(),
            d.uan(),
            d.voicemail(),
        ]
        .into_iter()
        .flatten()
        .map(|t| {
            format!(
                "D {{ pattern: {:?}, lengths: &{:?}, local: &{:?} }}",
                t.national_number().as_str(),
                t.possible_length(),
                t.possible_local_length()
            )
        })
        .collect();
        let _ = writeln!(
            out,
            "R {{ id: {:?}, code: {}, main: {}, general: {:?}, types: &[{}], idd: {}, \
             prefix_for_parsing: {}, prefix: {}, transform: {}, leading: {} }},",
            m.id(),
            m.country_code(),
            m.is_main_country_for_code(),
            d.general().national_number().as_str(),
            types.join(", "),
            opt(m.international_prefix().map(|r| r.as_str())),
            opt(m.national_prefix_for_parsing().map(|r| r.as_str())),
            opt(m.national_prefix()),
            opt(m.national_prefix_transform_rule()),
            opt(m.leading_digits().map(|r| r.as_str())),
        );
    }
    out.push_str("];\n");
    out
}

#[test]
fn plan_table_is_the_crates_metadata() {
    let want = render_table();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/provider/phone/table.rs");
    if std::env::var_os("CUSTIMPORT_WRITE_PLAN_TABLE").is_some() {
        std::fs::write(path, &want).unwrap();
    }
    let have = std::fs::read_to_string(path).unwrap();
    assert!(
        have == want,
        "src/provider/phone/table.rs differs from the phonenumber crate's metadata; regenerate it \
         with CUSTIMPORT_WRITE_PLAN_TABLE=1 cargo test --lib plan_table_is_the_crates_metadata"
    );
}

#[test]
fn regions_of_a_code_are_the_crates_main_first_then_by_id() {
    for code in 1..1000u16 {
        let Some(metas) = DATABASE.by_code(&code) else {
            continue;
        };
        let mut ids: Vec<&str> = metas.iter().map(|m| m.id()).collect();
        if let Some((_, rest)) = ids.split_first_mut() {
            rest.sort_unstable();
        }
        let ours: Vec<&str> = regions(code).iter().map(|p| p.id).collect();
        assert_eq!(ours, ids, "code {code}");
    }
}

#[test]
fn every_pattern_of_the_table_compiles() {
    assert!(table::REGIONS.len() > 240, "{}", table::REGIONS.len());
    for (i, r) in table::REGIONS.iter().enumerate() {
        let p = plan_at(i).unwrap();
        let patterns = [
            Some(&p.general.pattern),
            p.idd.as_ref(),
            p.national_prefix.as_ref(),
        ]
        .into_iter()
        .chain([p.leading.as_ref()])
        .flatten()
        .chain(p.types.iter().map(|t| &t.pattern));
        for pattern in patterns {
            assert!(
                pattern.regex().is_some(),
                "{} +{}: {}",
                r.id,
                r.code,
                pattern.source
            );
        }
    }
}
