//! Regional exports end to end: title lines above the header (`--header-row` and the stop that
//! names it), day-first birthdays (`--date-order` and the hint that names it), the region's
//! gender words, the national-number warning of both providers, alpha-3 regions and `--map`
//! columns matched like automatic matching; what the sandbox holds is checked exactly.

use std::collections::BTreeMap;

use custimport_sandbox::SandboxConfig;
use serde_json::{json, Value};

use crate::env::{by_row, cell, TestEnv};

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A sandbox that refuses WhatsApp numbers not in E.164 form.
fn strict() -> TestEnv {
    TestEnv::with(SandboxConfig {
        strict_phones: true,
        ..Default::default()
    })
}

/// An Indonesian CRM export: a title line, a print date, a blank line, then the header.
/// Siti's birthday does not exist (31 February).
const EXPORT: &str = "Laporan Pelanggan PT Maju Jaya\n\
    Dicetak: 07/12/2026 09:15\n\
    \n\
    Nama,No HP,Jenis Kelamin,Tanggal Lahir\n\
    Budi Santoso,0812-3456-7801,L,17/05/1990\n\
    Siti Aminah,0812 3456 7802,P,31/02/1985\n\
    Dewi Lestari,081234567803,p,1/2/1988\n";

/// What the sandbox holds, by full name, without the ids it adds.
fn held(env: &TestEnv) -> BTreeMap<String, Value> {
    env.held_nxlink()
        .into_iter()
        .map(|mut c| {
            if let Some(o) = c.as_object_mut() {
                o.remove("customerId");
                o.remove("tenant_id");
            }
            (c["full_name"].as_str().unwrap_or_default().to_owned(), c)
        })
        .collect()
}

#[test]
fn an_indonesian_export_imports_with_header_row_date_order_and_region() {
    let env = strict();
    let input = env.write("pelanggan.csv", EXPORT);
    let out = env
        .cmd("nxlink")
        .args([
            "--header-row",
            "3",
            "--date-order",
            "dmy",
            "--phone-region",
            "ID",
        ])
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let held = held(&env);
    assert_eq!(held.len(), 2, "{held:?}");
    assert_eq!(
        held["Budi Santoso"],
        json!({"full_name": "Budi Santoso", "whats_app_phone": "6281234567801",
               "birthday": "1990-05-17", "gender": 1})
    );
    assert_eq!(
        held["Dewi Lestari"],
        json!({"full_name": "Dewi Lestari", "whats_app_phone": "6281234567803",
               "birthday": "1988-02-01", "gender": 0})
    );
    // Data records are numbered from 1 below the header; messages give the file's line.
    let success = by_row(&env.csv_rows("success.csv"), "row");
    assert_eq!(success.keys().copied().collect::<Vec<_>>(), vec![1, 3]);
    let failed = by_row(&env.csv_rows("failed.csv"), "custimport_row");
    assert_eq!(failed.keys().copied().collect::<Vec<_>>(), vec![2]);
    assert_eq!(cell(&failed[&2], "custimport_code"), "invalid_birthday");
    assert_eq!(
        cell(&failed[&2], "custimport_error"),
        "line 6: birthday: expected a real date as d/M/yyyy (or d-M-yyyy, d.M.yyyy) or yyyy-MM-dd"
    );
    // The failure report starts at the header: fixed, it imports as is.
    let report = env.read("failed.csv");
    assert!(
        report.starts_with("Nama,No HP,Jenis Kelamin,Tanggal Lahir,custimport_row,"),
        "{report}"
    );
}

