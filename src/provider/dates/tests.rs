//! Unit tests of `provider::dates`.
use super::*;

#[test]
fn refused_dates_that_read_another_way_are_counted() {
    let d = Dates::new(DateOrder::Ymd);
    let mut seen = DateStats::default();
    assert_eq!(d.hint(&seen), None);
    assert_eq!(
        d.birthday("b", "1990-05-17", &mut seen).unwrap(),
        "1990-05-17"
    );
    let e = d.birthday("b", "17/05/1990", &mut seen).unwrap_err();
    assert!(e.message.contains("give --date-order dmy"), "{}", e.message);
    assert!(d.birthday("b", "31/12/1990", &mut seen).is_err());
    assert!(d.birthday("b", "12/31/1990", &mut seen).is_err());
    assert!(d.birthday("b", "31/31/1990", &mut seen).is_err());
    assert_eq!(
        d.hint(&seen).as_deref(),
        Some(
            "2 birthdays refused as year-first (yyyy-M-d) read day-first (d/M/yyyy): \
             give --date-order dmy"
        )
    );
    assert!(d.birthday("b", "12/31/1990", &mut seen).is_err());
    assert!(d.birthday("b", "12/30/1990", &mut seen).is_err());
    // The order most values read in is named.
    assert!(d.hint(&seen).unwrap().ends_with("--date-order mdy"));
    // Counts live in what reading saw, not in the settings.
    assert_eq!(d.hint(&DateStats::default()), None);
}
