//! The options that shape what a run reads and sends, as the journal's header records them,
//! and how `--resume` takes them back: an option not given again takes its recorded value;
//! one given with another value refuses the resume (exit 2) before anything is sent or
//! written, naming the option and both values. Transport options (concurrency, rate,
//! retries, timeout, backoff) are not recorded: they may change between a run and its resume.
//!
//! Values are kept as JSON in the header (`"options": {"job": 9, "phone_region": "ID", …}`),
//! each named by its long option in snake_case; `account` (the provider account's public
//! identifiers, never a secret) is compared only, since it comes with the credentials.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::anyhow;
use clap::ValueEnum;
use serde_json::Value;

use crate::cli::{CommonArgs, ItnioArgs, Mode, NxlinkArgs};
use crate::exit::Fatal;
use crate::input::Format;
use crate::provider::rules::DateOrder;

/// The recorded options, by name.
pub(crate) type Options = BTreeMap<String, Value>;

/// What shapes a run: each option's effective value, and which of them this invocation gave
/// (on the command line, in the environment or in the config file) rather than left to its
/// default.
#[derive(Debug, Clone, Default)]
pub(crate) struct Shape {
    pub values: Options,
    pub given: BTreeSet<&'static str>,
}

impl Shape {
    /// Record `name` with its effective `value`; `given` when the invocation set it.
    pub(crate) fn set(&mut self, name: &'static str, value: Value, given: bool) {
        self.values.insert(name.to_owned(), value);
        if given {
            self.given.insert(name);
        }
    }
}

