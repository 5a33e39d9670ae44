//! The config file's layers under the command line: a profile (`[profile.NAME]`, chosen with
//! `--profile` or `CUSTIMPORT_PROFILE`) over the provider's section. Precedence: flag >
//! environment > profile > provider section > default.
//!
//! Import options from the file are put into the arguments as if given on the command line,
//! where the command line left them out: the rest of the configuration (and the journal's
//! record of what shaped the run, `recorded::Shape::given`) sees them as given. Credentials and
//! the endpoint, which the environment may also set, stay in the file layer: the profile is laid
//! over the provider's section, and the usual lookup (flag, environment, file) reads it.

use anyhow::anyhow;
use clap::parser::ValueSource;
use clap::{ArgMatches, ValueEnum};

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::sections::{ImportOptions, Profile};
use super::{load_file, Env, FileConfig};
use crate::cli::{self, CommonArgs, ItnioArgs, Mode, NxlinkArgs, NxlinkHost};
use crate::exit::Fatal;
use crate::input::Format;
use crate::provider;
use crate::provider::itnio::ITNIO;
use crate::provider::nxlink::NXLINK;

/// Where a value of the effective configuration came from (`custimport config` shows it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// The command line.
    Flag,
    /// This environment variable.
    Env(String),
    /// `[profile.NAME]`.
    Profile(String),
    /// The provider's section, `[nxlink]` or `[itnio]`.
    Section(&'static str),
    /// The config file's top-level key (`state`).
    TopLevel,
    /// The built-in emulator's account (`--sandbox`).
    Sandbox,
    /// Nothing set it.
    Default,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Flag => write!(f, "flag"),
            Source::Env(var) => write!(f, "env {var}"),
            Source::Profile(name) => write!(f, "profile {name}"),
            Source::Section(p) => write!(f, "section [{p}]"),
            Source::TopLevel => write!(f, "config file (top level)"),
            Source::Sandbox => write!(f, "sandbox"),
            Source::Default => write!(f, "default"),
        }
    }
}

/// The options a layer of the config file set, by id (`map.FIELD` for a map entry).
pub(crate) type Placed = BTreeMap<String, Source>;

/// Note in `c` the options the command line gave (by id), at any depth of subcommands.
pub(crate) fn mark_command_line(c: &mut CommonArgs, matches: &ArgMatches) {
    let mut m = Some(matches);
    while let Some(now) = m {
        for id in now.ids() {
            let id = id.as_str();
            if now.value_source(id) == Some(ValueSource::CommandLine)
                && !c.on_command_line.iter().any(|g| g == id)
            {
                c.on_command_line.push(id.to_owned());
            }
        }
        m = now.subcommand().map(|(_, sub)| sub);
    }
}

/// The profile chosen by `--profile` or `CUSTIMPORT_PROFILE` (put into `c.profile` by
/// [`nxlink_args`] and [`itnio_args`]), taken out of `file`: exit 2 when there is no such
/// profile, or it is for the other provider.
fn take_profile(
    file: &mut FileConfig,
    c: &CommonArgs,
    provider: &str,
) -> Result<Option<(String, Profile)>, Fatal> {
    let Some(name) = c.profile.clone() else {
        return Ok(None);
    };
    let Some(profile) = file.profile.remove(&name) else {
        let known: Vec<String> = file.profile.keys().map(|k| format!("{k:?}")).collect();
        return Err(Fatal::usage(anyhow!(
            "profile {name:?} is not in the config file ({}); write a [profile.NAME] section, see config.example.toml",
            if known.is_empty() {
                "it has no [profile.NAME] section".to_owned()
            } else {
                format!("its profiles: {}", known.join(", "))
            }
        )));
    };
    match profile.provider.as_deref() {
        Some(p) if p != provider => Err(Fatal::usage(anyhow!(
            "profile {name:?} is for provider {p:?}, not {provider}: run `custimport {p} --profile {name}`, or remove `provider` from [profile.{name}]"
        ))),
        _ => Ok(Some((name, profile))),
    }
}

/// A region's host as the base URL of its layer, unless that layer sets `base_url`.
fn region_url(base_url: &mut Option<String>, region: Option<String>) -> Result<(), Fatal> {
    let Some(r) = region else { return Ok(()) };
    let url = match NxlinkHost::from_str(&r, true) {
        Ok(region) => super::region_host(region),
        Err(_) => {
            return Err(Fatal::usage(anyhow!(
                "region in the config file must be idn, hk or chl"
            )))
        }
    };
    if base_url.is_none() {
        *base_url = Some(url.to_owned());
    }
    Ok(())
}

