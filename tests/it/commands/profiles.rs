//! Saved jobs: every import option in the config file (provider sections and
//! `[profile.NAME]`), `--profile` / `CUSTIMPORT_PROFILE`, and their precedence under flags and
//! the environment, through the binary against the in-process sandbox.

use serde_json::{json, Value};

use crate::env::TestEnv;

/// Three Indonesian customers written nationally, under headers automatic matching does not know.
const NATIONAL: &str = "Nama,HP\nBudi,0812-3456-7801\nSiti,0812 3456 7802\nAni,081234567803\n";

/// A config file holding the sandbox's nxlink account in profile `nightly` only, with the
/// mapping, the phone region, `skip_unchanged` and the state; `extra` goes at the end of the
/// profile, `section` in `[nxlink]`.
fn nightly(env: &TestEnv, extra: &str, section: &str) -> std::path::PathBuf {
    let text = format!(
        "[nxlink]\n{section}\n[profile.nightly]\nprovider = \"nxlink\"\nbase_url = \"{}\"\naccess_key = \"sandbox\"\naccess_secret = \"sandbox-secret\"\ntenant_id = 1\napp_key = \"sandbox\"\nphone_region = \"ID\"\nskip_unchanged = true\nstate = \"state/custimport.db\"\nmap = {{ full_name = \"Nama\", whats_app_phone = \"HP\" }}\n{extra}\n",
        env.base_url
    );
    let path = env.write("custimport.toml", text);
    set_private(&path);
    path
}