#[test]
fn without_header_row_the_run_stops_naming_it() {
    let env = TestEnv::new();
    let input = env.write("pelanggan.csv", EXPORT);
    for provider in ["nxlink", "itnio"] {
        let mut cmd = env.cmd(provider);
        if provider == "itnio" {
            cmd.args(["--job", "7"]);
        }
        let out = cmd.arg(&input).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        let (required, fields) = match provider {
            "nxlink" => ("full_name", "full_name, whats_app_phone, birthday, gender"),
            _ => ("phoneNumber", "name, phoneNumber, gender"),
        };
        assert_eq!(
            stderr(&out),
            format!(
                "error: {}: the first line is not the header (no column of it maps to \
                 {required}), but line 4 (non-blank line 3) maps {fields}: give --header-row 3\n",
                input.display()
            )
        );
    }
    assert!(env.held_nxlink().is_empty());
    assert!(env.held_itnio(7).is_empty());
    assert!(!env.out().exists());
    // A header that maps nothing required, with no header below it, is read as before.
    let plain = env.write("plain.csv", "Catatan,Kota\nhalo,Bandung\n");
    let out = env.cmd("nxlink").arg(&plain).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("no column maps to full_name"));
}

#[test]
fn header_row_and_date_order_come_from_the_config_file() {
    let env = strict();
    let input = env.write("pelanggan.csv", EXPORT);
    env.write(
        "custimport.toml",
        "[nxlink]\nheader_row = 3\ndate_order = \"dmy\"\nphone_region = \"IDN\"\n",
    );
    let out = env.cmd("nxlink").arg(&input).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(held(&env)["Budi Santoso"]["birthday"], "1990-05-17");
    assert_eq!(
        held(&env)["Budi Santoso"]["whats_app_phone"],
        "6281234567801"
    );
    // The flag wins over the file; a bad value in the file is a usage error.
    std::fs::remove_dir_all(env.out()).unwrap();
    let out = env
        .cmd("nxlink")
        .args(["--header-row", "1"])
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("no column maps to full_name"));
    env.write("custimport.toml", "[nxlink]\ndate_order = \"ydm\"\n");
    let out = env.cmd("nxlink").arg(&input).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error: date_order in the config file: give \"ymd\", \"dmy\" or \"mdy\"\n"
    );
    let out = env
        .cmd("nxlink")
        .args(["--header-row", "0"])
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_header_row_past_the_end_is_a_usage_error() {
    let env = TestEnv::new();
    let input = env.write("short.csv", "Judul\n\nNama,No HP\n");
    let out = env
        .cmd("nxlink")
        .args(["--header-row", "5"])
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        format!(
            "error: --header-row 5: {} has only 2 non-blank lines\n",
            input.display()
        )
    );
}

#[test]
fn without_date_order_the_message_and_the_plan_name_it() {
    let env = strict();
    let input = env.write("pelanggan.csv", EXPORT);
    let out = env
        .cmd("nxlink")
        .args(["--header-row", "3", "--phone-region", "ID"])
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(env.held_nxlink().is_empty());
    let failed = by_row(&env.csv_rows("failed.csv"), "custimport_row");
    assert_eq!(
        cell(&failed[&1], "custimport_error"),
        "line 5: birthday: expected a real date as yyyy-MM-dd (or yyyy/M/d, yyyy.M.d); it reads \
         day-first (d/M/yyyy): give --date-order dmy"
    );
    // 31/02 reads in no order: no hint.
    assert_eq!(
        cell(&failed[&2], "custimport_error"),
        "line 6: birthday: expected a real date as yyyy-MM-dd (or yyyy/M/d, yyyy.M.d)"
    );
    let hint = "2 birthdays refused as year-first (yyyy-M-d) read day-first (d/M/yyyy): give \
                --date-order dmy";
    let err = stderr(&out);
    assert_eq!(
        err.matches(&format!("warning: {}: {hint}\n", input.display()))
            .count(),
        1,
        "{err}"
    );
    std::fs::remove_dir_all(env.out()).unwrap();
    let out = env
        .cmd("nxlink")
        .args(["--header-row", "3", "--dry-run"])
        .arg(&input)
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "Would send 0 request(s) of up to 100 rows.\nBirthdays: {hint}\n"
        )),
        "{err}"
    );
    // Month-first dates name mdy.
    let us = env.write(
        "us.csv",
        "name,phone,birthday\nAnn,14155552671,12/31/1990\n",
    );
    std::fs::remove_dir_all(env.out()).unwrap();
    let out = env.cmd("nxlink").arg(&us).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("it reads month-first (M/d/yyyy): give --date-order mdy"));
    std::fs::remove_dir_all(env.out()).unwrap();
    let out = env
        .cmd("nxlink")
        .args(["--date-order", "mdy"])
        .arg(&us)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(held(&env)["Ann"]["birthday"], "1990-12-31");
}

