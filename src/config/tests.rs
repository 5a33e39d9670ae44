//! Unit tests of `config`.
use super::*;

#[test]
fn secrets_are_redacted() {
    let s = Secret::new("hunter2");
    assert_eq!(format!("{s:?}"), "Secret(<redacted>)");
    assert_eq!(format!("{s}"), "<redacted>");
    let nx = Nxlink::new(
        crate::provider::nxlink::Credentials {
            access_key: "ak".into(),
            access_secret: s,
            tenant_id: 1,
            app_key: "k".into(),
        },
        crate::provider::nxlink::Options {
            mode: crate::provider::nxlink::Mode::Merge,
            strict_binding: false,
            algorithm: Algorithm::Md5,
            phone_region: None,
            ..Default::default()
        },
    );
    assert!(!format!("{nx:?}").contains("hunter2"));
}

#[test]
fn base_urls() {
    assert!(check_base_url("http://127.0.0.1:8787").is_ok());
    assert!(check_base_url("http://localhost:1/").is_ok());
    assert!(check_base_url("http://[::1]:1").is_ok());
    assert!(check_base_url("http://example.com").is_err());
    assert!(check_base_url("http://10.0.0.1").is_err());
    assert_eq!(
        check_base_url("https://api-idn.nxlink.ai/").unwrap(),
        "https://api-idn.nxlink.ai"
    );
    assert!(check_base_url("ftp://x").is_err());
    // A path prefix is kept; a user name, password, query or fragment is refused, and no
    // error repeats the URL (it may carry a password).
    assert_eq!(
        check_base_url("https://gw.example.com/nx/").unwrap(),
        "https://gw.example.com/nx"
    );
    for bad in [
        "https://u:hunter2@gw.example.com",
        "https://hunter2@gw.example.com",
        "https://gw.example.com/?k=hunter2",
        "https://gw.example.com/#hunter2",
        "hunter2",
        "http://hunter2.example.com",
    ] {
        let e = check_base_url(bad).unwrap_err();
        assert!(!format!("{e:#}").contains("hunter2"), "{bad}: {e:#}");
    }
}

#[test]
fn max_failures_parse() {
    assert_eq!("10".parse::<MaxFailures>().unwrap(), MaxFailures::Count(10));
    assert_eq!(
        "5%".parse::<MaxFailures>().unwrap(),
        MaxFailures::Percent(5.0)
    );
    assert!("x".parse::<MaxFailures>().is_err());
    assert!("101%".parse::<MaxFailures>().is_err());
}

fn nxlink(args: &[&str], env: &[(&str, &str)]) -> Result<Settings, Fatal> {
    nxlink_run(&[&["--dry-run"], args].concat(), env)
}

/// Settings for `custimport nxlink fixtures/customers.csv ARGS` (not a dry run unless asked).
fn nxlink_run(args: &[&str], env: &[(&str, &str)]) -> Result<Settings, Fatal> {
    use clap::FromArgMatches;
    let mut argv = vec!["custimport", "nxlink", "fixtures/customers.csv"];
    argv.extend_from_slice(args);
    let matches = crate::help::command().try_get_matches_from(argv).unwrap();
    let mut cli = crate::cli::Cli::from_arg_matches(&matches).unwrap();
    mark_command_line(&mut cli.common, &matches);
    let map: std::collections::HashMap<String, String> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let lookup = move |k: &str| map.get(k).cloned();
    match &cli.command {
        crate::cli::Command::Nxlink(a) => nxlink_settings(a, &cli.common, &lookup),
        _ => unreachable!(),
    }
}

#[test]
fn regions_and_base_url_precedence() {
    let base =
        |args: &[&str], env: &[(&str, &str)]| match nxlink(args, env).unwrap().endpoint.target() {
            Endpoint::Remote(b) => Some(b.as_str().to_owned()),
            _ => None,
        };
    assert_eq!(base(&[], &[]).as_deref(), Some("https://api-idn.nxlink.ai"));
    assert_eq!(
        base(&["--region", "hk"], &[]).as_deref(),
        Some("https://api-hk.nxlink.ai")
    );
    assert_eq!(
        base(&["--region", "chl"], &[]).as_deref(),
        Some("https://chl-api.nxlink.ai")
    );
    let env = [("CUSTIMPORT_NXLINK_BASE_URL", "https://proxy.example")];
    assert_eq!(base(&[], &env).as_deref(), Some("https://proxy.example"));
    assert_eq!(
        base(&["--region", "hk"], &env).as_deref(),
        Some("https://api-hk.nxlink.ai")
    );
    assert_eq!(
        base(
            &["--region", "hk", "--base-url", "http://127.0.0.1:9"],
            &env
        )
        .as_deref(),
        Some("http://127.0.0.1:9")
    );
}

