//! Unit tests of `report::outdir`.
use super::*;

/// The names are the contract's: a run's reports are found, and refused, by them.
#[test]
fn report_files_have_the_contracts_names() {
    let names = REPORTS.map(ReportFile::name);
    assert_eq!(
        names,
        [
            "journal.jsonl",
            "success.csv",
            "failed.csv",
            "failed.jsonl",
            "summary.json"
        ]
    );
    assert_eq!(ReportFile::Success.part_name(), ".success.csv.part");
    assert_eq!(ReportFile::Earlier.name(), ".success.csv.earlier");
    assert_eq!(ReportFile::Lock.to_string(), ".lock");
    assert_eq!(crate::journal::FILE, "journal.jsonl");
}
