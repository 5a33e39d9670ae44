//! Unit tests of `pipeline::budget`.
use super::*;

fn failed() -> Outcome {
    Outcome::Failed {
        code: "x".into(),
        message: String::new(),
    }
}

#[test]
fn counts_and_percent() {
    let b = Budget::new(Some(MaxFailures::Count(2)));
    assert_eq!(b.record(&[failed(), failed(), Outcome::Pending]), None);
    assert!(b.record(&[failed()]).is_some_and(|m| m.contains("3 of 3")));
    let none = Budget::new(None);
    assert_eq!(none.record(&vec![failed(); 10]), None);
    let pct = Budget::new(Some(MaxFailures::Percent(10.0)));
    let ok = Outcome::Succeeded {
        id: None,
        already_present: false,
    };
    // Below the sample size nothing is judged, even at 100 %.
    assert_eq!(pct.record(&vec![failed(); 50]), None);
    assert!(pct.record(&vec![ok; 50]).is_some());
}
