//! nxlink's whole-request refusal of an unknown seat (12148 with `strict_binding` off): the
//! seat's rows fail with the provider's word, without bisection; the other rows are sent again,
//! and later rows with that seat fail without being sent.

use serde_json::json;

use crate::env::{by_row, cell, TestEnv};

#[test]
fn an_unknown_seat_fails_only_its_rows_without_bisection() {
    let env = TestEnv::new();
    let mut csv = String::from("name,phone,seat\n");
    for i in 1..=300u32 {
        let seat = match i % 30 {
            0 => "ghost@elsewhere.test",
            15 => "phantom@elsewhere.test",
            _ => "agent@sandbox.test",
        };
        csv.push_str(&format!("N{i},6281{i:07},{seat}\n"));
    }
    let input = env.write("c.csv", csv);
    env.cmd("nxlink")
        .arg(&input)
        .args(["--concurrency", "1"])
        .assert()
        .code(1);
    let s = env.summary();
    assert_eq!(s["succeeded"], json!(280), "{s}");
    assert_eq!(s["failed"], json!(20), "{s}");
    assert_eq!(s["unknown"], json!(0), "{s}");
    // Batch 1 meets both seats (two refusals, then its good rows); batches 2 and 3 send their
    // good rows at once. Bisection would take about two requests a row.
    let requests = env.stats()["requests"].as_u64().unwrap();
    assert_eq!(requests, 5, "{}", env.stats());
    let failed = by_row(&env.csv_rows("failed.csv"), "custimport_row");
    assert_eq!(failed.len(), 20);
    for (row, r) in &failed {
        assert!(row % 15 == 0, "row {row}");
        assert_eq!(cell(r, "custimport_code"), "12148");
        let seat = cell(r, "seat").split('@').next().unwrap().to_owned();
        assert!(
            cell(r, "custimport_error").contains(&format!("seat {seat}")),
            "{r:?}"
        );
    }
    assert_eq!(env.held_nxlink().len(), 280);
}
