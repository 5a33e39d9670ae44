//! `TestEnv`: a temp dir, an in-process sandbox on port 0, the command preset with sandbox
//! credentials, and readers for the reports and for what the sandbox holds.

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use custimport_sandbox::{Sandbox, SandboxConfig};
use serde_json::Value;

pub(crate) struct TestEnv {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) rt: tokio::runtime::Runtime,
    pub(crate) sandbox: Option<Sandbox>,
    pub(crate) base_url: String,
}

impl TestEnv {
    pub(crate) fn new() -> TestEnv {
        TestEnv::with(SandboxConfig::default())
    }

    pub(crate) fn with(cfg: SandboxConfig) -> TestEnv {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let sandbox = rt
            .block_on(Sandbox::start(([127, 0, 0, 1], 0).into(), cfg))
            .unwrap();
        let base_url = sandbox.base_url();
        TestEnv {
            dir: tempfile::tempdir().unwrap(),
            rt,
            sandbox: Some(sandbox),
            base_url,
        }
    }

    /// A temp dir and the command preset for a sandbox already serving at `base_url` (a
    /// `custimport sandbox` process, say); the readers ask that sandbox.
    pub(crate) fn at(base_url: &str) -> TestEnv {
        TestEnv {
            dir: tempfile::tempdir().unwrap(),
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
            sandbox: None,
            base_url: base_url.to_owned(),
        }
    }

    pub(crate) fn latency(ms: u64) -> TestEnv {
        TestEnv::with(SandboxConfig {
            latency: Duration::from_millis(ms),
            ..Default::default()
        })
    }

    pub(crate) fn faults(spec: &str, seed: u64) -> TestEnv {
        TestEnv::with(SandboxConfig {
            faults: spec.parse().unwrap(),
            fault_seed: seed,
            ..Default::default()
        })
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub(crate) fn write(&self, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, content).unwrap();
        p
    }

    pub(crate) fn out(&self) -> PathBuf {
        self.path("out")
    }

    /// `custimport` with no ambient configuration: a clean environment, the sandbox's
    /// credentials in the environment, the sandbox as base URL.
    pub(crate) fn bare(&self) -> Command {
        let mut c = Command::from_std(self.std_bare());
        c.timeout(Duration::from_secs(120));
        c
    }

    fn std_bare(&self) -> std::process::Command {
        let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("custimport"));
        c.current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("XDG_CONFIG_HOME", self.path("xdg"));
        c
    }

    pub(crate) fn cmd(&self, provider: &str) -> Command {
        let mut c = Command::from_std(self.std_cmd(provider));
        c.timeout(Duration::from_secs(120));
        c
    }

    /// [`TestEnv::cmd`] as a plain `std::process::Command`, for a test that waits for the
    /// process itself (to read its resource usage, say).
    pub(crate) fn std_cmd(&self, provider: &str) -> std::process::Command {
        let mut c = self.std_bare();
        c.env("CUSTIMPORT_NXLINK_ACCESS_KEY", "sandbox")
            .env("CUSTIMPORT_NXLINK_ACCESS_SECRET", "sandbox-secret")
            .env("CUSTIMPORT_NXLINK_TENANT_ID", "1")
            .env("CUSTIMPORT_NXLINK_APP_KEY", "sandbox")
            .env("CUSTIMPORT_ITNIO_API_KEY", "sandbox")
            .env("CUSTIMPORT_ITNIO_API_SECRET", "sandbox-secret")
            .env("CUSTIMPORT_ITNIO_APP_ID", "sandbox")
            .arg(provider)
            .arg("--base-url")
            .arg(&self.base_url)
            .arg("--out")
            .arg(self.out())
            .arg("--backoff-ms")
            .arg("10");
        c
    }

    pub(crate) fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.out().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    pub(crate) fn summary(&self) -> Value {
        serde_json::from_str(&self.read("summary.json")).unwrap()
    }

    /// CSV report rows as maps from column to cell.
    pub(crate) fn csv_rows(&self, name: &str) -> Vec<Vec<(String, String)>> {
        read_csv(&self.out().join(name))
    }

    fn get(&self, path: &str) -> Value {
        let url = format!("{}{}", self.base_url, path);
        self.rt.block_on(async {
            let body = reqwest::get(&url).await.unwrap().bytes().await.unwrap();
            serde_json::from_slice::<Value>(&body).unwrap()
        })
    }

    /// What the sandbox holds for nxlink (its inspection answer must be a list).
    pub(crate) fn held_nxlink(&self) -> Vec<Value> {
        list(self.get("/_sandbox/nxlink/customers"))
    }

    /// What the sandbox holds in an itnio job (its inspection answer must be a list).
    pub(crate) fn held_itnio(&self, job: u64) -> Vec<Value> {
        list(self.get(&format!("/_sandbox/itnio/jobs/{job}")))
    }

    pub(crate) fn stats(&self) -> Value {
        self.get("/_sandbox/stats")
    }
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        if let Some(sb) = self.sandbox.take() {
            self.rt.block_on(sb.shutdown());
        }
    }
}

/// An inspection answer that must be a JSON list: anything else fails the test (an empty list
/// made up from an error would make "nothing held" checks pass vacuously).
fn list(v: Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a,
        other => panic!("the sandbox's inspection answer is not a list: {other}"),
    }
}

pub(crate) fn read_csv(path: &Path) -> Vec<Vec<(String, String)>> {
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_owned).collect();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            header
                .iter()
                .cloned()
                .zip(rec.iter().map(str::to_owned))
                .collect()
        })
        .collect()
}

/// The value of `col` in a report row.
pub(crate) fn cell<'a>(row: &'a [(String, String)], col: &str) -> &'a str {
    row.iter()
        .find(|(k, _)| k == col)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no column {col}"))
}

/// Rows of a report keyed by `custimport_row` (failed) or `row` (success).
pub(crate) fn by_row(
    rows: &[Vec<(String, String)>],
    col: &str,
) -> std::collections::BTreeMap<u64, Vec<(String, String)>> {
    rows.iter()
        .map(|r| (cell(r, col).parse().unwrap(), r.clone()))
        .collect()
}

/// Wait for a spawned `custimport` to exit and return its code; kill it and fail the test
/// after `limit` (a hang, not a slow run: limits are tens of seconds).
pub(crate) fn wait_for_exit(mut child: std::process::Child, limit: Duration) -> i32 {
    let start = std::time::Instant::now();
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st.code().unwrap_or(-1);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("custimport did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// `custimport sandbox ARGS` started as a child process, and the URL it says it listens on.
pub(crate) fn spawn_sandbox_command(args: &[&str]) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("custimport"))
        .arg("sandbox")
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("custimport sandbox listening on ")
        .unwrap_or_else(|| panic!("{line:?}"))
        .to_owned();
    (child, url)
}