/// The config file with the chosen profile laid over `provider`'s section, and `state` as the
/// profile, else the section, else the top-level key sets it.
pub(super) fn load_for(
    c: &CommonArgs,
    provider: &str,
    env: Env<'_>,
) -> Result<(FileConfig, Vec<String>), Fatal> {
    load_layers(c, provider, env).map(|(file, warnings, _)| (file, warnings))
}

/// [`load_for`], also telling which keys of the laid-over section (and `state`) came from the
/// profile or the top level; the others came from the provider's section.
pub(super) fn load_layers(
    c: &CommonArgs,
    provider: &str,
    env: Env<'_>,
) -> Result<(FileConfig, Vec<String>, Placed), Fatal> {
    let (mut file, warnings) = load_file(c.config.as_deref(), env)?;
    let mut profile = take_profile(&mut file, c, provider)?;
    let mut placed = Placed::new();
    let mut state = file.state.take().map(|s| (s, Source::TopLevel));
    // A name no provider has (a profile's `provider`, read by `custimport state`) reads
    // itnio's section.
    let spec = provider::spec_named(provider).unwrap_or(&ITNIO);
    let section = spec.name;
    let from = |s: Option<std::path::PathBuf>, src: Source| s.map(|s| (s, src));
    let moved = if *spec == NXLINK {
        let s = &mut file.nxlink;
        region_url(&mut s.base_url, s.region.take())?;
        state = from(s.state.take(), Source::Section(section)).or(state);
        match profile.as_mut() {
            Some((name, p)) => {
                region_url(&mut p.base_url, p.region.take())?;
                state = from(p.state.take(), Source::Profile(name.clone())).or(state);
                s.overlay(p)
            }
            None => vec![],
        }
    } else {
        let s = &mut file.itnio;
        state = from(s.state.take(), Source::Section(section)).or(state);
        match profile.as_mut() {
            Some((name, p)) => {
                state = from(p.state.take(), Source::Profile(name.clone())).or(state);
                s.overlay(p)
            }
            None => vec![],
        }
    };
    if let Some((name, _)) = &profile {
        for key in moved {
            placed.insert(key.to_owned(), Source::Profile(name.clone()));
        }
    }
    if let Some((_, src)) = &state {
        placed.insert("state".into(), src.clone());
    }
    file.state = state.map(|(s, _)| s);
    Ok((file, warnings, placed))
}

/// nxlink's arguments with the file's import options put in where the command line left them.
pub(super) fn nxlink_args(
    args: &NxlinkArgs,
    c: &CommonArgs,
    env: Env<'_>,
) -> Result<(NxlinkArgs, CommonArgs), Fatal> {
    nxlink_layered(args, c, env).map(|(args, c, _)| (args, c))
}

/// [`nxlink_args`], also telling which layer set each option the file gave.
pub(super) fn nxlink_layered(
    args: &NxlinkArgs,
    c: &CommonArgs,
    env: Env<'_>,
) -> Result<(NxlinkArgs, CommonArgs, Placed), Fatal> {
    let (mut file, _) = load_file(c.config.as_deref(), env)?;
    let (mut args, mut c) = (args.clone(), c.clone());
    c.profile = c.profile.take().or_else(|| env("CUSTIMPORT_PROFILE"));
    let mut layers = vec![];
    if let Some((name, mut p)) = take_profile(&mut file, &c, NXLINK.name)? {
        layers.push((
            Source::Profile(name),
            p.take_options(),
            p.mode,
            p.strict_binding,
        ));
    }
    let s = &mut file.nxlink;
    layers.push((
        Source::Section(NXLINK.name),
        s.take_options(),
        s.mode.take(),
        s.strict_binding,
    ));
    let mut placed = Placed::new();
    for (source, options, mode, strict) in layers {
        let place = place_of(&source);
        let before = c.on_command_line.len();
        put(options, &place, &mut c)?;
        if let Some(m) = mode {
            if free(&mut c, "mode", args.mode.is_some()) {
                let m = Mode::from_str(&m, true).map_err(|_| {
                    Fatal::usage(anyhow!(
                        "mode in {place} of the config file must be replace, merge or keep"
                    ))
                })?;
                args.mode = Some(m);
            }
        }
        if let Some(b) = strict {
            if free(&mut c, "strict_binding", args.strict_binding) {
                args.strict_binding = b;
            }
        }
        note_placed(&mut placed, &c.on_command_line[before..], &source);
    }
    Ok((args, c, placed))
}

