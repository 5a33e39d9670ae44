//! Fault injection for the provider endpoints: the plan (parsed from `"500=0.1,reset=0.05"`, plus
//! the `--refuse PHONE=CODE` rules), and the seeded injector that draws one fault (or none) per
//! provider request.
//!
//! Invariant: one draw from one seeded RNG per provider request, over the kinds in the fixed order
//! of [`FaultKind::ALL`], so the same seed, plan and request order give the same faults. Where a
//! kind has several forms (`vague`, `redirect`, ...) or picks a row of the request, the choice
//! comes from where that same draw fell inside the kind's share, so it is just as reproducible. A
//! plan whose probabilities sum above 1 is refused when parsed, so every probability is honoured
//! exactly.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::Provider;

/// One kind of injected fault. The README's sandbox section describes each in a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaultKind {
    /// HTTP 500, nothing applied.
    Http500,
    /// HTTP 503 with `Retry-After: 1`, nothing applied.
    Http503,
    /// HTTP 429 with `Retry-After: 1`, nothing applied.
    Http429,
    /// The TCP connection is reset (RST) without an answer, nothing applied.
    Reset,
    /// HTTP 200 with a body that is not JSON, nothing applied.
    Garbage,
    /// Applied, then HTTP 200 with the JSON answer cut in half.
    Truncated,
    /// Applied, then HTTP 500.
    Applied500,
    /// Applied, then the answer is delayed by `late_ms`.
    Late,
    /// Applied and answered correctly after `slow_ms`.
    Slow,
    /// The provider's timestamp-expired answer (nxlink 1004, itnio -4), nothing applied.
    Skew,
    /// Applied, and the answer carries one extra line or item that matches no row of the
    /// request (itnio: a `data` line for another phone; nxlink: an item with an unknown index).
    Stray,
    /// "Too fast": itnio status -52, nxlink HTTP 429 with `Retry-After: 1`; nothing applied.
    Throttle,
    /// Applied, then a "success" that confirms no row: one of the `vague_*` forms, seeded
    /// (nxlink: any of the five; itnio: `vague_string` or `vague_empty`).
    Vague,
    /// Applied; code/status 0 with no `data` at all.
    VagueMissing,
    /// Applied; code/status 0 with `data: null`.
    VagueNull,
    /// Applied; code/status 0 with `data: {}`.
    VagueEmpty,
    /// Applied; code/status 0 with `data: "internal error"`.
    VagueString,
    /// Applied; code/status 0 with `data: {"successItems": [], "failItems": []}`.
    VagueLists,
    /// nxlink: applied, and the answer leaves one row out of both lists (counts agree with
    /// the shortened lists).
    Omit,
    /// nxlink: applied, and one row is listed twice: `contradict_both` or `contradict_twice`,
    /// seeded.
    Contradict,
    /// nxlink: applied, and one row appears in both `successItems` and `failItems`.
    ContradictBoth,
    /// nxlink: applied, and one row appears twice in the same list.
    ContradictTwice,
    /// nxlink: applied, lists as they should be, but `totalCount` is one more than the rows
    /// sent, `successCount` the rows sent and `failCount` 0.
    Miscount,
    /// itnio: one row is refused (not stored) and its line names the phone in a variant
    /// spelling: one of the `fullwidth_*` forms, seeded.
    Fullwidth,
    /// itnio: `该客户已存在于此任务中，手机号：PHONE` (full-width comma and colon).
    FullwidthCn,
    /// itnio: `Customer custom property is incomplete,Phone Number:+62 812-3456-789`.
    FullwidthPlus,
    /// itnio: `Import refused for PHONE (number blocked)`, the phone inside the text.
    FullwidthText,
    /// itnio: one row is refused (not stored) and the line says `Import failed for one
    /// customer`, naming no phone.
    Anon,
    /// A redirect, nothing applied: one of the `redirect3xx` forms, seeded.
    Redirect,
    /// HTTP 301 to a path of the sandbox that answers a perfect success for anything.
    Redirect301,
    /// HTTP 302, as `redirect301`.
    Redirect302,
    /// HTTP 307, as `redirect301`.
    Redirect307,
    /// HTTP 308, as `redirect301`.
    Redirect308,
    /// HTTP 200 with a body of `huge_mb` MiB (streamed, never held): a valid answer's start,
    /// whitespace, and a perfect success at the end. Nothing applied.
    Huge,
    /// HTTP 200 with a chunked body that never ends (until the client hangs up). Nothing applied.
    Endless,
    /// A whole-request refusal whose message holds terminal escapes (`ESC[2J`, `ESC[31m`, CR,
    /// BEL): nxlink code 22000 (with a `traceId`), itnio status -35. Nothing applied.
    Escape,
    /// The whole request refused with the parameter-error code (nxlink 1002, itnio -27).
    /// Nothing applied.
    Param,
}

