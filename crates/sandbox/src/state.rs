//! The state every request handler shares: the configuration that shapes answers (latency,
//! clock offset, strict phones), the fault injector, the hidden limits, the counters, the event log and the two
//! provider stores.
//!
//! Invariant: the stores are only reached through their locks, and a reset forgets the stores,
//! counters and events together and restarts the fault sequence from its seed.

use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

use hyper::header::HeaderValue;

use super::events::Events;
use super::faults::Injector;
use super::http::now_millis;
use super::limits::Gate;
use super::stats::Counters;
use super::{itnio_store, nxlink_store, SandboxConfig};

/// Everything the request handlers share.
#[derive(Debug)]
pub(crate) struct App {
    pub latency: Duration,
    pub counters: Arc<Counters>,
    pub injector: Injector,
    /// The hidden limits (`SandboxConfig::limits`).
    pub gate: Gate,
    pub nxlink: Mutex<nxlink_store::Store>,
    pub itnio: Mutex<itnio_store::Store>,
    /// The faults and refusals answered.
    pub events: Events,
    /// This sandbox's clock, relative to the machine's (to emulate a skewed client).
    pub clock_offset_ms: i64,
    /// The strict phone rule (`SandboxConfig::strict_phones`).
    pub strict_phones: bool,
}

impl App {
    /// The state of a new sandbox configured by `cfg`: empty stores, zero counters.
    pub(crate) fn new(cfg: SandboxConfig) -> Self {
        App {
            latency: cfg.latency,
            counters: Arc::default(),
            injector: Injector::new(cfg.faults, cfg.fault_seed),
            gate: Gate::new(cfg.limits),
            nxlink: Mutex::default(),
            itnio: Mutex::default(),
            events: Events::default(),
            clock_offset_ms: cfg.clock_offset_ms,
            strict_phones: cfg.strict_phones,
        }
    }

    /// The provider's clock in milliseconds since the epoch.
    pub(crate) fn now_millis(&self) -> i64 {
        now_millis() + self.clock_offset_ms
    }

    /// The provider's clock as an HTTP `Date` value.
    pub(crate) fn http_date(&self) -> Option<HeaderValue> {
        let at = UNIX_EPOCH + Duration::from_millis(u64::try_from(self.now_millis()).ok()?);
        HeaderValue::from_str(&httpdate::fmt_http_date(at)).ok()
    }

    /// Forgets every customer, person, count and event; the fault sequence restarts from its
    /// seed.
    pub(crate) fn reset(&self) {
        self.events.reset();
        *self.nxlink.lock().unwrap_or_else(|e| e.into_inner()) = nxlink_store::Store::default();
        *self.itnio.lock().unwrap_or_else(|e| e.into_inner()) = itnio_store::Store::default();
        self.counters.reset();
        self.injector.reseed();
        self.gate.reset();
    }
}
