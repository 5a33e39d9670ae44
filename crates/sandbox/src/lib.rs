//! The sandbox: an in-process, strict emulator of the nxlink and itnio import endpoints, used by
//! `custimport sandbox`, by `--sandbox` and by tests.
//!
//! Invariant: it refuses exactly what the providers' documentation says they refuse (headers,
//! signatures, timestamps, limits, field rules), answers in their exact shapes and codes, keeps
//! what it accepted, and only the seeded fault plan makes it misbehave.
//!
//! Endpoints: `POST /saas/cdp/openapi/customers/batch_create` (and the `/saas/sea/...` variant),
//! `POST /aivoice/importCustomer`, and for inspection `GET /_sandbox/nxlink/customers`,
//! `GET /_sandbox/itnio/jobs/{job}`, `GET /_sandbox/stats`, `GET /_sandbox/events`,
//! `POST /_sandbox/reset`; `/_sandbox/redirected/...` is where the `redirect` faults point.
//!
//! The emulator depends on nothing of the importer: it checks signatures with its own code
//! (`verify.rs`) and fields with its own rules, both written from the providers' documentation,
//! so that the importer and the sandbox can disagree and a test can catch it.

#![warn(unreachable_pub)]

mod body;
mod events;
mod faults;
mod hostile;
mod http;
mod itnio;
mod itnio_store;
mod limits;
mod nxlink;
mod nxlink_fields;
mod nxlink_store;
mod phones;
mod scan;
mod server;
mod state;
mod stats;
mod verify;

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use events::Event;
pub use faults::{FaultKind, FaultPlan, FaultPlanError};
pub use itnio::{SCRIPT_JOBS as ITNIO_SCRIPT_JOBS, SCRIPT_PROPERTY as ITNIO_SCRIPT_PROPERTY};
pub use limits::Limits;
pub use nxlink::SEAT_DOMAIN as NXLINK_SEAT_DOMAIN;
pub use nxlink_store::FIRST_CUSTOMER_ID as NXLINK_FIRST_CUSTOMER_ID;
pub use stats::Stats;

pub const NXLINK_ACCESS_KEY: &str = "sandbox";
pub const NXLINK_ACCESS_SECRET: &str = "sandbox-secret";
pub const NXLINK_TENANT_ID: i64 = 1;
pub const NXLINK_APP_KEY: &str = "sandbox";
pub const ITNIO_API_KEY: &str = "sandbox";
pub const ITNIO_API_SECRET: &str = "sandbox-secret";
pub const ITNIO_APP_ID: &str = "sandbox";

/// The emulated provider of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Provider {
    Nxlink,
    Itnio,
}

impl Provider {
    /// The name in events and paths.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Provider::Nxlink => "nxlink",
            Provider::Itnio => "itnio",
        }
    }

    /// The body key of the request's rows.
    pub(crate) fn rows_key(self) -> &'static str {
        match self {
            Provider::Nxlink => "customers",
            Provider::Itnio => "customerPersons",
        }
    }
}

/// How the sandbox behaves beyond the documented rules.
#[derive(Debug, Clone, Default)]
pub struct SandboxConfig {
    /// Added before every provider answer.
    pub latency: Duration,
    /// Faults to inject into provider requests, and the `--refuse` rules.
    pub faults: FaultPlan,
    /// Seed of the fault draws (same seed and request order, same faults).
    pub fault_seed: u64,
    /// The sandbox's clock runs this many milliseconds ahead of the machine's (negative:
    /// behind); its timestamp checks and `Date` headers use it. Emulates a skewed client.
    pub clock_offset_ms: i64,
    /// Refuse, per row, WhatsApp/Viber numbers (and itnio digit phoneNumbers) that are not
    /// E.164 digits (see `phones.rs`).
    pub strict_phones: bool,
    /// Limits the sandbox hides and enforces (429 past a rate or a number in flight, latency
    /// growing past a knee); see [`Limits`].
    pub limits: Limits,
}

impl SandboxConfig {
    /// Every answer after `latency`.
    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// Answer HTTP 429 past `n` requests per second (a token bucket of `n`, refilled at `n`/s).
    pub fn limit_rps(mut self, n: u32) -> Self {
        self.limits.rps = Some(n);
        self
    }