/// A layer as error messages name it: `[profile.NAME]`, `[nxlink]`.
fn place_of(source: &Source) -> String {
    match source {
        Source::Profile(name) => format!("[profile.{name}]"),
        Source::Section(p) => format!("[{p}]"),
        other => other.to_string(),
    }
}

/// Record that `source` set the options `ids`.
fn note_placed(placed: &mut Placed, ids: &[String], source: &Source) {
    for id in ids {
        placed.insert(id.clone(), source.clone());
    }
}

/// itnio's arguments with the file's import options put in where the command line left them.
pub(super) fn itnio_args(
    args: &ItnioArgs,
    c: &CommonArgs,
    env: Env<'_>,
) -> Result<(ItnioArgs, CommonArgs), Fatal> {
    itnio_layered(args, c, env).map(|(args, c, _)| (args, c))
}

/// [`itnio_args`], also telling which layer set each option the file gave.
pub(super) fn itnio_layered(
    args: &ItnioArgs,
    c: &CommonArgs,
    env: Env<'_>,
) -> Result<(ItnioArgs, CommonArgs, Placed), Fatal> {
    let (mut file, _) = load_file(c.config.as_deref(), env)?;
    let (mut args, mut c) = (args.clone(), c.clone());
    c.profile = c.profile.take().or_else(|| env("CUSTIMPORT_PROFILE"));
    let mut layers = vec![];
    if let Some((name, mut p)) = take_profile(&mut file, &c, ITNIO.name)? {
        layers.push((
            Source::Profile(name),
            p.take_options(),
            p.job,
            p.call_record_dup,
        ));
    }
    let s = &mut file.itnio;
    layers.push((
        Source::Section(ITNIO.name),
        s.take_options(),
        s.job,
        s.call_record_dup,
    ));
    let mut placed = Placed::new();
    for (source, options, job, dup) in layers {
        let place = place_of(&source);
        let before = c.on_command_line.len();
        put(options, &place, &mut c)?;
        if let Some(j) = job {
            if free(&mut c, "job", args.job.is_some()) {
                let j = u64::try_from(j).map_err(|_| {
                    Fatal::usage(anyhow!(
                        "job in {place} of the config file must be a whole number, 0 or more"
                    ))
                })?;
                args.job = Some(j);
            }
        }
        if let Some(b) = dup {
            if free(&mut c, "call_record_dup", args.call_record_dup) {
                args.call_record_dup = b;
            }
        }
        note_placed(&mut placed, &c.on_command_line[before..], &source);
    }
    Ok((args, c, placed))
}

/// Whether option `id` is still free for a lower layer to set (`set`: it has a value a higher
/// layer gave); if so, it is taken now.
fn free(c: &mut CommonArgs, id: &str, set: bool) -> bool {
    if set || c.on_command_line.iter().any(|g| g == id) {
        return false;
    }
    c.on_command_line.push(id.to_owned());
    true
}

/// An integer option within `lo..=hi`.
fn int<T: TryFrom<i64>>(v: i64, (lo, hi): (i64, i64), key: &str, place: &str) -> Result<T, Fatal> {
    (lo..=hi)
        .contains(&v)
        .then(|| T::try_from(v).ok())
        .flatten()
        .ok_or_else(|| {
            Fatal::usage(anyhow!(
                "{key} in {place} of the config file must be from {lo} to {hi}"
            ))
        })
}

/// A number option within `lo..=hi`.
fn num(v: f64, (lo, hi): (f64, f64), key: &str, place: &str) -> Result<f64, Fatal> {
    if v.is_finite() && (lo..=hi).contains(&v) {
        return Ok(v);
    }
    Err(Fatal::usage(anyhow!(
        "{key} in {place} of the config file must be from {lo} to {hi}"
    )))
}

/// `"auto"`, in any case.
fn is_auto(v: &toml::Value) -> bool {
    v.as_str()
        .is_some_and(|s| s.trim().eq_ignore_ascii_case("auto"))
}

