//! Unit tests of `report::dry_run`.
use super::*;

#[test]
fn names_of_any_length_are_cut_for_display() {
    let long = "é".repeat(70_000);
    let lines = vec![
        PlanLine {
            column: long.clone(),
            target: Some(format!("properties.{long}")),
            how: MatchedBy::Unmapped,
        },
        PlanLine {
            column: "phone".into(),
            target: Some("phoneNumber".into()),
            how: MatchedBy::Alias,
        },
        PlanLine {
            column: long,
            target: None,
            how: MatchedBy::Unmapped,
        },
    ];
    let text = render("a.csv", &lines, &Counts::default(), 100);
    let e = |n| "é".repeat(n);
    assert_eq!(
        text,
        format!(
            "Plan for a.csv:\n  \
             properties.{}… <- \"{}\"… (unmapped)\n  \
             phoneNumber{} <- \"phone\" (alias)\n  \
             not sent: \"{}\"…\n\
             Rows: 0 read, 0 valid, 0 rejected\n\
             Would send 0 request(s) of up to 100 rows.\n",
            e(49),
            e(60),
            // Aligned to at most MAX_ALIGN characters.
            " ".repeat(MAX_ALIGN - "phoneNumber".len()),
            e(60)
        )
    );
}

#[test]
fn phone_section() {
    let mut r = PhoneReport {
        region: Some(("ID".into(), "Indonesia".into())),
        examples: vec![
            ("0812-3456-7801".into(), "6281234567801".into()),
            ("+62 812 3456 7802".into(), "6281234567802".into()),
        ],
        ..Default::default()
    };
    assert_eq!(
        phones(&r, false),
        "Phones: read as numbers of Indonesia (ID) unless a row's country names another \
         region; sent as E.164 digits\n  \
         \"0812-3456-7801\" -> 6281234567801\n  \
         \"+62 812 3456 7802\" -> 6281234567802\n"
    );
    assert!(phones(&r, true).contains("\"**********7801\" -> *********7801\n"));
    r.region = None;
    r.examples.clear();
    assert_eq!(phones(&r, false), "");
    r.not_international = 1;
    assert_eq!(
        phones(&r, false),
        "Phones: 1 phone number is not a valid international number as written (national, \
         such as 0812…, or without a country code) and will be sent as given; give \
         --phone-region <CC> (e.g. --phone-region ID) to read it with that country's \
         numbering plan\n"
    );
}

#[test]
fn renders_mapping_rejections_and_requests() {
    let lines = vec![
        PlanLine {
            column: "Full Name".into(),
            target: Some("full_name".into()),
            how: MatchedBy::Exact,
        },
        PlanLine {
            column: "手机".into(),
            target: Some("whats_app_phone".into()),
            how: MatchedBy::Alias,
        },
        PlanLine {
            column: "Notes".into(),
            target: None,
            how: MatchedBy::Unmapped,
        },
        PlanLine {
            column: "custimport_row".into(),
            target: None,
            how: MatchedBy::Reserved,
        },
    ];
    let mut counts = Counts {
        total: 12,
        valid: 9,
        rejected: 3,
        planned_requests: 1,
        ..Default::default()
    };
    counts
        .rejections
        .insert("invalid_phone".into(), (2, vec![4, 7]));
    counts
        .rejections
        .insert("no_contact".into(), (7, vec![1, 2, 3, 5, 6]));
    let text = render("a.csv", &lines, &counts, 100);
    assert_eq!(
        text,
        "Plan for a.csv:\n  \
         full_name       <- \"Full Name\" (exact name)\n  \
         whats_app_phone <- \"手机\" (alias)\n  \
         not sent: \"Notes\", \"custimport_row\" (custimport column)\n\
         Rows: 12 read, 9 valid, 3 rejected\n  \
         invalid_phone              2  (rows 4, 7)\n  \
         no_contact                 7  (rows 1, 2, 3, 5, 6, ...)\n\
         Would send 1 request(s) of up to 100 rows.\n"
    );
}