/// Every gender word of the README's table, with the value it must arrive as.
const WORDS: [(&str, u8); 26] = [
    ("L", 1),
    ("p", 0),
    ("Laki-laki", 1),
    ("PEREMPUAN", 0),
    ("pria", 1),
    ("Wanita", 0),
    ("Lelaki", 1),
    ("lalaki", 1),
    ("Babae", 0),
    ("Nam", 1),
    ("nữ", 0),
    ("NỮ", 0),
    ("ชาย", 1),
    ("หญิง", 0),
    ("男性", 1),
    ("女性", 0),
    ("先生", 1),
    ("女士", 0),
    ("male", 1),
    ("FEMALE", 0),
    ("m", 1),
    ("F", 0),
    ("男", 1),
    ("女", 0),
    ("1", 1),
    ("0", 0),
];

#[test]
fn each_gender_word_arrives_as_its_gender_for_both_providers() {
    let env = TestEnv::new();
    let mut csv = String::from("name,phone,gender\n");
    for (i, (word, _)) in WORDS.iter().enumerate() {
        csv.push_str(&format!("P{i},62812345678{i:02}, {word} \n"));
    }
    csv.push_str("Bad,6281234567899,laki\n");
    let input = env.write("g.csv", &csv);
    let out = env.cmd("nxlink").arg(&input).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let held = held(&env);
    for (i, (word, want)) in WORDS.iter().enumerate() {
        assert_eq!(held[&format!("P{i}")]["gender"], json!(want), "{word}");
    }
    let failed = by_row(&env.csv_rows("failed.csv"), "custimport_row");
    assert_eq!(failed.keys().copied().collect::<Vec<_>>(), vec![27]);
    assert_eq!(cell(&failed[&27], "custimport_code"), "invalid_gender");

    std::fs::remove_dir_all(env.out()).unwrap();
    let out = env
        .cmd("itnio")
        .args(["--job", "3"])
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let by_name: BTreeMap<String, Value> = env
        .held_itnio(3)
        .into_iter()
        .map(|p| (p["name"].as_str().unwrap_or_default().to_owned(), p))
        .collect();
    for (i, (word, want)) in WORDS.iter().enumerate() {
        let gender = if *want == 1 { "MALE" } else { "FEMALE" };
        assert_eq!(by_name[&format!("P{i}")]["gender"], gender, "{word}");
    }
}

#[test]
fn national_numbers_are_warned_about_for_itnio_and_chinese_mobiles() {
    let env = TestEnv::new();
    let leads = env.write(
        "leads.csv",
        "name,phone\nA,081234567805\nB,6281234567806\nC,+62 812 3456 7807\n",
    );
    let out = env
        .cmd("itnio")
        .args(["--job", "5"])
        .arg(&leads)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stderr(&out).lines().next().unwrap_or_default(),
        format!(
            "warning: {}: 1 phone number is not a valid international number as written \
             (national, such as 0812…, or without a country code) and will be sent as given; \
             give --phone-region <CC> (e.g. --phone-region ID) to read it with that country's \
             numbering plan",
            leads.display()
        )
    );
    // Sent as given without a region.
    assert!(env
        .held_itnio(5)
        .iter()
        .any(|p| p["phoneNumber"] == "081234567805"));

    // Chinese mobiles without 86 have no leading 0 and are counted all the same.
    let cn = env.write(
        "cn.csv",
        "姓名,手机\n王伟,13800138003\n李娜,13912345678\n张敏,8613800138005\n",
    );
    std::fs::remove_dir_all(env.out()).unwrap();
    let out = env.cmd("nxlink").arg(&cn).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(": 2 phone numbers are not valid international numbers"),
        "{}",
        stderr(&out)
    );
    // With the region, they go out with 86 and nothing is said.
    std::fs::remove_dir_all(env.out()).unwrap();
    let out = env
        .cmd("nxlink")
        .args(["--phone-region", "CHN"])
        .arg(&cn)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
    assert_eq!(held(&env)["王伟"]["whats_app_phone"], "8613800138003");
}