/// The number of fault kinds.
pub(crate) const KINDS: usize = FaultKind::ALL.len();

impl FaultKind {
    /// Every kind, in the order the injector walks them.
    pub const ALL: [FaultKind; 37] = [
        FaultKind::Http500,
        FaultKind::Http503,
        FaultKind::Http429,
        FaultKind::Reset,
        FaultKind::Garbage,
        FaultKind::Truncated,
        FaultKind::Applied500,
        FaultKind::Late,
        FaultKind::Slow,
        FaultKind::Skew,
        FaultKind::Stray,
        FaultKind::Throttle,
        FaultKind::Vague,
        FaultKind::VagueMissing,
        FaultKind::VagueNull,
        FaultKind::VagueEmpty,
        FaultKind::VagueString,
        FaultKind::VagueLists,
        FaultKind::Omit,
        FaultKind::Contradict,
        FaultKind::ContradictBoth,
        FaultKind::ContradictTwice,
        FaultKind::Miscount,
        FaultKind::Fullwidth,
        FaultKind::FullwidthCn,
        FaultKind::FullwidthPlus,
        FaultKind::FullwidthText,
        FaultKind::Anon,
        FaultKind::Redirect,
        FaultKind::Redirect301,
        FaultKind::Redirect302,
        FaultKind::Redirect307,
        FaultKind::Redirect308,
        FaultKind::Huge,
        FaultKind::Endless,
        FaultKind::Escape,
        FaultKind::Param,
    ];

