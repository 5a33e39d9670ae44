//! Unit tests of custimport config.

use super::*;
use crate::config::{ProviderChoice, Settings};

const FILE: &str = "state = \"top.db\"\n[nxlink]\naccess_key = \"section\"\naccess_secret = \"hunter2\"\ntenant_id = 1\napp_key = \"a\"\nbase_url = \"https://section.example\"\nconcurrency = 2\nbatch_size = 10\nphone_region = \"CN\"\nstate = \"section.db\"\nmap = { full_name = \"A\", email = \"E\" }\n\n[profile.p]\naccess_key = \"profile\"\nbatch_size = 20\nphone_region = \"ID\"\nbase_url = \"https://profile.example\"\nstate = \"profile.db\"\nmap = { full_name = \"B\" }\n";

/// `custimport ARGS` parsed as the binary parses them, with `env` as the environment.
fn parsed(args: &[&str]) -> crate::cli::Cli {
    use clap::FromArgMatches;
    let argv = [&["custimport"], args].concat();
    let matches = crate::help::command().try_get_matches_from(argv).unwrap();
    let mut cli = crate::cli::Cli::from_arg_matches(&matches).unwrap();
    crate::config::mark_command_line(&mut cli.common, &matches);
    cli
}

fn lookup(env: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: std::collections::HashMap<String, String> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k: &str| map.get(k).cloned()
}

/// What `config nxlink ARGS` shows, by name.
fn shown(c: &str, args: &[&str], env: &[(&str, &str)]) -> Vec<(String, Shown, String)> {
    let cli = parsed(&[&["-c", c, "config", "nxlink"], args].concat());
    let crate::cli::Command::Config(crate::cli::ConfigArgs {
        provider: Some(crate::cli::ConfigProvider::Nxlink(a)),
    }) = &cli.command
    else {
        unreachable!()
    };
    let env = lookup(env);
    nxlink(&a.as_import(), &cli.common, &env)
        .unwrap()
        .into_iter()
        .map(|e| (e.name, e.value, e.source.to_string()))
        .collect()
}

fn get<'a>(entries: &'a [(String, Shown, String)], name: &str) -> (&'a Shown, &'a str) {
    let (_, v, s) = entries.iter().find(|(n, _, _)| n == name).unwrap();
    (v, s.as_str())
}

fn text(s: &str) -> Shown {
    Shown::Text(s.into())
}

fn config_file() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    std::fs::write(&path, FILE).unwrap();
    let c = path.to_str().unwrap().to_owned();
    (dir, c)
}

#[test]
fn sources_in_order_of_precedence() {
    let (_dir, c) = config_file();
    let section = "section [nxlink]";
    // Default, then the section.
    let e = shown(&c, &[], &[]);
    assert_eq!(get(&e, "retries"), (&text("5"), "default"));
    assert_eq!(get(&e, "batch_size"), (&text("10"), section));
    assert_eq!(get(&e, "access_key"), (&text("section"), section));
    assert_eq!(get(&e, "access_secret"), (&Shown::Secret, section));
    assert_eq!(
        get(&e, "base_url"),
        (&text("https://section.example"), section)
    );
    assert_eq!(get(&e, "phone_region"), (&text("CN"), section));
    assert_eq!(get(&e, "state"), (&text("section.db"), section));
    assert_eq!(get(&e, "map.email"), (&text("E"), section));
    // The profile over the section, key by key.
    let e = shown(&c, &["--profile", "p"], &[]);
    let profile = "profile p";
    for (name, value) in [
        ("batch_size", "20"),
        ("access_key", "profile"),
        ("base_url", "https://profile.example"),
        ("phone_region", "ID"),
        ("state", "profile.db"),
        ("map.full_name", "B"),
    ] {
        assert_eq!(get(&e, name), (&text(value), profile), "{name}");
    }
    assert_eq!(get(&e, "concurrency"), (&text("2"), section));
    assert_eq!(get(&e, "map.email"), (&text("E"), section));
    // The environment over the profile.
    let env = [
        ("CUSTIMPORT_PROFILE", "p"),
        ("CUSTIMPORT_NXLINK_ACCESS_KEY", "env"),
        ("CUSTIMPORT_NXLINK_BASE_URL", "https://env.example"),
    ];
    let e = shown(&c, &[], &env);
    assert_eq!(
        get(&e, "access_key"),
        (&text("env"), "env CUSTIMPORT_NXLINK_ACCESS_KEY")
    );
    assert_eq!(
        get(&e, "base_url"),
        (
            &text("https://env.example"),
            "env CUSTIMPORT_NXLINK_BASE_URL"
        )
    );
    assert_eq!(get(&e, "batch_size"), (&text("20"), profile));
    // Flags over everything.
    let flags = [
        "--batch-size",
        "5",
        "--region",
        "hk",
        "--phone-region",
        "PH",
        "--state",
        "flag.db",
        "--map",
        "full_name=C",
    ];
    let e = shown(&c, &flags, &env);
    assert_eq!(get(&e, "batch_size"), (&text("5"), "flag"));
    assert_eq!(
        get(&e, "base_url"),
        (&text("https://api-hk.nxlink.ai"), "flag")
    );
    assert_eq!(get(&e, "phone_region"), (&text("PH"), "flag"));
    assert_eq!(get(&e, "state"), (&text("flag.db"), "flag"));
    assert_eq!(get(&e, "map.full_name"), (&text("C"), "flag"));
}

