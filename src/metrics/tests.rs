//! Unit tests of `metrics`.
use super::*;
use openmetrics_parser::{prometheus::parse_prometheus, PrometheusValue};

fn run(exit_code: i32, profile: Option<&str>) -> RunMetrics<'_> {
    RunMetrics {
        provider: "nxlink",
        profile,
        rows: [7, 2, 1, 0, 0, 0],
        requests: 3,
        retries: 1,
        duration_secs: 1.25,
        exit_code,
        ended: 1_718_000_000.5,
    }
}

fn value(text: &str, family: &str, label: (&str, &str)) -> f64 {
    let set = parse_prometheus(text).unwrap_or_else(|e| panic!("{e:?}\n{text}"));
    let fam = &set.families[family];
    let sample = fam
        .iter_samples()
        .find(|s| {
            s.get_labelset()
                .is_ok_and(|l| l.get_label_value(label.0) == Some(label.1))
        })
        .unwrap_or_else(|| panic!("no {family} with {label:?}"));
    match &sample.value {
        PrometheusValue::Gauge(g) => g.as_f64(),
        other => panic!("{family} is not a gauge: {other:?}"),
    }
}

#[test]
fn a_strict_parser_reads_every_family_and_escaped_labels() {
    let profile = "night \"batch\"\\1\nb";
    let text = run(1, Some(profile)).render(Some(17.0));
    assert_eq!(
        value(&text, "custimport_rows", ("outcome", "rejected")),
        2.0
    );
    assert_eq!(
        value(
            &text,
            "custimport_last_success_timestamp_seconds",
            ("profile", profile)
        ),
        17.0
    );
    assert_eq!(
        value(
            &text,
            "custimport_run_duration_seconds",
            ("provider", "nxlink")
        ),
        1.25
    );
}

#[test]
fn last_success_is_this_run_on_exit_0_else_the_previous_files() {
    let ok = run(0, None).render(Some(5.0));
    assert!(
        ok.contains(
            "custimport_last_success_timestamp_seconds{provider=\"nxlink\"} 1718000000.5\n"
        ),
        "{ok}"
    );
    let labels = run(1, None).labels();
    assert_eq!(previous_success(&ok, &labels), Some(1_718_000_000.5));
    let bad = run(1, None).render(previous_success(&ok, &labels));
    assert_eq!(previous_success(&bad, &labels), Some(1_718_000_000.5));
    // Another profile's value is not this one's.
    assert_eq!(previous_success(&ok, &run(1, Some("p")).labels()), None);
    assert!(run(1, None)
        .render(None)
        .contains("custimport_last_success_timestamp_seconds{provider=\"nxlink\"} 0\n"));
}