#[test]
fn endpoints() {
    let endpoint = |args: &[&str]| nxlink_run(args, &[]).unwrap().endpoint;
    let sandbox = endpoint(&["--sandbox"]);
    assert_eq!(sandbox, Endpoint::Sandbox);
    assert!(sandbox.is_sandbox() && !sandbox.is_dry_run());
    // --base-url wins over --sandbox's emulator: requests go there.
    assert!(matches!(
        endpoint(&["--sandbox", "--base-url", "http://127.0.0.1:9"]),
        Endpoint::Remote(b) if b.as_str() == "http://127.0.0.1:9"
    ));
    let dry = endpoint(&["--sandbox", "--dry-run"]);
    assert!(dry.is_dry_run() && dry.is_sandbox());
    assert_eq!(dry.target(), &Endpoint::Sandbox);
    let dry = endpoint(&["--dry-run", "--base-url", "https://gw.example.com/nx/"]);
    assert!(dry.is_dry_run() && !dry.is_sandbox());
    assert!(
        matches!(dry.target(), Endpoint::Remote(b) if b.as_str() == "https://gw.example.com/nx")
    );
    // A dry run checks the base URL as a real run would.
    assert!(nxlink(&["--dry-run", "--base-url", "http://10.0.0.1"], &[]).is_err());
}

#[test]
fn credentials_layering() {
    let env = [
        ("CUSTIMPORT_NXLINK_ACCESS_KEY", "ak"),
        ("CUSTIMPORT_NXLINK_ACCESS_SECRET", "sk"),
        ("CUSTIMPORT_NXLINK_TENANT_ID", "7"),
        ("CUSTIMPORT_NXLINK_APP_KEY", "app"),
    ];
    let s = nxlink(&["--tenant-id", "9"], &env).unwrap();
    let ProviderChoice::Nxlink(nx) = s.provider else {
        panic!()
    };
    assert_eq!(
        (
            nx.credentials().access_key.as_str(),
            nx.credentials().access_secret.expose(),
            nx.credentials().tenant_id,
            nx.credentials().app_key.as_str()
        ),
        ("ak", "sk", 9, "app")
    );
    assert!(nxlink(&["--tenant-id", "x"], &env).is_err());
}

#[test]
fn delimiters() {
    assert_eq!(parse_delimiter(";").unwrap(), b';');
    assert_eq!(parse_delimiter("\\t").unwrap(), b'\t');
    assert!(parse_delimiter(",,").is_err());
    assert!(parse_delimiter("\"").is_err());
}

#[test]
fn flags_over_environment_over_profile_over_section_over_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    std::fs::write(
        &path,
        "[nxlink]\naccess_key = \"section\"\naccess_secret = \"s\"\ntenant_id = 1\napp_key = \"a\"\nbatch_size = 10\nconcurrency = 3\nretries = 1\nmode = \"replace\"\nmap = { full_name = \"A\", email = \"E\" }\n\n[profile.p]\naccess_key = \"profile\"\nbatch_size = 20\ntimeout = 2.5\nmap = { full_name = \"B\" }\n",
    )
    .unwrap();
    let c = path.to_str().unwrap();
    let key = |s: &Settings| match &s.provider {
        ProviderChoice::Nxlink(nx) => nx.credentials().access_key.clone(),
        ProviderChoice::Itnio(_) => unreachable!(),
    };
    // Defaults, then the section.
    let s = nxlink_run(&[], &[]);
    assert!(s.is_err(), "no credentials without a file");
    let s = nxlink_run(&["-c", c], &[]).unwrap();
    assert_eq!((s.batch_size, s.concurrency, s.retries), (10, Some(3), 1));
    assert_eq!(s.timeout, Duration::from_secs(30));
    assert_eq!(key(&s), "section");
    assert_eq!(s.maps, ["email=E", "full_name=A"]);
    for given in ["batch_size", "mode", "map"] {
        assert!(s.shape.given.contains(given), "{given}");
    }
    assert!(!s.shape.given.contains("phone_region"));
    // The profile over the section, field by field.
    for (args, env) in [
        (&["-c", c, "--profile", "p"][..], &[][..]),
        (&["-c", c], &[("CUSTIMPORT_PROFILE", "p")][..]),
    ] {
        let s = nxlink_run(args, env).unwrap();
        assert_eq!((s.batch_size, s.concurrency, s.retries), (20, Some(3), 1));
        assert_eq!(s.timeout, Duration::from_millis(2500));
        assert_eq!(key(&s), "profile");
        assert_eq!(s.maps, ["full_name=B", "email=E"]);
    }
    // The environment over the profile.
    let s = nxlink_run(
        &["-c", c, "--profile", "p"],
        &[("CUSTIMPORT_NXLINK_ACCESS_KEY", "env")],
    )
    .unwrap();
    assert_eq!(key(&s), "env");
    // Flags over everything, also those with a default of their own.
    let s = nxlink_run(
        &[
            "-c",
            c,
            "--profile",
            "p",
            "--batch-size",
            "5",
            "--concurrency",
            "4",
            "--retries",
            "5",
            "--map",
            "full_name=C",
        ],
        &[],
    )
    .unwrap();
    assert_eq!((s.batch_size, s.concurrency, s.retries), (5, Some(4), 5));
    assert_eq!(s.maps, ["full_name=C", "email=E"]);
    // The flag's profile over the environment's.
    assert!(nxlink_run(&["-c", c, "--profile", "q"], &[("CUSTIMPORT_PROFILE", "p")]).is_err());
}
