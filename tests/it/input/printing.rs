//! What custimport prints of text from the input: control characters escaped, and no line
//! over 4 KiB, however many or long the names.

use crate::env::TestEnv;

#[test]
fn the_itnio_plan_escapes_header_names() {
    let env = TestEnv::new();
    let input = env.write(
        "l.csv",
        "name,phone,\u{1b}[31mred\u{7}\nA,6281200000001,x\n",
    );
    let out = env
        .cmd("itnio")
        .args(["--job", "9", "--dry-run"])
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("properties."), "{err}");
    assert!(!err.contains('\u{1b}') && !err.contains('\u{7}'), "{err:?}");
}

#[test]
fn no_printed_line_is_longer_than_4_kib() {
    let env = TestEnv::new();
    // 5,000 unmapped columns with long names: the nxlink warning and the plan list them.
    let mut header = String::from("name,phone");
    let mut row = String::from("A,6281200000001");
    for i in 0..5000 {
        header.push_str(&format!(",column_with_a_rather_long_name_{i}"));
        row.push_str(",x");
    }
    let input = env.write("wide.csv", format!("{header}\n{row}\n"));
    for extra in [&["--dry-run"][..], &[]] {
        let out = env.cmd("nxlink").args(extra).arg(&input).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("more"), "{err}");
        for line in err.lines() {
            assert!(line.len() <= 4096, "a line of {} bytes", line.len());
        }
    }
    // A --map naming a missing column lists the columns, cut with a count.
    let out = env
        .cmd("nxlink")
        .args(["--map", "full_name=nope"])
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("more"), "{err}");
    assert!(err.lines().all(|l| l.len() <= 4096));
}

#[test]
fn a_quiet_run_that_cannot_start_says_so_in_one_line() {
    let env = TestEnv::new();
    let input = env.write("a.csv", "name,phone\nA,6281200000001\n");
    // No credentials at all: the error shows the config lines to write, joined with -q.
    let out = env
        .bare()
        .args(["-q", "nxlink"])
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("access_secret") && err.contains("[nxlink]"),
        "{err}"
    );
    // Without -q the lines stay lines.
    let out = env.bare().arg("nxlink").arg(&input).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).lines().count() > 1);
}
