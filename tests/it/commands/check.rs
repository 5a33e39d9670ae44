//! `custimport check nxlink|itnio`: one signed request with an empty customer list; exit 0
//! when the credentials are accepted, 3 naming what to fix, 2 for configuration errors; nothing
//! is ever imported or written.

use custimport_sandbox::SandboxConfig;

use crate::env::TestEnv;

const WRONG: &str = "wr0ng-S3CRET-value";

fn run(env: &TestEnv, args: &[&str], vars: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = env.bare();
    cmd.env("CUSTIMPORT_NXLINK_ACCESS_KEY", "sandbox")
        .env("CUSTIMPORT_NXLINK_ACCESS_SECRET", "sandbox-secret")
        .env("CUSTIMPORT_NXLINK_TENANT_ID", "1")
        .env("CUSTIMPORT_NXLINK_APP_KEY", "sandbox")
        .env("CUSTIMPORT_ITNIO_API_KEY", "sandbox")
        .env("CUSTIMPORT_ITNIO_API_SECRET", "sandbox-secret")
        .env("CUSTIMPORT_ITNIO_APP_ID", "sandbox");
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = cmd.arg("check").args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Nothing held by the sandbox, nothing written in the working directory.
fn nothing_imported(env: &TestEnv, job: u64) {
    assert!(env.held_nxlink().is_empty());
    assert!(env.held_itnio(job).is_empty());
    let written: Vec<_> = std::fs::read_dir(env.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(written.is_empty(), "{written:?}");
}

#[test]
fn check_accepts_good_credentials_and_names_the_endpoint() {
    let env = TestEnv::new();
    let base = env.base_url.clone();
    let (code, out, err) = run(&env, &["nxlink", "--base-url", &base], &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        format!("nxlink: credentials accepted by {base}/saas/cdp/openapi/customers/batch_create; clock offset +0 s (the provider's Date minus this machine's clock)\n")
    );
    assert_eq!(err, "");
    let (code, out, err) = run(&env, &["itnio", "--job", "7", "--base-url", &base], &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        format!("itnio: credentials accepted by {base}/aivoice/importCustomer; clock offset +0 s (the provider's Date minus this machine's clock)\n")
    );
    // One request each, refused as a parameter error after authentication.
    let stats = env.stats();
    assert_eq!(stats["requests"], 2, "{stats}");
    nothing_imported(&env, 7);
}

#[test]
fn check_with_the_built_in_sandbox_needs_no_credentials() {
    let env = TestEnv::new();
    for args in [
        &["nxlink", "--sandbox"][..],
        &["itnio", "--sandbox", "--job", "1"],
    ] {
        let out = env.bare().arg("check").args(args).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {out:?}");
        assert!(
            stdout.contains(": credentials accepted by http://127.0.0.1:"),
            "{stdout}"
        );
    }
    nothing_imported(&env, 1);
}

/// The offset a line tells is 600 s, give or take the second the `Date` header is cut to.
fn assert_near_600(out: &str) {
    let n: i64 = out
        .split("; clock offset ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no offset in {out}"));
    assert!((599..=601).contains(&n), "{out}");
}

#[test]
fn check_reports_the_clock_offset_and_signs_with_the_providers_clock() {
    let env = TestEnv::with(SandboxConfig {
        clock_offset_ms: 600_000,
        ..Default::default()
    });
    let base = env.base_url.clone();
    let (code, out, err) = run(&env, &["nxlink", "--base-url", &base], &[]);
    assert_eq!(code, 0, "{err}");
    assert_near_600(&out);
    // The first request's timestamp was refused; the second, signed with the provider's clock,
    // was not.
    assert_eq!(env.stats()["requests"], 2);
    let (code, out, err) = run(&env, &["itnio", "--job", "7", "--base-url", &base], &[]);
    assert_eq!(code, 0, "{err}");
    assert_near_600(&out);
    nothing_imported(&env, 7);
}

#[test]
fn check_names_a_refused_secret_without_printing_it() {
    let env = TestEnv::new();
    let base = env.base_url.clone();
    let cases = [
        (
            &["nxlink", "--base-url", &base][..],
            "CUSTIMPORT_NXLINK_ACCESS_SECRET",
            "access_secret",
        ),
        (
            &["itnio", "--job", "7", "--base-url", &base][..],
            "CUSTIMPORT_ITNIO_API_SECRET",
            "api_secret",
        ),
    ];
    for (args, var, key) in cases {
        let provider = args[0];
        let (code, out, err) = run(&env, args, &[(var, WRONG)]);
        assert_eq!(code, 3, "{provider}: {err}");
        assert_eq!(out, "", "{provider}");
        assert!(err.starts_with("error: "), "{err}");
        assert!(err.contains(key), "{provider}: {err}");
        assert!(
            !err.contains(WRONG) && !err.contains("sandbox-secret"),
            "{err}"
        );
    }
    nothing_imported(&env, 7);
}

#[test]
fn check_refuses_an_itnio_job_that_does_not_exist() {
    let env = TestEnv::new();
    let base = env.base_url.clone();
    for job in ["0", "1000000"] {
        let (code, out, err) = run(&env, &["itnio", "--job", job, "--base-url", &base], &[]);
        assert_eq!(code, 3, "{job}: {err}");
        assert_eq!(out, "");
        assert!(
            err.contains(&format!(
                "job {job} does not exist for app sandbox: check --job"
            )),
            "{err}"
        );
        assert!(err.contains("-32"), "{err}");
    }
    // The highest job the sandbox holds is accepted.
    let (code, _, err) = run(
        &env,
        &["itnio", "--job", "999999", "--base-url", &base],
        &[],
    );
    assert_eq!(code, 0, "{err}");
    nothing_imported(&env, 0);
}

#[test]
fn check_refuses_a_wrong_tenant_or_application() {
    let env = TestEnv::new();
    let base = env.base_url.clone();
    let (code, _, err) = run(
        &env,
        &["nxlink", "--tenant-id", "2", "--base-url", &base],
        &[],
    );
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("check that app_key belongs to tenant 2"),
        "{err}"
    );
    let (code, _, err) = run(
        &env,
        &[
            "itnio",
            "--job",
            "7",
            "--app-id",
            "other",
            "--base-url",
            &base,
        ],
        &[],
    );
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("app other does not exist"), "{err}");
    nothing_imported(&env, 7);
}

#[test]
fn check_configuration_errors_are_exit_2_before_sending() {
    let env = TestEnv::new();
    let base = env.base_url.clone();
    let (code, _, err) = run(
        &env,
        &["nxlink", "--base-url", &base],
        &[("CUSTIMPORT_NXLINK_TENANT_ID", "one")],
    );
    assert_eq!(code, 2, "{err}");
    assert_eq!(
        err,
        "error: CUSTIMPORT_NXLINK_TENANT_ID must be a whole number\n"
    );
    let (code, _, err) = run(&env, &["nxlink", "--base-url", "http://example.com"], &[]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--base-url: plain http:// is only allowed"),
        "{err}"
    );
    let out = env.bare().args(["check", "itnio"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--job <ID>"), "{err}");
    let out = env
        .bare()
        .args(["check", "itnio", "--job", "7", "--base-url", &base])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("missing itnio credentials"), "{err}");
    assert_eq!(env.stats()["requests"], 0);
    nothing_imported(&env, 7);
}