/// The error of an option that takes `"auto"` or a number.
fn auto_or(key: &str, number: &str, place: &str) -> Fatal {
    Fatal::usage(anyhow!(
        "{key} in {place} of the config file must be \"auto\" or {number} ({key} = \"auto\", {key} = 8)"
    ))
}

/// Text, or a whole number written without quotes (`sheet = 2`, `max_failures = 10`).
fn text(v: toml::Value, key: &str, place: &str) -> Result<String, Fatal> {
    match v {
        toml::Value::String(s) => Ok(s),
        toml::Value::Integer(i) => Ok(i.to_string()),
        _ => Err(Fatal::usage(anyhow!(
            "{key} in {place} of the config file must be text or a whole number"
        ))),
    }
}

/// Put one layer's import options into `c` where nothing higher set them.
fn put(o: ImportOptions, place: &str, c: &mut CommonArgs) -> Result<(), Fatal> {
    put_numbers(&o, place, c)?;
    if let Some(v) = o.format {
        if free(c, "format", c.format.is_some()) {
            c.format = Some(Format::from_str(&v, true).map_err(|_| {
                Fatal::usage(anyhow!(
                    "format in {place} of the config file must be csv, tsv, jsonl, xlsx, xlsb, xls or ods"
                ))
            })?);
        }
    }
    if let Some(v) = o.sheet {
        if free(c, "sheet", c.sheet.is_some()) {
            c.sheet = Some(text(v, "sheet", place)?);
        }
    }
    if let Some(v) = o.delimiter {
        if free(c, "delimiter", c.delimiter.is_some()) {
            c.delimiter = Some(v);
        }
    }
    if let Some(v) = o.encoding {
        if free(c, "encoding", c.encoding.is_some()) {
            c.encoding = Some(v);
        }
    }
    if let Some(v) = o.max_field_size {
        if free(c, "max_field_size", false) {
            c.max_field_size = int(v, (1, cli::MAX_FIELD_SIZE), "max_field_size", place)?;
        }
    }
    if let Some(map) = o.map {
        put_map(map, c);
    }
    if let Some(v) = o.out {
        if free(c, "out", c.out.is_some()) {
            c.out = Some(v);
        }
    }
    if let Some(v) = o.max_failures {
        if free(c, "max_failures", c.max_failures.is_some()) {
            c.max_failures = Some(text(v, "max_failures", place)?);
        }
    }
    let flags: [(&str, Option<bool>, &mut bool); 6] = [
        ("no_bisect", o.no_bisect, &mut c.no_bisect),
        ("json", o.json, &mut c.json),
        ("quiet", o.quiet, &mut c.quiet),
        ("no_progress", o.no_progress, &mut c.no_progress),
        ("mask_pii", o.mask_pii, &mut c.mask_pii),
        ("skip_unchanged", o.skip_unchanged, &mut c.skip_unchanged),
    ];
    let mut taken = std::mem::take(&mut c.on_command_line);
    for (id, value, flag) in flags {
        if let Some(v) = value {
            if !*flag && !taken.iter().any(|g| g == id) {
                *flag = v;
                taken.push(id.to_owned());
            }
        }
    }
    c.on_command_line = taken;
    Ok(())
}

