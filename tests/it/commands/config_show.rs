//! `custimport config [nxlink|itnio]` (the config file, its profiles, and each effective value
//! with where it came from) and `custimport state --profile`, through the binary.

use std::process::Output;

use crate::env::TestEnv;

/// The secret texts of [`CONFIG`]: none may ever be printed.
const SECRETS: [&str; 3] = ["s3cr3t-section", "s3cr3t-profile", "s3cr3t-env"];

/// A section and two profiles: `nightly` for nxlink, `calls` for itnio.
const CONFIG: &str = r#"
[nxlink]
access_key = "AK-SECTION"
access_secret = "s3cr3t-section"
tenant_id = 7
app_key = "APP-SECTION"
base_url = "https://gw.example.com/section"
concurrency = 2
mode = "keep"

[profile.nightly]
provider = "nxlink"
access_key = "AK-PROFILE"
access_secret = "s3cr3t-profile"
phone_region = "ID"
concurrency = 3
state = "state/nightly.db"
map = { full_name = "Nama", whats_app_phone = "HP" }

[profile.calls]
provider = "itnio"
job = 42
"#;

fn setup() -> TestEnv {
    let env = TestEnv::new();
    let path = env.write("custimport.toml", CONFIG);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    env
}

fn run(env: &TestEnv, args: &[&str], vars: &[(&str, &str)]) -> Output {
    let mut cmd = env.bare();
    cmd.args(args);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// No secret text in stdout or stderr.
fn no_secret(out: &Output) {
    let (stdout, stderr) = text(out);
    for s in SECRETS {
        assert!(
            !stdout.contains(s) && !stderr.contains(s),
            "{s} printed:\n{stdout}\n{stderr}"
        );
    }
}

/// The option lines of `config PROVIDER`: name, value and source, split at runs of two spaces.
fn options(stdout: &str) -> Vec<(String, String, String)> {
    stdout
        .lines()
        .filter(|l| !l.starts_with("config file:") && !l.starts_with("profile:"))
        .map(|l| {
            let cols: Vec<&str> = l
                .split("  ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect();
            assert_eq!(cols.len(), 3, "{l:?}");
            (cols[0].to_owned(), cols[1].to_owned(), cols[2].to_owned())
        })
        .collect()
}

fn option<'a>(opts: &'a [(String, String, String)], name: &str) -> (&'a str, &'a str) {
    let (_, v, s) = opts
        .iter()
        .find(|(n, _, _)| n == name)
        .unwrap_or_else(|| panic!("no {name} in {opts:?}"));
    (v.as_str(), s.as_str())
}

#[test]
fn config_lists_the_file_and_its_profiles() {
    let env = setup();
    let out = run(&env, &["config"], &[]);
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    assert_eq!(
        text(&out).0,
        "config file: ./custimport.toml\nprofiles:\n  calls (provider itnio)\n  nightly (provider nxlink)\n"
    );
    no_secret(&out);
    // As JSON.
    let out = run(&env, &["config", "--json"], &[]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["config_file"], "./custimport.toml");
    assert_eq!(v["profiles"][1]["name"], "nightly");
    assert_eq!(v["profiles"][1]["provider"], "nxlink");
}

#[test]
fn config_without_a_file_names_the_two_places_looked_at() {
    let env = TestEnv::new();
    let out = run(&env, &["config"], &[]);
    assert_eq!(out.status.code(), Some(0));
    let xdg = env.path("xdg").join("custimport").join("config.toml");
    assert_eq!(
        text(&out).0,
        format!(
            "config file: none found (looked at ./custimport.toml and {})\nprofiles: none\n",
            xdg.display()
        )
    );
}

#[test]
fn an_invalid_config_is_exit_2_with_the_imports_message() {
    let env = TestEnv::new();
    env.write(
        "custimport.toml",
        "[nxlink]\naccess_secret = \"s3cr3t-section\"\nbatch_sise = 3\n",
    );
    let input = env.write("in.csv", "name,phone\nA,1\n");
    let config = run(&env, &["config"], &[]);
    let import = run(&env, &["nxlink", "--dry-run", input.to_str().unwrap()], &[]);
    assert_eq!(config.status.code(), Some(2));
    assert_eq!(import.status.code(), Some(2));
    assert!(
        text(&config).1.contains("batch_sise"),
        "{:?}",
        text(&config)
    );
    assert_eq!(text(&config).1, text(&import).1);
    no_secret(&config);
    let shown = run(&env, &["config", "nxlink"], &[]);
    assert_eq!(shown.status.code(), Some(2));
    assert_eq!(text(&shown).1, text(&import).1);
}

#[test]
fn config_shows_each_value_and_where_it_came_from() {
    let env = setup();
    let out = run(
        &env,
        &[
            "--profile",
            "nightly",
            "config",
            "nxlink",
            "--concurrency",
            "8",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    no_secret(&out);
    let (stdout, _) = text(&out);
    assert!(
        stdout.starts_with("config file: ./custimport.toml\nprofile: nightly (flag)\n"),
        "{stdout}"
    );
    let o = options(&stdout);
    assert_eq!(option(&o, "concurrency"), ("8", "flag"));
    assert_eq!(option(&o, "phone_region"), ("ID", "profile nightly"));
    assert_eq!(
        option(&o, "base_url"),
        ("https://gw.example.com/section", "section [nxlink]")
    );
    assert_eq!(option(&o, "batch_size"), ("100", "default"));
    assert_eq!(option(&o, "mode"), ("keep", "section [nxlink]"));
    assert_eq!(option(&o, "access_key"), ("AK-PROFILE", "profile nightly"));
    assert_eq!(option(&o, "access_secret"), ("***", "profile nightly"));
    assert_eq!(option(&o, "tenant_id"), ("7", "section [nxlink]"));
    assert_eq!(option(&o, "map.full_name"), ("Nama", "profile nightly"));
    assert_eq!(option(&o, "map.whats_app_phone"), ("HP", "profile nightly"));
    assert_eq!(option(&o, "state"), ("state/nightly.db", "profile nightly"));
    assert_eq!(option(&o, "max_failures"), ("(not set)", "default"));
    // Without the flag, the profile's value; without the profile, the section's.
    let out = run(&env, &["config", "nxlink", "--profile", "nightly"], &[]);
    assert_eq!(
        option(&options(&text(&out).0), "concurrency"),
        ("3", "profile nightly")
    );
    let out = run(&env, &["config", "nxlink"], &[]);
    let o = options(&text(&out).0);
    assert_eq!(option(&o, "concurrency"), ("2", "section [nxlink]"));
    assert_eq!(option(&o, "access_secret"), ("***", "section [nxlink]"));
    assert_eq!(option(&o, "phone_region"), ("(not set)", "default"));
    no_secret(&out);
}

#[test]
fn the_environment_wins_over_the_profile_and_flags_over_the_environment() {
    let env = setup();
    let vars = [
        ("CUSTIMPORT_PROFILE", "nightly"),
        ("CUSTIMPORT_NXLINK_ACCESS_KEY", "AK-ENV"),
        ("CUSTIMPORT_NXLINK_ACCESS_SECRET", "s3cr3t-env"),
        ("CUSTIMPORT_NXLINK_BASE_URL", "https://env.example.com"),
        ("CUSTIMPORT_NXLINK_TENANT_ID", "8"),
    ];
    let out = run(&env, &["config", "nxlink", "--tenant-id", "9"], &vars);
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    no_secret(&out);
    let (stdout, _) = text(&out);
    assert!(
        stdout.contains("\nprofile: nightly (env CUSTIMPORT_PROFILE)\n"),
        "{stdout}"
    );
    let o = options(&stdout);
    assert_eq!(
        option(&o, "access_key"),
        ("AK-ENV", "env CUSTIMPORT_NXLINK_ACCESS_KEY")
    );
    assert_eq!(
        option(&o, "access_secret"),
        ("***", "env CUSTIMPORT_NXLINK_ACCESS_SECRET")
    );
    assert_eq!(
        option(&o, "base_url"),
        ("https://env.example.com", "env CUSTIMPORT_NXLINK_BASE_URL")
    );
    assert_eq!(option(&o, "tenant_id"), ("9", "flag"));
    assert_eq!(option(&o, "phone_region"), ("ID", "profile nightly"));
    // The same as JSON.
    let out = run(&env, &["config", "nxlink", "--json"], &vars);
    no_secret(&out);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let secret = v["options"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "access_secret")
        .unwrap();
    assert_eq!(secret["value"], "***");
    assert_eq!(secret["source"], "env CUSTIMPORT_NXLINK_ACCESS_SECRET");
    assert_eq!(v["profile"]["name"], "nightly");
}

#[test]
fn config_itnio_and_a_profile_for_the_other_provider() {
    let env = setup();
    let out = run(&env, &["config", "itnio", "--profile", "calls"], &[]);
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    let o = options(&text(&out).0);
    assert_eq!(option(&o, "job"), ("42", "profile calls"));
    assert_eq!(option(&o, "api_secret"), ("(not set)", "default"));
    assert_eq!(
        option(&o, "base_url"),
        ("https://api.itniotech.com", "default")
    );
    let out = run(&env, &["config", "nxlink", "--profile", "calls"], &[]);
    assert_eq!(out.status.code(), Some(2));
    let (stdout, stderr) = text(&out);
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains("profile \"calls\" is for provider \"itnio\", not nxlink"),
        "{stderr}"
    );
    no_secret(&out);
    // A base URL an import would refuse is refused here too, without echoing it.
    let out = run(
        &env,
        &[
            "config",
            "nxlink",
            "--base-url",
            "http://s3cr3t-env.example.com",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    no_secret(&out);
}

#[test]
fn text_from_the_file_is_escaped() {
    let env = TestEnv::new();
    env.write(
        "custimport.toml",
        "[profile.\"a\\u001b[2Jb\"]\nprovider = \"nx\\u0007\"\n[nxlink]\nmap = { full_name = \"N\\u001b]0;x\\u0007\" }\n",
    );
    let out = run(&env, &["config"], &[]);
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    let (stdout, _) = text(&out);
    assert!(
        stdout.contains("  a\\x1b[2Jb (provider nx\\x07)\n"),
        "{stdout}"
    );
    let out = run(&env, &["config", "nxlink"], &[]);
    let (stdout, _) = text(&out);
    assert!(
        !stdout.contains('\u{1b}') && !stdout.contains('\u{7}'),
        "{stdout:?}"
    );
    assert_eq!(
        option(&options(&stdout), "map.full_name"),
        ("N\\x1b]0;x\\x07", "section [nxlink]")
    );
}

#[test]
fn state_takes_the_profiles_state_path() {
    let env = setup();
    let path = |args: &[&str], vars: &[(&str, &str)]| {
        let out = run(&env, &[args, &["state", "path"]].concat(), vars);
        assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
        text(&out).0
    };
    assert_eq!(path(&["--profile", "nightly"], &[]), "state/nightly.db\n");
    assert_eq!(
        path(&[], &[("CUSTIMPORT_PROFILE", "nightly")]),
        "state/nightly.db\n"
    );
    let out = run(&env, &["state", "path", "--profile", "nightly"], &[]);
    assert_eq!(text(&out).0, "state/nightly.db\n");
    // --state wins; without a profile, the default.
    assert_eq!(
        path(&["--profile", "nightly", "--state", "x.db"], &[]),
        "x.db\n"
    );
    let default = env.path(".local/state/custimport/state.db");
    assert_eq!(path(&[], &[]), format!("{}\n", default.display()));
    // A profile that is not in the file is exit 2, as for an import.
    let out = run(&env, &["--profile", "weekly", "state", "path"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out)
        .1
        .contains("profile \"weekly\" is not in the config file"));
}

#[test]
fn state_without_a_profile_takes_a_sections_state_and_refuses_two() {
    let env = TestEnv::new();
    let state = |config: &str| {
        env.write("custimport.toml", config);
        run(&env, &["state", "path"], &[])
    };
    let out = state("state = \"top.db\"\n[nxlink]\nstate = \"nx.db\"\n");
    assert_eq!(text(&out).0, "nx.db\n");
    let out = state("state = \"top.db\"\n");
    assert_eq!(text(&out).0, "top.db\n");
    let out = state("[nxlink]\nstate = \"nx.db\"\n[itnio]\nstate = \"it.db\"\n");
    assert_eq!(out.status.code(), Some(2));
    let (_, stderr) = text(&out);
    assert!(
        stderr.contains("section [nxlink] and section [itnio] set different state databases"),
        "{stderr}"
    );
    // A profile naming its provider settles it.
    env.write(
        "custimport.toml",
        "[nxlink]\nstate = \"nx.db\"\n[itnio]\nstate = \"it.db\"\n[profile.p]\nprovider = \"itnio\"\n",
    );
    let out = run(&env, &["--profile", "p", "state", "path"], &[]);
    assert_eq!(text(&out).0, "it.db\n", "{:?}", text(&out));
    // A profile naming a provider custimport does not know settles nothing: exit 2, naming it
    // (it used to read the last provider's section).
    env.write(
        "custimport.toml",
        "[nxlink]\nstate = \"nx.db\"\n[itnio]\nstate = \"it.db\"\n[profile.p]\nprovider = \"foo\"\n",
    );
    let out = run(&env, &["--profile", "p", "state", "path"], &[]);
    assert_eq!(out.status.code(), Some(2), "{:?}", text(&out));
    let (stdout, stderr) = text(&out);
    assert_eq!(stdout, "");
    assert!(
        stderr.contains(
            "profile \"p\" is for provider \"foo\", which is none of nxlink, itnio: correct `provider` in [profile.p]"
        ),
        "{stderr}"
    );
}

#[test]
fn sandbox_credentials_man_page_and_completions() {
    let env = setup();
    let out = run(&env, &["config", "nxlink", "--sandbox"], &[]);
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    no_secret(&out);
    let o = options(&text(&out).0);
    assert_eq!(option(&o, "access_secret"), ("***", "sandbox"));
    assert_eq!(
        option(&o, "base_url"),
        ("sandbox (the built-in emulator)", "flag")
    );
    let out = run(&env, &["man", "config"], &[]);
    assert_eq!(out.status.code(), Some(0));
    let page = text(&out).0;
    assert!(page.contains(".TH custimport-config 1"), "{page}");
    assert!(page.contains("CUSTIMPORT_NXLINK_BASE_URL") && page.contains(".SH EXAMPLES"));
    let out = run(&env, &["completions", "bash"], &[]);
    assert!(text(&out)
        .0
        .contains("custimport__subcmd__config__subcmd__nxlink"));
}

/// `concurrency` and `rate` take `"auto"` in the config file as on the command line: a profile
/// brings back the adaptive default over a section's fixed values, and the import runs with it.
#[test]
fn concurrency_and_rate_take_auto_in_the_config_file() {
    let env = TestEnv::new();
    env.write(
        "custimport.toml",
        "[nxlink]\nconcurrency = 2\nrate = 5\n\
         [profile.adaptive]\nconcurrency = \"auto\"\nrate = \"AUTO\"\n\
         [profile.decimal]\nrate = 2.5\n\
         [profile.bad]\nconcurrency = \"fast\"\n",
    );
    let shown = |profile: Option<&str>| {
        let mut args = vec![];
        if let Some(p) = profile {
            args.extend(["--profile", p]);
        }
        args.extend(["config", "nxlink", "--sandbox"]);
        let out = run(&env, &args, &[]);
        assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
        let o = options(&text(&out).0);
        (
            option(&o, "concurrency").0.to_owned(),
            option(&o, "rate").0.to_owned(),
        )
    };
    assert_eq!(shown(None), ("2".to_owned(), "5".to_owned()));
    assert_eq!(
        shown(Some("adaptive")),
        ("auto".to_owned(), "auto".to_owned())
    );
    assert_eq!(shown(Some("decimal")).1, "2.5");
    let out = run(
        &env,
        &["--profile", "bad", "config", "nxlink", "--sandbox"],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out).1,
        "error: concurrency in [profile.bad] of the config file must be \"auto\" or a whole number from 1 to 1024 (concurrency = \"auto\", concurrency = 8)\n"
    );
    // An import with the profile runs without the section's fixed rate, as -v tells.
    let input = env.write(
        "a.csv",
        "name,phone\nA,6281000001\nB,6281000002\nC,6281000003\n",
    );
    let out = env
        .cmd("nxlink")
        .args([
            "--profile",
            "adaptive",
            "--batch-size",
            "1",
            "-v",
            "--no-progress",
        ])
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    let stderr = text(&out).1;
    assert!(stderr.contains("rate=auto (not limited)"), "{stderr}");
    assert!(!stderr.contains("rate=5.00/s"), "{stderr}");
}
