//! Fault injection for the provider endpoints: the plan (parsed from `"500=0.1,reset=0.05"`) and
//! the seeded injector that draws one fault (or none) per provider request.
//!
//! Invariant: one draw from one seeded RNG per provider request, over the kinds in the fixed order
//! of [`FaultKind::ALL`], so the same seed, plan and request order give the same faults. A plan
//! whose probabilities sum above 1 is refused when parsed, so every probability is honoured exactly.

use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// One kind of injected fault.
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
}

impl FaultKind {
    /// Every kind, in the order the injector walks them.
    pub const ALL: [FaultKind; 12] = [
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
        )
    }

    fn from_name(name: &str) -> Option<FaultKind> {
        FaultKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// Which faults to inject and how often. `Default` injects nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultPlan {
    probabilities: [f64; 12],
    /// Delay of a `late` answer.
    pub late: Duration,
    /// Delay of a `slow` answer.
    pub slow: Duration,
}

impl Default for FaultPlan {
    fn default() -> Self {
        FaultPlan {
            probabilities: [0.0; 12],
            late: Duration::from_millis(3000),
            slow: Duration::from_millis(500),
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

    /// True when no fault can be drawn.
    pub fn is_empty(&self) -> bool {
        self.probabilities.iter().all(|p| *p <= 0.0)
    }
}

/// Why a plan string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaultPlanError {
    #[error("fault plan item {0:?} is not of the form kind=value")]
    Syntax(String),
    #[error("unknown fault kind {0:?} (known: 500, 503, 429, reset, garbage, truncated, applied500, late, slow, skew, stray, throttle, late_ms, slow_ms)")]
    UnknownKind(String),
    #[error("fault {0:?}: probability must be a number from 0 to 1")]
    Probability(String),
    #[error("fault plan: {0} must be a whole number of milliseconds")]
    Millis(String),
    #[error("fault {0:?} is given twice")]
    Duplicate(String),
    #[error("fault probabilities add up to more than 1")]
    SumAboveOne,
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
    /// The plan in the syntax `FromStr` reads.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut items: Vec<String> = FaultKind::ALL
            .into_iter()
            .filter(|k| self.probability(*k) > 0.0)
            .map(|k| format!("{}={}", k.as_str(), self.probability(k)))
            .collect();
        items.push(format!("late_ms={}", self.late.as_millis()));
        items.push(format!("slow_ms={}", self.slow.as_millis()));
        f.write_str(&items.join(","))
    }
}

/// Draws faults for provider requests from a seeded RNG.
#[derive(Debug)]
pub struct Injector {
    plan: FaultPlan,
    seed: u64,
    rng: Mutex<StdRng>,
}

impl Injector {
    pub fn new(plan: FaultPlan, seed: u64) -> Self {
        Injector {
            plan,
            seed,
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
        }
    }

    pub fn plan(&self) -> &FaultPlan {
        &self.plan
    }

    /// Restarts the random sequence from the seed (used by `/_sandbox/reset`).
    pub fn reseed(&self) {
        *self.rng.lock().unwrap_or_else(|e| e.into_inner()) = StdRng::seed_from_u64(self.seed);
    }

    /// The fault for the next provider request, if any.
    pub fn draw(&self) -> Option<FaultKind> {
        if self.plan.is_empty() {
            return None;
        }
        let u: f64 = self.rng.lock().unwrap_or_else(|e| e.into_inner()).random();
        let mut acc = 0.0;
        for kind in FaultKind::ALL {
            acc += self.plan.probability(kind);
            if u < acc {
                return Some(kind);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kinds_and_delays() {
        let plan: FaultPlan = "500=0.1, 429=0.05,reset=0.05,late_ms=1200,slow_ms=7"
            .parse()
            .expect("valid plan");
        assert_eq!(plan.probability(FaultKind::Http500), 0.1);
        assert_eq!(plan.probability(FaultKind::Http429), 0.05);
        assert_eq!(plan.probability(FaultKind::Reset), 0.05);
        assert_eq!(plan.probability(FaultKind::Skew), 0.0);
        assert_eq!(plan.late, Duration::from_millis(1200));
        assert_eq!(plan.slow, Duration::from_millis(7));
        let again: FaultPlan = plan.to_string().parse().expect("round trip");
        assert_eq!(again, plan);
        assert!("".parse::<FaultPlan>().expect("empty").is_empty());
    }

    #[test]
    fn refuses_bad_plans() {
        let bad = |s: &str| s.parse::<FaultPlan>().expect_err(s);
        assert_eq!(bad("boom=0.1"), FaultPlanError::UnknownKind("boom".into()));
        assert_eq!(bad("500"), FaultPlanError::Syntax("500".into()));
        assert_eq!(bad("500=2"), FaultPlanError::Probability("500".into()));
        assert_eq!(bad("500=x"), FaultPlanError::Probability("500".into()));
        assert_eq!(bad("late_ms=-1"), FaultPlanError::Millis("late_ms".into()));
        assert_eq!(bad("500=0.6,503=0.6"), FaultPlanError::SumAboveOne);
        assert_eq!(
            bad("500=0.1,500=0.2"),
            FaultPlanError::Duplicate("500".into())
        );
    }

    #[test]
    fn draws_are_reproducible_and_follow_the_plan() {
        let plan: FaultPlan = "500=0.3,reset=0.2".parse().expect("plan");
        let a = Injector::new(plan.clone(), 7);
        let b = Injector::new(plan, 7);
        let seq_a: Vec<_> = (0..2000).map(|_| a.draw()).collect();
        let seq_b: Vec<_> = (0..2000).map(|_| b.draw()).collect();
        assert_eq!(seq_a, seq_b);
        let count = |k| seq_a.iter().filter(|d| **d == Some(k)).count();
        assert!((500..700).contains(&count(FaultKind::Http500)));
        assert!((300..500).contains(&count(FaultKind::Reset)));
        assert_eq!(count(FaultKind::Skew), 0);
        a.reseed();
        let replay: Vec<_> = (0..2000).map(|_| a.draw()).collect();
        assert_eq!(replay, seq_a);
        assert_eq!(Injector::new(FaultPlan::default(), 1).draw(), None);
    }
}