/// The numeric options with their bounds (those of the command line).
fn put_numbers(o: &ImportOptions, place: &str, c: &mut CommonArgs) -> Result<(), Fatal> {
    if let Some(v) = o.batch_size {
        if free(c, "batch_size", c.batch_size.is_some()) {
            c.batch_size = Some(int(v, (1, 100), "batch_size", place)?);
        }
    }
    if let Some(v) = &o.concurrency {
        if free(c, "concurrency", false) {
            c.concurrency = match v {
                v if is_auto(v) => cli::Concurrency::Auto,
                toml::Value::Integer(n) => {
                    cli::Concurrency::Fixed(int(*n, (1, 1024), "concurrency", place)?)
                }
                _ => {
                    return Err(auto_or(
                        "concurrency",
                        "a whole number from 1 to 1024",
                        place,
                    ))
                }
            };
        }
    }
    if let Some(v) = &o.rate {
        if free(c, "rate", c.rate.is_some()) {
            let (lo, hi) = cli::RATE_PER_SEC;
            c.rate = Some(match v {
                v if is_auto(v) => cli::Rate::Auto,
                toml::Value::Integer(n) => {
                    cli::Rate::Fixed(num(*n as f64, (lo, hi), "rate", place)?)
                }
                toml::Value::Float(x) => cli::Rate::Fixed(num(*x, (lo, hi), "rate", place)?),
                _ => {
                    return Err(auto_or(
                        "rate",
                        &format!("a number from {lo} to {hi}"),
                        place,
                    ))
                }
            });
        }
    }
    if let Some(v) = o.retries {
        if free(c, "retries", false) {
            c.retries = int(v, (0, cli::MAX_RETRIES), "retries", place)?;
        }
    }
    if let Some(v) = o.timeout {
        if free(c, "timeout", false) {
            c.timeout = num(v, cli::TIMEOUT_SECS, "timeout", place)?;
        }
    }
    if let Some(v) = o.backoff_ms {
        if free(c, "backoff_ms", false) {
            let hi = i64::try_from(cli::MAX_BACKOFF_MS).unwrap_or(i64::MAX);
            c.backoff_ms = int(v, (0, hi), "backoff_ms", place)?;
        }
    }
    if let Some(v) = o.give_up_after {
        if free(c, "give_up_after", false) {
            c.give_up_after = int(v, (1, 86_400), "give_up_after", place)?;
        }
    }
    Ok(())
}

/// `map = { FIELD = "COLUMN" }`: each field not mapped by a higher layer (or `--map`).
fn put_map(map: std::collections::BTreeMap<String, String>, c: &mut CommonArgs) {
    let given: Vec<String> = c
        .maps
        .iter()
        .map(|m| {
            m.split_once('=')
                .map_or(m.as_str(), |(f, _)| f)
                .trim()
                .to_owned()
        })
        .collect();
    for (field, column) in map {
        let id = format!("map.{field}");
        if !given.contains(&field) && free(c, &id, false) {
            c.maps.push(format!("{field}={column}"));
        }
    }
}

/// The state database `custimport state` reads: `--state`, else the `state` an import with the
/// chosen profile (`--profile`, `CUSTIMPORT_PROFILE`) would use: the profile's, else its
/// provider's section's, else the top level's, else the default. Without a profile, or with
/// one that names no provider, both providers' are looked at: a section's (or the profile's)
/// wins over the top level's, and two that differ are exit 2.
pub(crate) fn state_for_command(c: &CommonArgs, env: Env<'_>) -> Result<PathBuf, Fatal> {
    if let Some(s) = &c.state {
        return Ok(s.clone());
    }
    let mut c = c.clone();
    c.profile = c.profile.take().or_else(|| env("CUSTIMPORT_PROFILE"));
    let (file, _) = load_file(c.config.as_deref(), env)?;
    let named = c
        .profile
        .as_ref()
        .and_then(|name| file.profile.get(name))
        .and_then(|p| p.provider.clone());
    let providers = match named.as_deref() {
        Some(p) if provider::spec_named(p).is_none() => {
            let name = c.profile.as_deref().unwrap_or_default();
            let known: Vec<&str> = provider::spec::SPECS.map(|s| s.name).to_vec();
            return Err(Fatal::usage(anyhow!(
                "profile {name:?} is for provider {p:?}, which is none of {}: correct `provider` in [profile.{name}]",
                known.join(", ")
            )));
        }
        Some(p) => vec![p.to_owned()],
        None => provider::spec::SPECS.map(|s| s.name.to_owned()).to_vec(),
    };
    let mut found: Vec<(PathBuf, Source)> = vec![];
    for provider in &providers {
        let (file, _, placed) = load_layers(&c, provider, env)?;
        if let Some(path) = file.state {
            let source = placed.get("state").cloned().unwrap_or(Source::Default);
            found.push((path, source));
        }
    }
    let own: Vec<&(PathBuf, Source)> = found
        .iter()
        .filter(|(_, s)| *s != Source::TopLevel)
        .collect();
    let pick = match own.as_slice() {
        [] => found.first(),
        [first, rest @ ..] => {
            if let Some((_, other)) = rest.iter().find(|(p, _)| *p != first.0) {
                return Err(Fatal::usage(anyhow!(
                    "{} and {other} set different state databases: give --state PATH, or choose a profile that names its provider",
                    first.1
                )));
            }
            Some(*first)
        }
    };
    super::state_path(None, pick.map(|(p, _)| p.as_path()), env)
}
