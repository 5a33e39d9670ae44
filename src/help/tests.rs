//! Unit tests of `help`.
use super::*;

fn help_of(name: &str) -> String {
    let mut cmd = command();
    let sc = cmd.find_subcommand_mut(name).unwrap();
    sc.render_long_help().to_string()
}

#[test]
fn non_import_subcommands_show_their_own_options_only() {
    let sandbox = help_of("sandbox");
    assert!(sandbox.contains("--latency-ms"), "{sandbox}");
    assert!(!sandbox.contains("--batch-size"), "{sandbox}");
    let state = help_of("state");
    assert!(
        state.contains("--config") && state.contains("--profile") && !state.contains("--resume"),
        "{state}"
    );
    assert!(help_of("nxlink").contains("--batch-size"));
    let check = help_of("check");
    assert!(
        check.contains("--base-url") && !check.contains("--batch-size"),
        "{check}"
    );
}

#[test]
fn every_page_renders() {
    let cmd = command();
    for page in PAGES {
        let text = String::from_utf8(man_page(&cmd, Some(page)).unwrap()).unwrap();
        assert!(text.contains(".SH EXAMPLES"), "{page}");
    }
    let nx = String::from_utf8(man_page(&cmd, Some("nxlink")).unwrap()).unwrap();
    assert!(nx.contains("tenant\\-id") && nx.contains("CUSTIMPORT_NXLINK_APP_KEY"));
}
