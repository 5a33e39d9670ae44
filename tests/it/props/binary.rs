//! Property tests through the binary: arbitrary files with --dry-run.

#![allow(unused_imports)]
use super::*;

// ---------------------------------------------------------------------------------------------
// A3. arbitrary files through the binary, --dry-run

static DRY_CASE: AtomicUsize = AtomicUsize::new(0);

fn dry_env() -> &'static std::sync::Mutex<TestEnv> {
    static ENV: OnceLock<std::sync::Mutex<TestEnv>> = OnceLock::new();
    ENV.get_or_init(|| std::sync::Mutex::new(TestEnv::new()))
}

proptest! {
    #![proptest_config(Config { cases: 64, failure_persistence: None, ..Config::default() })]

    #[test]
    fn arbitrary_files_through_the_binary_dry_run(
        bytes in hostile_bytes(40),
        jsonl in any::<bool>(),
        itnio in any::<bool>(),
        encoding in prop_oneof![3 => Just(None), 1 => Just(Some("gbk")), 1 => Just(Some("utf-16le")), 1 => Just(Some("shift_jis"))],
    ) {
        let env = dry_env().lock().unwrap_or_else(|e| e.into_inner());
        let case = DRY_CASE.fetch_add(1, Ordering::Relaxed);
        let name = format!("in{case}.{}", if jsonl { "jsonl" } else { "csv" });
        let input = env.write(&name, &bytes);
        let out = env.path(&format!("dry{case}"));
        let mut cmd = env.bare();
        if itnio {
            cmd.args(["itnio", "--job", "9"]);
        } else {
            cmd.arg("nxlink");
        }
        cmd.arg(&input).arg("--dry-run").arg("--out").arg(&out).args(["--base-url", &env.base_url]);
        if let Some(e) = encoding {
            cmd.args(["--encoding", e]);
        }
        let output = cmd.output().unwrap();
        let code = output.status.code();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        prop_assert!(matches!(code, Some(0..=2)), "exit {:?}: {}", code, stderr);
        // The library, reading the same file the same way.
        let format = if jsonl { Format::Jsonl } else { Format::Csv };
        let enc = encoding.map(|e| Encoding::for_label(e.as_bytes()).unwrap());
        let lib = read_input(options(&input, format, enc), bytes.len() + 2);
        if code == Some(2) && stderr.contains(": give --header-row ") {
            // A line below the first is clearly the header: the run stops naming it.
            prop_assert!(!jsonl && lib.is_ok(), "{}", stderr);
            return Ok(());
        }
        if code == Some(2) {
            prop_assert!(lib.is_err(), "exit 2 but the input reads: {}", stderr);
            prop_assert!(stderr.contains("error"), "{}", stderr);
            return Ok(());
        }
        let lib = lib.map_err(|e| TestCaseError::fail(format!("library refuses ({e}) but exit {code:?}")))?;
        let s: Value = serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
        let n = |k: &str| s[k].as_u64().unwrap_or_else(|| panic!("{k} in {s}"));
        prop_assert_eq!(n("total"), n("succeeded") + n("rejected") + n("failed") + n("unknown") + n("pending"), "{}", s);
        prop_assert_eq!(n("total"), lib.records.len() as u64, "{}", s);
        prop_assert_eq!(n("blank_lines"), lib.blank_lines);
        prop_assert_eq!(s["dry_run"].as_bool(), Some(true));
        prop_assert_eq!(n("valid"), n("pending"));
        prop_assert_eq!(n("succeeded") + n("failed") + n("unknown"), 0);
        let unreadable = lib.records.iter().filter(|r| r.problem.is_some()).count() as u64;
        prop_assert!(n("rejected") >= unreadable);
        prop_assert_eq!(code == Some(0), n("rejected") == 0, "{}", s);
        prop_assert_eq!(n("exit_code"), code.unwrap() as u64);
        // The failure report holds exactly the rejected rows, once each.
        let rows: Vec<u64> = if jsonl {
            std::fs::read_to_string(out.join("failed.jsonl"))
                .unwrap()
                .lines()
                .map(|l| {
                    let v: Value = serde_json::from_str(l).unwrap();
                    assert_eq!(v["custimport"]["outcome"], "rejected");
                    v["custimport"]["row"].as_u64().unwrap()
                })
                .collect()
        } else {
            let path = out.join("failed.csv");
            let mut reader = csv::ReaderBuilder::new().flexible(true).from_path(&path).unwrap();
            let header = reader.headers().unwrap().clone();
            let at = |name: &str| header.iter().position(|h| h == name).unwrap();
            let (row, outcome) = (at("custimport_row"), at("custimport_outcome"));
            reader
                .records()
                .map(|r| {
                    let r = r.unwrap();
                    assert_eq!(&r[outcome], "rejected", "{r:?}");
                    r[row].parse().unwrap()
                })
                .collect()
        };
        prop_assert_eq!(rows.len() as u64, n("rejected"));
        let distinct: BTreeSet<u64> = rows.iter().copied().collect();
        prop_assert_eq!(distinct.len(), rows.len());
        prop_assert!(distinct.iter().all(|r| (1..=n("total")).contains(r)));
        for r in &lib.records {
            if r.problem.is_some() {
                prop_assert!(distinct.contains(&r.row), "unreadable row {} not in the report", r.row);
            }
        }
        prop_assert!(!out.join("success.csv").exists());
        prop_assert_eq!(&env.stats()["requests"], &serde_json::json!(0));
    }
}