    /// The name used in plan strings and in the stats.
    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::Http500 => "500",
            FaultKind::Http503 => "503",
            FaultKind::Http429 => "429",
            FaultKind::Reset => "reset",
            FaultKind::Garbage => "garbage",
            FaultKind::Truncated => "truncated",
            FaultKind::Applied500 => "applied500",
            FaultKind::Late => "late",
            FaultKind::Slow => "slow",
            FaultKind::Skew => "skew",
            FaultKind::Stray => "stray",
            FaultKind::Throttle => "throttle",
            FaultKind::Vague => "vague",
            FaultKind::VagueMissing => "vague_missing",
            FaultKind::VagueNull => "vague_null",
            FaultKind::VagueEmpty => "vague_empty",
            FaultKind::VagueString => "vague_string",
            FaultKind::VagueLists => "vague_lists",
            FaultKind::Omit => "omit",
            FaultKind::Contradict => "contradict",
            FaultKind::ContradictBoth => "contradict_both",
            FaultKind::ContradictTwice => "contradict_twice",
            FaultKind::Miscount => "miscount",
            FaultKind::Fullwidth => "fullwidth",
            FaultKind::FullwidthCn => "fullwidth_cn",
            FaultKind::FullwidthPlus => "fullwidth_plus",
            FaultKind::FullwidthText => "fullwidth_text",
            FaultKind::Anon => "anon",
            FaultKind::Redirect => "redirect",
            FaultKind::Redirect301 => "redirect301",
            FaultKind::Redirect302 => "redirect302",
            FaultKind::Redirect307 => "redirect307",
            FaultKind::Redirect308 => "redirect308",
            FaultKind::Huge => "huge",
            FaultKind::Endless => "endless",
            FaultKind::Escape => "escape",
            FaultKind::Param => "param",
        }
    }

    /// Position in [`FaultKind::ALL`] (the variants are declared in that order).
    pub fn index(self) -> usize {
        self as usize
    }

    /// Whether the request is processed (and its effects kept) despite the fault.
    pub fn applies_request(self) -> bool {
        matches!(
            self,
            FaultKind::Truncated
                | FaultKind::Applied500
                | FaultKind::Late
                | FaultKind::Slow
                | FaultKind::Stray
                | FaultKind::Vague
                | FaultKind::VagueMissing
                | FaultKind::VagueNull
                | FaultKind::VagueEmpty
                | FaultKind::VagueString
                | FaultKind::VagueLists
                | FaultKind::Omit
                | FaultKind::Contradict
                | FaultKind::ContradictBoth
                | FaultKind::ContradictTwice
                | FaultKind::Miscount
                | FaultKind::Fullwidth
                | FaultKind::FullwidthCn
                | FaultKind::FullwidthPlus
                | FaultKind::FullwidthText
                | FaultKind::Anon
        )
    }

    /// Whether the kind has a form for `provider`; a kind without one leaves that provider's
    /// requests alone (answered correctly, not counted as a fault).
    pub(crate) fn fits(self, provider: Provider) -> bool {
        match self {
            FaultKind::Omit
            | FaultKind::Contradict
            | FaultKind::ContradictBoth
            | FaultKind::ContradictTwice
            | FaultKind::Miscount => provider == Provider::Nxlink,
            FaultKind::Fullwidth
            | FaultKind::FullwidthCn
            | FaultKind::FullwidthPlus
            | FaultKind::FullwidthText
            | FaultKind::Anon => provider == Provider::Itnio,
            _ => true,
        }
    }

    /// The forms a seeded kind picks among, for `provider` (empty for a kind of one form).
    fn forms(self, provider: Provider) -> &'static [FaultKind] {
        match (self, provider) {
            (FaultKind::Vague, Provider::Nxlink) => &[
                FaultKind::VagueMissing,
                FaultKind::VagueNull,
                FaultKind::VagueEmpty,
                FaultKind::VagueString,
                FaultKind::VagueLists,
            ],
            (FaultKind::Vague, Provider::Itnio) => &[FaultKind::VagueString, FaultKind::VagueEmpty],
            (FaultKind::Contradict, _) => &[FaultKind::ContradictBoth, FaultKind::ContradictTwice],
            (FaultKind::Fullwidth, _) => &[
                FaultKind::FullwidthCn,
                FaultKind::FullwidthPlus,
                FaultKind::FullwidthText,
            ],
            (FaultKind::Redirect, _) => &[
                FaultKind::Redirect301,
                FaultKind::Redirect302,
                FaultKind::Redirect307,
                FaultKind::Redirect308,
            ],
            _ => &[],
        }
    }

    fn from_name(name: &str) -> Option<FaultKind> {
        FaultKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// A fault drawn for one request of one provider, resolved to its concrete form.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Fault {
    /// The kind the plan drew (`vague`, say).
    pub drawn: FaultKind,
    /// The form it takes (`vague_string`, say); equal to `drawn` for a kind of one form.
    pub kind: FaultKind,
    /// What is left of the draw, uniform in `[0, 1)`: picks the row a fault is about.
    pick: f64,
}

impl Fault {
    /// Resolves a drawn kind (with `pick`, uniform in `[0, 1)`) for `provider`; `None` when the
    /// kind has no form for that provider.
    pub(crate) fn resolve(drawn: FaultKind, pick: f64, provider: Provider) -> Option<Fault> {
        if !drawn.fits(provider) {
            return None;
        }
        let forms = drawn.forms(provider);
        let (kind, pick) = if forms.is_empty() {
            (drawn, pick)
        } else {
            let scaled = pick * forms.len() as f64;
            let i = (scaled as usize).min(forms.len() - 1);
            (forms[i], (scaled - i as f64).clamp(0.0, 1.0))
        };
        Some(Fault { drawn, kind, pick })
    }