#[test]
fn phone_region_takes_alpha_3_codes() {
    let env = strict();
    let input = env.write("id.csv", "name,phone\nBudi,0812-3456-7801\n");
    for code in ["IDN", "idn", "ID"] {
        let out = env
            .cmd("nxlink")
            .args(["--phone-region", code])
            .arg(&input)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{code}: {}", stderr(&out));
        std::fs::remove_dir_all(env.out()).unwrap();
    }
    assert_eq!(held(&env)["Budi"]["whats_app_phone"], "6281234567801");
    let out = env
        .cmd("nxlink")
        .args(["--phone-region", "XYZ"])
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("\"XYZ\" is not an ISO 3166-1 alpha-2 or alpha-3 region"));
}

#[test]
fn map_finds_a_column_whatever_its_case_and_names_the_closest() {
    let env = TestEnv::new();
    let input = env.write(
        "lv.csv",
        "Name,Phone,Level,Seat Owner\nBudi,6281234567801,3,\n",
    );
    let out = env
        .cmd("nxlink")
        .args(["--map", "weight=level"])
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(held(&env)["Budi"]["weight"], 3);
    let out = env
        .cmd("nxlink")
        .args(["--map", "weight=lvl"])
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error: --map weight=lvl: the input has no column \"lvl\"; closest: \"Level\"; its \
         columns are: \"Name\", \"Phone\", \"Level\", \"Seat Owner\"\n"
    );
}

#[test]
fn a_sheet_with_title_rows_takes_header_row_as_its_row_number() {
    use rust_xlsxwriter::Workbook;
    let env = strict();
    let input = env.path("pelanggan.xlsx");
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "Laporan Pelanggan").unwrap();
    // Row 2 is empty; the header is row 3.
    for (c, h) in ["Nama", "No HP", "Jenis Kelamin", "Tanggal Lahir"]
        .iter()
        .enumerate()
    {
        ws.write_string(2, c as u16, *h).unwrap();
    }
    for (c, v) in ["Budi", "081234567801", "L", "17/05/1990"]
        .iter()
        .enumerate()
    {
        ws.write_string(3, c as u16, *v).unwrap();
    }
    wb.save(&input).unwrap();
    let out = env.cmd("nxlink").arg(&input).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        format!(
            "error: {}: the first non-empty row is not the header (no column of it maps to \
             full_name), but row 3 maps full_name, whats_app_phone, birthday, gender: give \
             --header-row 3\n",
            input.display()
        )
    );
    let out = env
        .cmd("nxlink")
        .args([
            "--header-row",
            "3",
            "--date-order",
            "dmy",
            "--phone-region",
            "ID",
        ])
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        held(&env)["Budi"],
        json!({"full_name": "Budi", "whats_app_phone": "6281234567801",
               "birthday": "1990-05-17", "gender": 1})
    );
    let success = by_row(&env.csv_rows("success.csv"), "row");
    assert_eq!(success.keys().copied().collect::<Vec<_>>(), vec![1]);
    std::fs::remove_dir_all(env.out()).unwrap();
    let out = env
        .cmd("nxlink")
        .args(["--header-row", "2"])
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--header-row 2: row 2 of sheet \"Sheet1\" is empty"));
}

