//! Phone numbers end to end: `--phone-region`, the country column, the national-number warning,
//! the dry-run plan's examples and itnio's encrypted ids, against a sandbox that checks (with
//! its own code) that WhatsApp/Viber numbers and itnio phone numbers arrive as E.164 digits.

use std::collections::BTreeMap;

use custimport_sandbox::SandboxConfig;
use serde_json::Value;

use crate::env::{by_row, cell, TestEnv};

fn strict() -> TestEnv {
    TestEnv::with(SandboxConfig {
        strict_phones: true,
        ..Default::default()
    })
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// What the sandbox holds, by full name: the WhatsApp, SMS and Viber numbers.
fn held_phones(env: &TestEnv) -> BTreeMap<String, (String, String, String)> {
    let s = |v: &Value, k: &str| v[k].as_str().unwrap_or_default().to_owned();
    env.held_nxlink()
        .into_iter()
        .map(|c| {
            (
                s(&c, "full_name"),
                (
                    s(&c, "whats_app_phone"),
                    s(&c, "sms_phone"),
                    s(&c, "viber_phone"),
                ),
            )
        })
        .collect()
}

const ID_ROWS: &str = "name,whatsapp,sms,viber\n\
    Budi,0812-3456-7801,(021) 8350123,\n\
    Siti,+62 812 3456 7802,,0812 3456 7812\n\
    Agus,(0812) 3456-7804,,\n\
    Dewi,812 3456 7806,,\n\
    Wang,+86 181 6372 5558,,\n\
    Short,0812,,\n\
    Bare,6281234567807,,\n";

#[test]
fn phone_region_sends_e164_digits() {
    let env = strict();
    let input = env.write("id.csv", ID_ROWS);
    let out = env
        .cmd("nxlink")
        .args(["--phone-region", "ID"])
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let p = |w: &str, s: &str, v: &str| (w.to_owned(), s.to_owned(), v.to_owned());
    let want: BTreeMap<String, _> = [
        ("Agus", p("6281234567804", "", "")),
        ("Bare", p("6281234567807", "", "")),
        ("Budi", p("6281234567801", "62218350123", "")),
        ("Dewi", p("6281234567806", "", "")),
        ("Siti", p("6281234567802", "", "6281234567812")),
        ("Wang", p("8618163725558", "", "")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(held_phones(&env), want);
    // success.csv shows the numbers as sent.
    let success = by_row(&env.csv_rows("success.csv"), "row");
    assert_eq!(cell(&success[&1], "whats_app_phone"), "6281234567801");
    assert_eq!(cell(&success[&5], "whats_app_phone"), "8618163725558");
    let failed = by_row(&env.csv_rows("failed.csv"), "custimport_row");
    assert_eq!(failed.keys().copied().collect::<Vec<_>>(), vec![6]);
    assert_eq!(cell(&failed[&6], "custimport_code"), "invalid_phone");
    assert_eq!(
        cell(&failed[&6], "custimport_error"),
        "line 7: whats_app_phone: too short for Indonesia (+62): read as a national number of 4 digits"
    );
    // The failure report keeps the number as written.
    assert_eq!(cell(&failed[&6], "whatsapp"), "0812");
    // With a region there is no national-number warning.
    assert!(
        !stderr(&out).contains("not valid international"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_same_region_from_the_config_file_and_an_unknown_one_is_a_usage_error() {
    let env = strict();
    let input = env.write("id.csv", "name,phone\nBudi,0812-3456-7801\n");
    env.write("custimport.toml", "[nxlink]\nphone_region = \"id\"\n");
    env.cmd("nxlink").arg(&input).assert().code(0);
    assert_eq!(
        held_phones(&env)["Budi"].0,
        "6281234567801",
        "phone_region in [nxlink]"
    );
    let out = env
        .cmd("nxlink")
        .args(["--phone-region", "XX"])
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out).trim_end(),
        "error: --phone-region: \"XX\" is not an ISO 3166-1 alpha-2 or alpha-3 region with a telephone numbering plan (e.g. ID or IDN, CN, PH, IN)"
    );
}

#[test]
fn a_country_column_sets_the_region_of_its_row() {
    let env = strict();
    let input = env.write(
        "c.csv",
        "name,whatsapp,country\n\
         Ana,0917 123 4567,Philippines\n\
         Li,181 6372 5558,CN\n\
         Raj,098765 43210,India\n\
         Budi,0812-3456-7801,Atlantis\n\
         Dewi,0812-3456-7802,\n\
         Sam,(201) 555-0123,United States\n",
    );
    env.cmd("nxlink")
        .args(["--phone-region", "ID"])
        .arg(&input)
        .assert()
        .code(0);
    let held = held_phones(&env);
    let wa: Vec<(&str, &str)> = held
        .iter()
        .map(|(k, v)| (k.as_str(), v.0.as_str()))
        .collect();
    assert_eq!(
        wa,
        vec![
            ("Ana", "639171234567"),
            ("Budi", "6281234567801"),
            ("Dewi", "6281234567802"),
            ("Li", "8618163725558"),
            ("Raj", "919876543210"),
            ("Sam", "12015550123"),
        ]
    );
    // A country is sent to nxlink as written; Atlantis, no country, is left out.
    let mut countries: Vec<String> = env
        .held_nxlink()
        .iter()
        .filter_map(|c| c["country"].as_str().map(str::to_owned))
        .collect();
    countries.sort();
    assert_eq!(countries, ["CN", "India", "Philippines", "United States"]);
}

#[test]
fn without_a_region_national_whatsapp_numbers_are_sent_as_before_with_one_warning() {
    let env = TestEnv::new();
    let input = env.write(
        "n.csv",
        "name,whatsapp,viber,sms\n\
         A,0812-3456-7801,,\n\
         B,6281234567802,0812 3456 7812,\n\
         C,6281234567803,,0812 3456 7813\n\
         D,(0812) 3456-7804,0812 3456 7814,\n",
    );
    let out = env.cmd("nxlink").arg(&input).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    // Five numbers (WhatsApp, Viber and SMS alike) are national; 62812… ones are valid.
    let warning = format!(
        "warning: {}: 5 phone numbers are not valid international numbers as written (national, \
         such as 0812…, or without a country code) and will be sent as given; give \
         --phone-region <CC> (e.g. --phone-region ID) to read them with that country's \
         numbering plan\n",
        input.display()
    );
    assert_eq!(err.matches(&warning).count(), 1, "{err}");
    assert_eq!(err.matches("not valid international").count(), 1, "{err}");
    assert_eq!(held_phones(&env)["A"].0, "081234567801");
    assert_eq!(held_phones(&env)["C"].1, "081234567813");
    // --quiet says nothing.
    let quiet = env
        .cmd("nxlink")
        .arg("--quiet")
        .arg(&input)
        .output()
        .unwrap();
    assert!(!stderr(&quiet).contains("not valid international"));
}

#[test]
fn dry_run_plan_shows_two_examples_or_the_warning() {
    let env = TestEnv::new();
    let input = env.write("id.csv", ID_ROWS);
    let out = env
        .cmd("nxlink")
        .args(["--dry-run", "--phone-region", "ID"])
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(
            "Would send 1 request(s) of up to 100 rows.\n\
             Phones: read as numbers of Indonesia (ID) unless a row's country names another \
             region; sent as E.164 digits\n  \
             \"(021) 8350123\" -> 62218350123\n  \
             \"0812-3456-7801\" -> 6281234567801\n"
        ),
        "{err}"
    );
    assert!(!err.contains("not valid international"), "{err}");
    // Without the flag: the plan says it instead of a separate warning.
    std::fs::remove_dir_all(env.out()).unwrap();
    let out = env
        .cmd("nxlink")
        .arg("--dry-run")
        .arg(&input)
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(
        err.contains(
            "Would send 1 request(s) of up to 100 rows.\n\
             Phones: 5 phone numbers are not valid international numbers as written (national, \
             such as 0812…, or without a country code) and will be sent as given; give \
             --phone-region <CC> (e.g. --phone-region ID) to read them with that country's \
             numbering plan\n"
        ),
        "{err}"
    );
    assert_eq!(err.matches("not valid international").count(), 1, "{err}");
    assert!(env.held_nxlink().is_empty());
}

fn itnio_held(env: &TestEnv, job: u64) -> BTreeMap<String, Value> {
    env.held_itnio(job)
        .into_iter()
        .map(|p| (p["phoneNumber"].as_str().unwrap_or_default().to_owned(), p))
        .collect()
}

#[test]
fn itnio_reads_its_country_property_and_finds_duplicates_by_the_normalised_number() {
    let env = strict();
    let input = env.write(
        "l.csv",
        "name,phone,Negara,amount\n\
         Budi,0812-3456-7801,,1\n\
         Budi again,+62 812 3456 7801,Indonesia,2\n\
         Ana,0917 123 4567,Philippines,3\n\
         Li,181 6372 5558,CN,4\n",
    );
    let out = env
        .cmd("itnio")
        .args(["--job", "9", "--phone-region", "ID"])
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let held = itnio_held(&env, 9);
    assert_eq!(
        held.keys().map(String::as_str).collect::<Vec<_>>(),
        vec!["6281234567801", "639171234567", "8618163725558"]
    );
    // The country column stays a property.
    assert_eq!(
        held["639171234567"]["properties"],
        serde_json::json!({"Negara": "Philippines", "amount": "3"})
    );
    let failed = by_row(&env.csv_rows("failed.csv"), "custimport_row");
    assert_eq!(failed.keys().copied().collect::<Vec<_>>(), vec![2]);
    assert_eq!(cell(&failed[&2], "custimport_code"), "duplicate_in_file");
    assert!(cell(&failed[&2], "custimport_error").contains("row 1"));
    let success = by_row(&env.csv_rows("success.csv"), "row");
    assert_eq!(cell(&success[&1], "phone_number"), "6281234567801");
}

#[test]
fn itnio_encrypted_ids_are_sent_as_given() {
    let env = strict();
    let input = env.write(
        "e.csv",
        "name,phone\n\
         A,Zk3+9/AbCdEfGh==\n\
         B,0812-3456-7801\n\
         C,has space\n\
         D,Zk3+9/AbCdEfGh==\n\
         E,abcdefghijklmnopqrstuvwxyz0123456\n\
         F,'=Xy_12\n",
    );
    let out = env
        .cmd("itnio")
        .args(["--job", "9", "--encrypted-phones", "--phone-region", "ID"])
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let held = itnio_held(&env, 9);
    assert_eq!(
        held.keys().map(String::as_str).collect::<Vec<_>>(),
        vec!["0812-3456-7801", "=Xy_12", "Zk3+9/AbCdEfGh=="]
    );
    let failed = by_row(&env.csv_rows("failed.csv"), "custimport_row");
    let codes: Vec<(u64, &str)> = failed
        .iter()
        .map(|(r, row)| (*r, cell(row, "custimport_code")))
        .collect();
    assert_eq!(
        codes,
        vec![
            (3, "invalid_phone"),
            (4, "duplicate_in_file"),
            (5, "invalid_phone")
        ]
    );
    assert_eq!(
        cell(&failed[&5], "custimport_error"),
        "line 6: phoneNumber: an encrypted id has at most 32 characters, this one has 33"
    );
    let success = by_row(&env.csv_rows("success.csv"), "row");
    assert_eq!(cell(&success[&1], "phone_number"), "Zk3+9/AbCdEfGh==");

    // Sent again, the provider names each id in its answer: attributed to its row, verbatim.
    std::fs::remove_dir_all(env.out()).unwrap();
    let out = env
        .cmd("itnio")
        .args(["--job", "9"])
        .arg("--encrypted-phones")
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let summary = env.summary();
    assert_eq!(summary["unknown"], 0, "{summary}");
    assert_eq!(summary["unattributed"], 0, "{summary}");
    let failed = by_row(&env.csv_rows("failed.csv"), "custimport_row");
    assert_eq!(cell(&failed[&1], "custimport_outcome"), "failed");
    assert!(
        cell(&failed[&1], "custimport_error").contains("already exists"),
        "{:?}",
        failed[&1]
    );
}

#[test]
fn the_strict_sandbox_refuses_national_whatsapp_numbers_per_row() {
    let env = strict();
    let input = env.write(
        "n.csv",
        "name,whatsapp,sms\nA,0812-3456-7801,\nB,6281234567802,0812 3456 7812\n",
    );
    env.cmd("nxlink").arg(&input).assert().code(1);
    let failed = by_row(&env.csv_rows("failed.csv"), "custimport_row");
    assert_eq!(failed.keys().copied().collect::<Vec<_>>(), vec![1]);
    assert_eq!(cell(&failed[&1], "custimport_outcome"), "failed");
    assert_eq!(cell(&failed[&1], "custimport_code"), "1002");
    assert_eq!(
        cell(&failed[&1], "custimport_error"),
        "whats_app_phone: not a valid international number (country code and number, digits only)"
    );
    // SMS numbers may be national (nxlink's own example writes them so).
    assert_eq!(held_phones(&env)["B"].1, "081234567812");
}