    /// The row (0-based index in the request of `rows` rows) the fault is about; `None` for an
    /// empty request.
    pub(crate) fn row(&self, rows: usize) -> Option<usize> {
        let i = (self.pick * rows as f64) as usize;
        (rows > 0).then(|| i.min(rows - 1))
    }
}

/// The `--refuse PHONE=CODE` rules: a request holding a customer with one of these phones is
/// refused whole with the code. A positive code is an nxlink `code`, a negative one an itnio
/// `status`; each rule applies to that provider's requests only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Refusals {
    nxlink: HashMap<String, i64>,
    itnio: HashMap<String, i64>,
}

impl Refusals {
    /// The code a request of `provider` holding `phone` is refused with, if any.
    pub(crate) fn code(&self, provider: Provider, phone: &str) -> Option<i64> {
        let rules = match provider {
            Provider::Nxlink => &self.nxlink,
            Provider::Itnio => &self.itnio,
        };
        if rules.is_empty() {
            return None;
        }
        rules.get(phone).copied()
    }

    /// True when no rule is set.
    pub fn is_empty(&self) -> bool {
        self.nxlink.is_empty() && self.itnio.is_empty()
    }
}

/// Which faults to inject and how often. `Default` injects nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultPlan {
    probabilities: [f64; KINDS],
    /// Delay of a `late` answer.
    pub late: Duration,
    /// Delay of a `slow` answer.
    pub slow: Duration,
    /// Size of a `huge` answer, in MiB.
    pub huge_mb: u64,
    /// The `--refuse` rules.
    pub refusals: Refusals,
}

impl Default for FaultPlan {
    fn default() -> Self {
        FaultPlan {
            probabilities: [0.0; KINDS],
            late: Duration::from_millis(3000),
            slow: Duration::from_millis(500),
            huge_mb: 300,
            refusals: Refusals::default(),
        }
    }
}

impl FaultPlan {
    /// The probability of one kind.
    pub fn probability(&self, kind: FaultKind) -> f64 {
        self.probabilities[kind.index()]
    }

    /// Sets the probability of one kind (clamped to 0..=1).
    pub fn with(mut self, kind: FaultKind, probability: f64) -> Self {
        self.probabilities[kind.index()] = probability.clamp(0.0, 1.0);
        self
    }

    /// Adds a `--refuse` rule, `PHONE=CODE`.
    pub fn refuse(mut self, rule: &str) -> Result<Self, FaultPlanError> {
        let bad = || FaultPlanError::Refuse(rule.to_string());
        let (phone, code) = rule.split_once('=').ok_or_else(bad)?;
        let (phone, code) = (phone.trim(), code.trim());
        let code: i64 = code.parse().ok().filter(|c| *c != 0).ok_or_else(bad)?;
        if phone.is_empty() || phone.chars().any(char::is_whitespace) {
            return Err(bad());
        }
        let rules = if code > 0 {
            &mut self.refusals.nxlink
        } else {
            &mut self.refusals.itnio
        };
        if rules.insert(phone.to_string(), code).is_some() {
            return Err(FaultPlanError::Duplicate(format!("--refuse {phone}")));
        }
        Ok(self)
    }

    /// True when no fault can be drawn (the `--refuse` rules are not draws).
    pub fn is_empty(&self) -> bool {
        self.probabilities.iter().all(|p| *p <= 0.0)
    }
}

/// Why a plan string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaultPlanError {
    #[error("fault plan item {0:?} is not of the form kind=value")]
    Syntax(String),
    #[error("unknown fault kind {0:?} (known: {known}, late_ms, slow_ms, huge_mb)", known = known_kinds())]
    UnknownKind(String),
    #[error("fault {0:?}: probability must be a number from 0 to 1")]
    Probability(String),
    #[error("fault plan: {0} must be a whole number of milliseconds")]
    Millis(String),
    #[error("fault plan: huge_mb must be a whole number of MiB from 1 to 65536")]
    HugeMb,
    #[error("fault {0:?} is given twice")]
    Duplicate(String),
    #[error("fault probabilities add up to more than 1")]
    SumAboveOne,
    #[error("--refuse {0:?} is not of the form PHONE=CODE (a phone without spaces, a non-zero integer code: positive for nxlink, negative for itnio)")]
    Refuse(String),
}