#[test]
fn a_semicolon_export_with_commas_inside_quotes_is_read_as_semicolons() {
    let env = TestEnv::new();
    // Every field quoted, `;` between them, as many commas as semicolons in the header (read
    // with `,` it splits in three too, but leaves text after a closing quote).
    let input = env.write(
        "export.csv",
        "\"Nama\";\"No HP\";\"Alamat, kota, provinsi\"\n\
         \"Santoso, Budi\";\"6281234567801\";\"Jl. Merdeka, 5, Jakarta, Indonesia\"\n\
         \"Aminah, Siti\";\"6281234567802\";\"Jl. Sudirman, 7, Bandung, Jawa Barat\"\n",
    );
    let out = env
        .cmd("nxlink")
        .args(["--map", "address=alamat, KOTA, provinsi"])
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        held(&env)["Santoso, Budi"],
        json!({"full_name": "Santoso, Budi", "whats_app_phone": "6281234567801",
               "address": "Jl. Merdeka, 5, Jakarta, Indonesia"})
    );
    // A title line without a delimiter above `;` lines: read as `;`, the title as the header.
    let titled = env.write(
        "titled.csv",
        "# Pelanggan\nNama;No HP\nBudi;6281234567803\n",
    );
    std::fs::remove_dir_all(env.out()).unwrap();
    let out = env
        .cmd("nxlink")
        .args(["--header-row", "2"])
        .arg(&titled)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(held(&env)["Budi"]["whats_app_phone"], "6281234567803");
    std::fs::remove_dir_all(env.out()).unwrap();
    let out = env.cmd("nxlink").arg(&titled).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "but line 2 (non-blank line 2) maps full_name, whats_app_phone: give --header-row 2"
        ),
        "{}",
        stderr(&out)
    );
}

/// Excel's "CSV (semicolon)" export as some tools write it: a first line `sep=;` naming the
/// delimiter, CRLF line ends, decimal commas. The line names the delimiter and is not the
/// header: the file imports as it is, its rows numbered from the line below the header, the
/// failure report starting at the header; `--header-row 2` reads it the same.
#[test]
fn an_excel_sep_line_is_skipped_without_header_row() {
    let env = TestEnv::new();
    let text = "sep=;\r\n\
                Name;WhatsApp;Umsatz\r\n\
                Müller, Hans;+4915112345678;1.234,56\r\n\
                Weiß, Anna;not a phone;987,10\r\n";
    let input = env.write("export.csv", text);
    let out = env.cmd("nxlink").arg(&input).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        held(&env)["Müller, Hans"]["whats_app_phone"],
        "4915112345678",
        "{:?}",
        held(&env)
    );
    assert_eq!(held(&env).len(), 1);
    let success = by_row(&env.csv_rows("success.csv"), "row");
    assert_eq!(success.keys().copied().collect::<Vec<_>>(), vec![1]);
    let failed = by_row(&env.csv_rows("failed.csv"), "custimport_row");
    assert_eq!(failed.keys().copied().collect::<Vec<_>>(), vec![2]);
    assert_eq!(cell(&failed[&2], "custimport_code"), "invalid_phone");
    assert!(
        cell(&failed[&2], "custimport_error").starts_with("line 4: "),
        "{:?}",
        failed[&2]
    );
    let report = env.read("failed.csv");
    assert!(
        report.starts_with("Name,WhatsApp,Umsatz,custimport_row,"),
        "{report}"
    );

    // The same file with --header-row 2: the same rows, the same numbers.
    std::fs::remove_dir_all(env.out()).unwrap();
    let out = env
        .cmd("nxlink")
        .args(["--header-row", "2"])
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let again = by_row(&env.csv_rows("success.csv"), "row");
    assert_eq!(again.keys().copied().collect::<Vec<_>>(), vec![1]);
}