    /// Answer HTTP 429 to a request arriving while `n` are being served.
    pub fn limit_conc(mut self, n: u32) -> Self {
        self.limits.conc = Some(n);
        self
    }

    /// The 429 answers of the hidden limits carry `Retry-After: secs`.
    pub fn retry_after(mut self, secs: u32) -> Self {
        self.limits.retry_after = Some(secs);
        self
    }

    /// Serve at most `k` requests at once, each for the latency; the others wait their turn.
    pub fn queue_latency(mut self, k: u32) -> Self {
        self.limits.queue = Some(k);
        self
    }
}

/// A running sandbox. Dropping it stops it in the background; [`Sandbox::shutdown`] waits.
#[derive(Debug)]
pub struct Sandbox {
    addr: SocketAddr,
    app: Arc<state::App>,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl Sandbox {
    /// Binds `addr` (port 0 picks a free port) and starts serving on the current runtime.
    pub async fn start(addr: SocketAddr, cfg: SandboxConfig) -> std::io::Result<Sandbox> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let app = Arc::new(state::App::new(cfg));
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(server::run(listener, Arc::clone(&app), stopped));
        Ok(Sandbox {
            addr,
            app,
            stop,
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:PORT` (a wildcard bind address is replaced by loopback).
    pub fn base_url(&self) -> String {
        let ip = match self.addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        format!("http://{}", SocketAddr::new(ip, self.addr.port()))
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, lets in-flight requests finish (at most 2 s) and returns.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// The counters, as `GET /_sandbox/stats` serves them.
    pub fn stats(&self) -> Stats {
        self.app.counters.snapshot()
    }

    /// Forgets every held customer, person and count (as `POST /_sandbox/reset`).
    pub fn reset(&self) {
        self.app.reset();
    }

    /// The held nxlink customers, as `GET /_sandbox/nxlink/customers` serves them.
    pub fn nxlink_customers(&self) -> Vec<Value> {
        self.app
            .nxlink
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .customers()
    }

    /// The faults and refusals answered so far, as `GET /_sandbox/events` serves them.
    pub fn events(&self) -> Vec<Event> {
        self.app.events.list()
    }

    /// The persons held in an itnio job, as `GET /_sandbox/itnio/jobs/{job}` serves them.
    pub fn itnio_persons(&self, job: i64) -> Vec<Value> {
        self.app
            .itnio
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .persons(job)
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// The emulator's fixed credentials, as config lines to paste (they open nothing else).
pub fn config_lines(base_url: &str) -> String {
    format!(
        "credentials it accepts (a custimport.toml for it; itnio jobs 1 to 999999):\n\
         [nxlink]\nbase_url = \"{base_url}\"\naccess_key = \"{NXLINK_ACCESS_KEY}\"\n\
         access_secret = \"{NXLINK_ACCESS_SECRET}\"\ntenant_id = {NXLINK_TENANT_ID}\n\
         app_key = \"{NXLINK_APP_KEY}\"\n\
         [itnio]\nbase_url = \"{base_url}\"\napi_key = \"{ITNIO_API_KEY}\"\n\
         api_secret = \"{ITNIO_API_SECRET}\"\napp_id = \"{ITNIO_APP_ID}\"\n"
    )
}

/// `custimport sandbox`: bind 127.0.0.1:`port`, print the base URL (first line) and the
/// credentials it accepts to stdout, and serve until SIGINT or SIGTERM.
pub async fn serve(port: u16, cfg: SandboxConfig) -> anyhow::Result<()> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let sandbox = Sandbox::start(addr, cfg)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    {
        let mut out = std::io::stdout().lock();
        // One write (under the pipe's atomic size): a reader that takes the first line and
        // closes the pipe leaves no later write to fail.
        let base = sandbox.base_url();
        out.write_all(
            format!(
                "custimport sandbox listening on {base}\n{}",
                config_lines(&base)
            )
            .as_bytes(),
        )
        .and_then(|()| out.flush())
        .context("cannot write to stdout")?;
    }
    let waited = wait_for_signal().await;
    sandbox.shutdown().await;
    waited.context("cannot wait for a signal")
}

#[cfg(unix)]
async fn wait_for_signal() -> std::io::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r,
        _ = term.recv() => Ok(()),
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() -> std::io::Result<()> {
    tokio::signal::ctrl_c().await
}

#[cfg(test)]
mod tests;
