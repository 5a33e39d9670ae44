//! Tests of the sandbox over real HTTP: helpers to start one on port 0 and to build signed
//! requests for both providers.
//!
//! Invariant: every test starts its own sandbox, so tests share no state and can run in parallel.

mod faults;
mod hostile;
mod inspect;
mod itnio;
mod limits;
mod nxlink;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use super::verify::{self, Hash};
use super::{Sandbox, SandboxConfig};

pub(super) async fn start(cfg: SandboxConfig) -> Sandbox {
    Sandbox::start(([127, 0, 0, 1], 0).into(), cfg)
        .await
        .expect("sandbox starts")
}

pub(super) async fn start_default() -> Sandbox {
    start(SandboxConfig::default()).await
}

pub(super) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

fn epoch() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
}

pub(super) fn now_ms() -> String {
    epoch().as_millis().to_string()
}

pub(super) fn now_secs() -> String {
    epoch().as_secs().to_string()
}

/// An answer: status, `Retry-After`, and the body text.
#[derive(Debug)]
pub(super) struct Reply {
    pub status: u16,
    pub retry_after: Option<String>,
    pub text: String,
}

impl Reply {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.text).expect("answer is JSON")
    }

    /// nxlink `code` (always an integer).
    pub(crate) fn code(&self) -> i64 {
        self.json()["code"].as_i64().expect("integer code")
    }

    /// itnio `status` (always a string).
    pub(crate) fn status_code(&self) -> String {
        self.json()["status"]
            .as_str()
            .expect("string status")
            .to_string()
    }
}

/// A request about to be sent: headers and the exact body text.
#[derive(Debug, Clone)]
pub(super) struct Req {
    pub path: &'static str,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Req {
    /// A correctly signed nxlink request (md5, current `ts`).
    pub(crate) fn nxlink(body: impl Into<String>) -> Req {
        Req::nxlink_with(body, &now_ms(), Hash::Md5)
    }

    pub(crate) fn nxlink_with(body: impl Into<String>, ts: &str, algorithm: Hash) -> Req {
        let body = body.into();
        let signed = [
            ("accessKey", super::NXLINK_ACCESS_KEY),
            ("action", "mt"),
            ("bizType", "2"),
            ("ts", ts),
        ];
        let sign = verify::nxlink_sign(
            signed,
            body.as_bytes(),
            super::NXLINK_ACCESS_SECRET,
            algorithm,
        );
        let mut headers = vec![
            ("Content-Type".to_string(), "application/json".to_string()),
            ("accessKey".into(), super::NXLINK_ACCESS_KEY.into()),
            ("ts".into(), ts.into()),
            ("bizType".into(), "2".into()),
            ("action".into(), "mt".into()),
            ("sign".into(), sign),
        ];
        if algorithm == Hash::Sha256 {
            headers.push(("algorithm".into(), "sha256".into()));
        }
        Req {
            path: "/saas/cdp/openapi/customers/batch_create",
            headers,
            body,
        }
    }

    /// A correctly signed itnio request (current `Timestamp`).
    pub(crate) fn itnio(body: impl Into<String>) -> Req {
        let ts = now_secs();
        let sign = verify::itnio_sign(super::ITNIO_API_KEY, super::ITNIO_API_SECRET, &ts);
        Req {
            path: "/aivoice/importCustomer",
            headers: vec![
                (
                    "Content-Type".to_string(),
                    "application/json;charset=UTF-8".to_string(),
                ),
                ("Sign".into(), sign),
                ("Timestamp".into(), ts),
                ("Api-Key".into(), super::ITNIO_API_KEY.into()),
            ],
            body: body.into(),
        }
    }

    /// Replaces (or adds) a header.
    pub(crate) fn set(mut self, name: &str, value: &str) -> Req {
        self = self.without(name);
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub(crate) fn without(mut self, name: &str) -> Req {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self
    }

    pub(crate) async fn try_send(
        &self,
        sb: &Sandbox,
        http: &reqwest::Client,
    ) -> reqwest::Result<Reply> {
        let mut rb = http.post(format!("{}{}", sb.base_url(), self.path));
        for (n, v) in &self.headers {
            rb = rb.header(n.as_str(), v.as_str());
        }
        let resp = rb.body(self.body.clone()).send().await?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let text = resp.text().await?;
        Ok(Reply {
            status,
            retry_after,
            text,
        })
    }

    pub(crate) async fn send(&self, sb: &Sandbox) -> Reply {
        self.try_send(sb, &client())
            .await
            .expect("request answered")
    }
}

/// An nxlink body for tenant 1 / app key `sandbox`.
pub(super) fn nx_body(mode: i64, customers: Value) -> String {
    json!({"type": mode, "tenant_id": 1, "app_key": "sandbox", "customers": customers}).to_string()
}

/// An itnio body for app `sandbox`.
pub(super) fn it_body(job: i64, persons: Value) -> String {
    json!({"appId": "sandbox", "jobId": job, "customerPersons": persons}).to_string()
}

pub(super) async fn get_json(sb: &Sandbox, path: &str) -> Value {
    let text = client()
        .get(format!("{}{}", sb.base_url(), path))
        .send()
        .await
        .expect("inspection answered")
        .text()
        .await
        .expect("inspection body");
    serde_json::from_str(&text).expect("inspection JSON")
}