fn known_kinds() -> String {
    FaultKind::ALL.map(FaultKind::as_str).join(", ")
}

impl FromStr for FaultPlan {
    type Err = FaultPlanError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut plan = FaultPlan::default();
        let mut seen: Vec<&str> = Vec::new();
        for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (name, value) = item
                .split_once('=')
                .map(|(n, v)| (n.trim(), v.trim()))
                .ok_or_else(|| FaultPlanError::Syntax(item.to_string()))?;
            if seen.contains(&name) {
                return Err(FaultPlanError::Duplicate(name.to_string()));
            }
            seen.push(name);
            match name {
                "late_ms" | "slow_ms" => {
                    let ms: u64 = value
                        .parse()
                        .map_err(|_| FaultPlanError::Millis(name.to_string()))?;
                    let slot = if name == "late_ms" {
                        &mut plan.late
                    } else {
                        &mut plan.slow
                    };
                    *slot = Duration::from_millis(ms);
                }
                "huge_mb" => {
                    plan.huge_mb = value
                        .parse()
                        .ok()
                        .filter(|mb| (1..=65536).contains(mb))
                        .ok_or(FaultPlanError::HugeMb)?;
                }
                _ => {
                    let kind = FaultKind::from_name(name)
                        .ok_or_else(|| FaultPlanError::UnknownKind(name.to_string()))?;
                    let p: f64 = value
                        .parse()
                        .ok()
                        .filter(|p: &f64| p.is_finite() && (0.0..=1.0).contains(p))
                        .ok_or_else(|| FaultPlanError::Probability(name.to_string()))?;
                    plan.probabilities[kind.index()] = p;
                }
            }
        }
        if plan.probabilities.iter().sum::<f64>() > 1.0 + 1e-9 {
            return Err(FaultPlanError::SumAboveOne);
        }
        Ok(plan)
    }
}

impl fmt::Display for FaultPlan {
    /// The plan in the syntax `FromStr` reads (the `--refuse` rules are not part of it).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut items: Vec<String> = FaultKind::ALL
            .into_iter()
            .filter(|k| self.probability(*k) > 0.0)
            .map(|k| format!("{}={}", k.as_str(), self.probability(k)))
            .collect();
        items.push(format!("late_ms={}", self.late.as_millis()));
        items.push(format!("slow_ms={}", self.slow.as_millis()));
        items.push(format!("huge_mb={}", self.huge_mb));
        f.write_str(&items.join(","))
    }
}

/// Draws faults for provider requests from a seeded RNG.
#[derive(Debug)]
pub(crate) struct Injector {
    plan: FaultPlan,
    seed: u64,
    rng: Mutex<StdRng>,
}

impl Injector {
    pub(crate) fn new(plan: FaultPlan, seed: u64) -> Self {
        Injector {
            plan,
            seed,
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
        }
    }

    pub(crate) fn plan(&self) -> &FaultPlan {
        &self.plan
    }

    /// Restarts the random sequence from the seed (used by `/_sandbox/reset`).
    pub(crate) fn reseed(&self) {
        *self.rng.lock().unwrap_or_else(|e| e.into_inner()) = StdRng::seed_from_u64(self.seed);
    }

    /// The fault for the next provider request, if any: the kind, and where the draw fell
    /// inside that kind's share (uniform in `[0, 1)`).
    pub(crate) fn draw(&self) -> Option<(FaultKind, f64)> {
        if self.plan.is_empty() {
            return None;
        }
        let u: f64 = self.rng.lock().unwrap_or_else(|e| e.into_inner()).random();
        let mut acc = 0.0;
        for kind in FaultKind::ALL {
            let p = self.plan.probability(kind);
            if u < acc + p {
                return Some((kind, ((u - acc) / p).clamp(0.0, 1.0)));
            }
            acc += p;
        }
        None
    }
}

#[cfg(test)]
mod tests;