/// The provider's own arguments, whose recorded values a resume may take back.
pub(crate) enum ProviderArgs<'a> {
    Nxlink(&'a mut NxlinkArgs),
    Itnio(&'a mut ItnioArgs),
}

/// With `--resume`: compare this invocation's `shape` with the options `recorded` in the
/// journal of the run in `out` (`None`: a journal that recorded none). `Ok(None)`: nothing to take back (a journal recording no options, or every value the
/// same). `Ok(Some(taken))`: the recorded values of the options not given, which
/// [`apply`] puts into the arguments before the settings are built again. `Err`: an option
/// given with another value than the run had, or a journal that cannot be read.
/// A journal written before options were recorded adds a warning to `warnings`.
pub(crate) fn reconcile(
    shape: &Shape,
    recorded: Option<&Options>,
    out: &Path,
    warnings: &mut Vec<String>,
) -> Result<Option<Options>, Fatal> {
    let Some(recorded) = recorded else {
        warnings.push(format!(
            "the journal in {} was written by an older version of custimport, which did not record the run's options: give the same options as that run had (--job, --phone-region, --map, --encoding, …)",
            out.display()
        ));
        return Ok(None);
    };
    let mut taken = Options::new();
    for (name, then) in recorded {
        let now = shape.values.get(name).unwrap_or(&Value::Null);
        if now == then {
            continue;
        }
        // A sheet given again is compared by its resolved name once the input is open.
        if name == "sheet" && shape.given.contains("sheet") {
            continue;
        }
        if shape.given.contains(name.as_str()) || name == "account" {
            return Err(conflict(name, then, now, out));
        }
        taken.insert(name.clone(), then.clone());
    }
    Ok((!taken.is_empty()).then_some(taken))
}

fn conflict(name: &str, then: &Value, now: &Value, out: &Path) -> Fatal {
    let flag = flag_of(name);
    let remedy = if name == "account" {
        "use the account the run was made with".to_owned()
    } else {
        format!("leave {flag} out (the run's value is used)")
    };
    Fatal::usage(anyhow!(
        "--resume: the run in {} was made with {}, and this one has {}; a resumed run keeps the options it was made with, so nothing was sent or written: {remedy}, or import with a new --out",
        out.display(),
        describe(name, then),
        describe(name, now),
    ))
}

/// The command-line spelling of an option's name.
fn flag_of(name: &str) -> String {
    match name {
        "account" => "the account".to_owned(),
        "endpoint" => "--base-url/--sandbox".to_owned(),
        "map" => "--map".to_owned(),
        _ => format!("--{}", name.replace('_', "-")),
    }
}

/// An option's value in words, as the user would write it.
fn describe(name: &str, v: &Value) -> String {
    let flag = flag_of(name);
    let text = |s: &str| crate::provider::answer::escape_control(s).into_owned();
    match (name, v) {
        ("account", Value::Object(m)) => {
            let parts: Vec<String> = m
                .iter()
                .map(|(k, v)| match v {
                    Value::String(s) => format!("{} {:?}", k.replace('_', " "), text(s)),
                    other => format!("{} {other}", k.replace('_', " ")),
                })
                .collect();
            format!("the account {}", parts.join(", "))
        }
        ("endpoint", Value::String(s)) if s == "sandbox" => "--sandbox".to_owned(),
        ("endpoint", Value::String(s)) => format!("--base-url {}", text(s)),
        ("map", Value::Array(items)) if items.is_empty() => "no --map".to_owned(),
        ("map", Value::Array(items)) => items
            .iter()
            .map(|i| format!("--map {}", text(i.as_str().unwrap_or_default())))
            .collect::<Vec<_>>()
            .join(" "),
        (_, Value::Bool(true)) => flag,
        (_, Value::Bool(false) | Value::Null) => format!("no {flag}"),
        (_, Value::String(s)) => format!("{flag} {}", text(s)),
        (_, other) => format!("{flag} {other}"),
    }
}

/// Put the recorded values `taken` (from [`reconcile`]) into the arguments, as if given.
pub(crate) fn apply(taken: &Options, c: &mut CommonArgs, p: ProviderArgs<'_>) -> Result<(), Fatal> {
    let mut p = p;
    for (name, v) in taken {
        apply_one(name, v, c, &mut p).ok_or_else(|| {
            Fatal::usage(anyhow!(
                "--resume: the journal records {} as {v}, which this version of custimport cannot read; import with a new --out",
                flag_of(name)
            ))
        })?;
    }
    Ok(())
}

fn apply_one(name: &str, v: &Value, c: &mut CommonArgs, p: &mut ProviderArgs<'_>) -> Option<()> {
    let text = || v.as_str().map(str::to_owned);
    match (name, p) {
        ("endpoint", _) => match v.as_str()? {
            "sandbox" => c.sandbox = true,
            url => c.base_url = Some(url.to_owned()),
        },
        ("sheet", _) => c.sheet = text(),
        ("format", _) => c.format = Some(Format::from_str(v.as_str()?, true).ok()?),
        ("delimiter", _) => c.delimiter = text(),
        ("encoding", _) => c.encoding = text(),
        ("map", _) => {
            c.maps = v
                .as_array()?
                .iter()
                .map(|m| m.as_str().map(str::to_owned))
                .collect::<Option<_>>()?;
        }
        ("phone_region", _) => c.phone_region = text(),
        ("header_row", _) => c.header_row = Some(u32::try_from(v.as_u64()?).ok()?),
        ("date_order", _) => c.date_order = Some(DateOrder::parse(v.as_str()?)?),
        ("batch_size", _) => c.batch_size = Some(u16::try_from(v.as_u64()?).ok()?),
        ("skip_unchanged", _) => c.skip_unchanged = v.as_bool()?,
        ("state", _) => c.state = text().map(Into::into),
        ("mask_pii", _) => c.mask_pii = v.as_bool()?,
        ("mode", ProviderArgs::Nxlink(a)) => a.mode = Some(Mode::from_str(v.as_str()?, true).ok()?),
        ("strict_binding", ProviderArgs::Nxlink(a)) => a.strict_binding = v.as_bool()?,
        ("job", ProviderArgs::Itnio(a)) => a.job = Some(v.as_u64()?),
        ("call_record_dup", ProviderArgs::Itnio(a)) => a.call_record_dup = v.as_bool()?,
        ("encrypted_phones", ProviderArgs::Itnio(a)) => a.encrypted_phones = v.as_bool()?,
        _ => return None,
    }
    Some(())
}

#[cfg(test)]
mod tests;