#[test]
fn the_top_level_state_when_nothing_nearer_sets_it() {
    let (_dir, c) = config_file();
    std::fs::write(&c, "state = \"top.db\"\n").unwrap();
    let e = shown(&c, &[], &[]);
    assert_eq!(
        get(&e, "state"),
        (&text("top.db"), "config file (top level)")
    );
    assert_eq!(get(&e, "access_secret"), (&Shown::NotSet, "default"));
}

#[test]
fn what_config_shows_is_what_the_import_uses() {
    let (_dir, c) = config_file();
    for args in [
        &[][..],
        &["--profile", "p"][..],
        &["--profile", "p", "--batch-size", "7", "--concurrency", "9"][..],
    ] {
        let e = shown(&c, args, &[]);
        let cli = parsed(&[&["-c", &c, "nxlink", "fixtures/customers.csv"], args].concat());
        let crate::cli::Command::Nxlink(a) = &cli.command else {
            unreachable!()
        };
        let s: Settings = crate::config::nxlink_settings(a, &cli.common, &lookup(&[])).unwrap();
        assert_eq!(get(&e, "batch_size").0, &text(&s.batch_size.to_string()));
        let concurrency = s.concurrency.map_or("auto".into(), |n| n.to_string());
        assert_eq!(get(&e, "concurrency").0, &text(&concurrency));
        let maps: Vec<String> = e
            .iter()
            .filter_map(|(n, v, _)| match (n.strip_prefix("map."), v) {
                (Some(f), Shown::Text(col)) => Some(format!("{f}={col}")),
                _ => None,
            })
            .collect();
        assert_eq!(maps, s.maps);
        let Endpoint::Remote(url) = s.endpoint.target() else {
            panic!()
        };
        assert_eq!(get(&e, "base_url").0, &text(url.as_str()));
        let ProviderChoice::Nxlink(nx) = &s.provider else {
            panic!()
        };
        assert_eq!(get(&e, "access_key").0, &text(&nx.credentials().access_key));
    }
}

#[test]
fn no_secret_in_debug_or_output() {
    let (_dir, c) = config_file();
    let cli = parsed(&["-c", &c, "config", "nxlink"]);
    let crate::cli::Command::Config(crate::cli::ConfigArgs {
        provider: Some(crate::cli::ConfigProvider::Nxlink(a)),
    }) = &cli.command
    else {
        unreachable!()
    };
    let entries = nxlink(&a.as_import(), &cli.common, &lookup(&[])).unwrap();
    let found = crate::config::find_file(Some(Path::new(&c)), &lookup(&[])).unwrap();
    assert!(!format!("{entries:?}").contains("hunter2"));
    for text in [
        render(&found, None, &entries, false),
        render(&found, None, &entries, true),
    ] {
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("***"), "{text}");
    }
}