fn set_private(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

fn requests(env: &TestEnv) -> u64 {
    env.stats()["requests"].as_u64().unwrap()
}

fn summary_of(env: &TestEnv, out: &str) -> Value {
    let text = std::fs::read_to_string(env.path(out).join("summary.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn first_line_options(env: &TestEnv, out: &str) -> Value {
    let journal = std::fs::read_to_string(env.path(out).join("journal.jsonl")).unwrap();
    let first: Value = serde_json::from_str(journal.lines().next().unwrap()).unwrap();
    first["start"]["options"].clone()
}

#[test]
fn a_profile_imports_with_a_bare_command_and_the_second_run_sends_nothing() {
    let env = TestEnv::new();
    nightly(&env, "", "");
    let input = env.write("export.csv", NATIONAL);
    env.bare()
        .args(["--profile", "nightly", "nxlink"])
        .arg(&input)
        .args(["--out", "run1"])
        .assert()
        .code(0);
    let held: Vec<String> = env
        .held_nxlink()
        .iter()
        .map(|c| c["whats_app_phone"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(held, ["6281234567801", "6281234567802", "6281234567803"]);
    assert_eq!(summary_of(&env, "run1")["succeeded"], json!(3));
    assert!(env.path("state/custimport.db").is_file());
    let sent = requests(&env);
    assert_eq!(sent, 1);
    // The same job again, the profile named by the environment: nothing is sent.
    env.bare()
        .env("CUSTIMPORT_PROFILE", "nightly")
        .arg("nxlink")
        .arg(&input)
        .args(["--out", "run2"])
        .assert()
        .code(0);
    assert_eq!(requests(&env), sent, "the second run sent something");
    let s = summary_of(&env, "run2");
    assert_eq!(
        (s["unchanged"].clone(), s["succeeded"].clone()),
        (json!(3), json!(0))
    );
    // Without the profile there are no credentials at all.
    let out = env.bare().arg("nxlink").arg(&input).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing nxlink credentials"));
}

#[test]
fn profile_values_are_recorded_as_given_and_a_resume_keeps_them() {
    let env = TestEnv::new();
    nightly(&env, "mode = \"keep\"\nbatch_size = 2", "");
    let input = env.write("export.csv", NATIONAL);
    let run = |extra: &[&str]| {
        let out = env
            .bare()
            .args(["nxlink", "--profile", "nightly"])
            .arg(&input)
            .args(["--out", "run"])
            .args(extra)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    assert_eq!(run(&[]).0, Some(0));
    assert_eq!(requests(&env), 2, "batch_size 2 from the profile");
    let o = first_line_options(&env, "run");
    assert_eq!(o["mode"], json!("keep"));
    assert_eq!(o["batch_size"], json!(2));
    assert_eq!(o["phone_region"], json!("ID"));
    assert_eq!(o["skip_unchanged"], json!(true));
    assert_eq!(o["map"], json!(["full_name=Nama", "whats_app_phone=HP"]));
    // A flag with another value than the profile's recorded one refuses the resume.
    let (code, err) = run(&["--resume", "--mode", "merge"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("--mode keep") && err.contains("--mode merge"),
        "{err}"
    );
    // So does the profile itself once changed: its values count as given.
    nightly(&env, "mode = \"keep\"\nbatch_size = 3", "");
    let (code, err) = run(&["--resume"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("--batch-size 2") && err.contains("--batch-size 3"),
        "{err}"
    );
    nightly(&env, "mode = \"keep\"\nbatch_size = 2", "");
    assert_eq!(run(&["--resume"]).0, Some(0));
    assert_eq!(requests(&env), 2);
}

#[test]
fn precedence_flag_over_environment_over_profile_over_section() {
    let env = TestEnv::new();
    // The section's secret is wrong and its batch size 1; the profile's secret is right.
    nightly(
        &env,
        "batch_size = 2",
        "access_secret = \"wrong\"\nbatch_size = 1\nskip_unchanged = false\nconcurrency = 1",
    );
    // The profile's skip_unchanged = true wins over the section's false.
    let text = std::fs::read_to_string(env.path("custimport.toml")).unwrap();
    assert!(text.contains("skip_unchanged = true"));
    let input = env.write("export.csv", NATIONAL);
    let go = |args: &[&str], vars: &[(&str, &str)]| {
        let before = requests(&env);
        let mut cmd = env.bare();
        for (k, v) in vars {
            cmd.env(k, v);
        }
        let out = cmd.args(args).arg(&input).output().unwrap();
        (out.status.code(), requests(&env) - before)
    };
    // The profile over the section: its batch size, its secret, and its skip_unchanged = true
    // (the same rows are not sent again).
    assert_eq!(go(&["--profile", "nightly", "nxlink"], &[]), (Some(0), 2));
    assert_eq!(go(&["--profile", "nightly", "nxlink"], &[]), (Some(0), 0));
    // A flag over the profile: a fresh state, one request of 3.
    assert_eq!(
        go(
            &[
                "--profile",
                "nightly",
                "nxlink",
                "--batch-size",
                "3",
                "--state",
                "other.db"
            ],
            &[]
        ),
        (Some(0), 1)
    );
    // The environment over the profile: a wrong secret there stops the run (exit 3).
    assert_eq!(
        go(
            &["--profile", "nightly", "nxlink", "--state", "third.db"],
            &[("CUSTIMPORT_NXLINK_ACCESS_SECRET", "wrong-too")]
        ),
        (Some(3), 1)
    );
    // Without the profile, the section's wrong secret and batch size 1 (and its
    // skip_unchanged = false): the endpoint is the default one, so give the sandbox's.
    assert_eq!(
        go(
            &[
                "nxlink",
                "--base-url",
                &env.base_url.clone(),
                "--map",
                "full_name=Nama",
                "--map",
                "whats_app_phone=HP"
            ],
            &[
                ("CUSTIMPORT_NXLINK_ACCESS_KEY", "sandbox"),
                ("CUSTIMPORT_NXLINK_TENANT_ID", "1"),
                ("CUSTIMPORT_NXLINK_APP_KEY", "sandbox")
            ]
        ),
        (Some(3), 1)
    );
    assert_eq!(
        go(
            &[
                "nxlink",
                "--base-url",
                &env.base_url.clone(),
                "--map",
                "full_name=Nama",
                "--map",
                "whats_app_phone=HP",
                "--phone-region",
                "ID"
            ],
            &[
                ("CUSTIMPORT_NXLINK_ACCESS_KEY", "sandbox"),
                ("CUSTIMPORT_NXLINK_TENANT_ID", "1"),
                ("CUSTIMPORT_NXLINK_APP_KEY", "sandbox"),
                ("CUSTIMPORT_NXLINK_ACCESS_SECRET", "sandbox-secret")
            ]
        ),
        (Some(0), 3)
    );
    // The flag over the environment's profile.
    let out = env
        .bare()
        .env("CUSTIMPORT_PROFILE", "nightly")
        .args(["nxlink", "--profile", "absent"])
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: profile \"absent\" is not in the config file (its profiles: \"nightly\"); write a [profile.NAME] section, see config.example.toml\n"
    );
}

#[test]
fn a_profile_for_the_other_provider_is_exit_2() {
    let env = TestEnv::new();
    nightly(&env, "", "");
    let input = env.write("export.csv", NATIONAL);
    let import = [
        "--profile".as_ref(),
        "nightly".as_ref(),
        "itnio".as_ref(),
        "--job".as_ref(),
        "3".as_ref(),
        input.as_os_str(),
    ];
    let check: [&std::ffi::OsStr; 6] =
        ["--profile", "nightly", "check", "itnio", "--job", "3"].map(std::ffi::OsStr::new);
    for args in [&import[..], &check[..]] {
        let out = env.bare().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            "error: profile \"nightly\" is for provider \"nxlink\", not itnio: run `custimport nxlink --profile nightly`, or remove `provider` from [profile.nightly]\n"
        );
    }
    assert_eq!(requests(&env), 0);
}

#[test]
fn itnio_job_and_options_from_a_profile_and_check_uses_it() {
    let env = TestEnv::new();
    let text = format!(
        "[itnio]\nbase_url = \"{}\"\napi_key = \"sandbox\"\napi_secret = \"sandbox-secret\"\napp_id = \"sandbox\"\njob = 5\n\n[profile.leads]\njob = 77\nmap = {{ name = \"Nama\", phoneNumber = \"HP\" }}\nphone_region = \"ID\"\n",
        env.base_url
    );
    set_private(&env.write("custimport.toml", text));
    let input = env.write("export.csv", NATIONAL);
    env.bare()
        .args(["itnio", "--profile", "leads"])
        .arg(&input)
        .assert()
        .code(0);
    assert_eq!(env.held_itnio(77).len(), 3);
    assert!(env.held_itnio(5).is_empty());
    // The section's job without the profile.
    let out = env.bare().arg("check").arg("itnio").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    // A profile naming a job the sandbox does not hold: check says so.
    set_private(&env.write(
        "custimport.toml",
        format!(
            "[itnio]\nbase_url = \"{}\"\napi_key = \"sandbox\"\napi_secret = \"sandbox-secret\"\napp_id = \"sandbox\"\n[profile.gone]\njob = 0\n",
            env.base_url
        ),
    ));
    let out = env
        .bare()
        .args(["check", "itnio", "--profile", "gone"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("job 0 does not exist"));
}

#[test]
fn bad_values_and_misspelt_keys_in_a_profile_are_named() {
    let env = TestEnv::new();
    let input = env.write("export.csv", NATIONAL);
    let cases = [
        (
            "[profile.nightly]\nskip_unchaged = true\n",
            "error: config file custimport.toml:2:1: skip_unchaged in [profile.nightly]: unknown key; did you mean skip_unchanged? the keys are: provider, ",
        ),
        (
            "[profile.nightly]\nconcurrency = \"4\"\n",
            "error: concurrency in [profile.nightly] of the config file must be \"auto\" or a whole number from 1 to 1024 (concurrency = \"auto\", concurrency = 8)\n",
        ),
        (
            "[profile.nightly]\nbatch_size = 101\n",
            "error: batch_size in [profile.nightly] of the config file must be from 1 to 100\n",
        ),
        (
            "[nxlink]\nmode = \"upsert\"\n[profile.nightly]\n",
            "error: mode in [nxlink] of the config file must be replace, merge or keep\n",
        ),
    ];
    for (text, want) in cases {
        env.write("custimport.toml", text);
        let out = env
            .bare()
            .args(["--profile", "nightly", "nxlink", "--dry-run"])
            .arg(&input)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{text}: {err}");
        assert!(err.starts_with(want), "{text}:\n{err}\nwanted: {want}");
    }
}

#[test]
fn the_example_config_and_its_nightly_profile_are_valid() {
    let env = TestEnv::new();
    let example =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config.example.toml"))
            .unwrap();
    set_private(&env.write("custimport.toml", example));
    let input = env.write("in.csv", "Nama,No HP\nA,0812345678\n");
    let out = env
        .bare()
        .args(["--profile", "nightly", "nxlink", "--dry-run"])
        .arg(&input)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(stdout.contains("\"0812345678\" -> 62812345678"), "{stdout}");
    assert!(stdout.contains("whats_app_phone <- \"No HP\""), "{stdout}");
}

#[test]
fn the_metrics_of_a_profile_run_carry_its_name() {
    let env = TestEnv::new();
    nightly(&env, "metrics_file = \"custimport.prom\"", "");
    let input = env.write("export.csv", NATIONAL);
    env.bare()
        .env("CUSTIMPORT_PROFILE", "nightly")
        .arg("nxlink")
        .arg(&input)
        .assert()
        .code(0);
    let text = std::fs::read_to_string(env.path("custimport.prom")).unwrap();
    assert!(
        text.contains(
            "custimport_rows{provider=\"nxlink\",profile=\"nightly\",outcome=\"succeeded\"} 3"
        ),
        "{text}"
    );
}
