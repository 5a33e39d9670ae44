//! Configuration: the TOML file, environment variables and flags, layered once into a plain,
//! validated [`Settings`]. The engine never sees raw flags or the environment.
//!
//! Invariant: secrets live only inside [`Secret`], whose `Debug` and `Display` are redacted, and
//! are never accepted from the command line.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use serde::Deserialize;

use clap::ValueEnum;
use serde_json::{json, Value};

use crate::cli::{CommonArgs, Concurrency, ItnioArgs, NxlinkArgs, NxlinkHost, Rate};
use crate::exit::{Fatal, UsageContext};
use crate::input::{Format, InputOptions};
use crate::provider::itnio::{self, Itnio};
use crate::provider::nxlink::{self, Nxlink};
use crate::provider::phone;
use crate::provider::rules::DateOrder;
use crate::sign::Algorithm;

pub(crate) use crate::secret::Secret;

/// Where environment variables come from (the process, or a map in tests).
pub(crate) type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment, empty values counting as unset.
pub(crate) fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// `--max-failures N` or `P%`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum MaxFailures {
    Count(u64),
    Percent(f64),
}

impl std::str::FromStr for MaxFailures {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> anyhow::Result<Self> {
        let s = s.trim();
        if let Some(p) = s.strip_suffix('%') {
            let v: f64 = p
                .trim()
                .parse()
                .map_err(|_| anyhow!("--max-failures: {s:?} is not N or P%"))?;
            if !(0.0..=100.0).contains(&v) {
                bail!("--max-failures: a percentage must be between 0 and 100");
            }
            Ok(MaxFailures::Percent(v))
        } else {
            s.parse()
                .map(MaxFailures::Count)
                .map_err(|_| anyhow!("--max-failures: {s:?} is not N or P%"))
        }
    }
}

/// Records per request without `--batch-size`.
const DEFAULT_BATCH_SIZE: u16 = 100;

/// Which provider a run talks to, fully configured.
#[derive(Debug, Clone)]
pub(crate) enum ProviderChoice {
    Nxlink(Nxlink),
    Itnio(Itnio),
}

impl ProviderChoice {
    /// The provider's name, as on the command line.
    pub(crate) fn name(&self) -> &'static str {
        self.spec().name
    }

    /// The provider's spec.
    pub(crate) fn spec(&self) -> &'static crate::provider::ProviderSpec {
        match self {
            ProviderChoice::Nxlink(_) => &nxlink::NXLINK,
            ProviderChoice::Itnio(_) => &itnio::ITNIO,
        }
    }
}

/// Everything a run needs, validated.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub provider: ProviderChoice,
    pub input: InputOptions,
    pub maps: Vec<String>,
    pub batch_size: usize,
    /// `--concurrency N`; `None` for `auto` (adaptive, see `pipeline::limiter`).
    pub concurrency: Option<usize>,
    pub rate: Option<f64>,
    pub retries: u32,
    pub timeout: Duration,
    pub backoff: Duration,
    /// `--give-up-after`: throttled this long without an answered batch, the run stops.
    pub give_up_after: Duration,
    pub out_dir: PathBuf,
    pub resume: bool,
    /// Where requests go, or that none go (`--dry-run`).
    pub endpoint: Endpoint,
    pub max_failures: Option<MaxFailures>,
    pub bisect: bool,
    pub json: bool,
    pub quiet: bool,
    pub verbose: u8,
    pub progress: bool,
    pub mask_pii: bool,
    /// `--skip-unchanged`: the state database to consult and update.
    pub state: Option<PathBuf>,
    /// `--rejected-ok`: rows refused by local validation alone do not make the exit code 1.
    pub rejected_ok: bool,
    /// `--metrics-file`: where the run's figures go for node_exporter's textfile collector.
    pub metrics_file: Option<PathBuf>,
    /// The profile (`--profile`, `CUSTIMPORT_PROFILE`) the run took settings from.
    pub profile: Option<String>,
    /// Warnings found while configuring (shown unless --quiet).
    pub warnings: Vec<String>,
    /// The options that shape what the run reads and sends, recorded in the journal.
    pub shape: recorded::Shape,
}

impl Settings {
    pub(crate) fn dry_run(&self) -> bool {
        self.endpoint.is_dry_run()
    }
}

/// Credential lookup: flag, then environment, then file.
struct Lookup<'a> {
    env: Env<'a>,
    /// The config key (with its flag, if any: `tenant_id (or --tenant-id)`) and the variable.
    missing: Vec<(String, String)>,
    /// Each config key looked up, and where its value came from (the file: the section's,
    /// which `layers::load_layers` tells apart from the profile's).
    sources: Vec<(String, layers::Source)>,
}

impl Lookup<'_> {
    fn new(env: Env<'_>) -> Lookup<'_> {
        Lookup {
            env,
            missing: vec![],
            sources: vec![],
        }
    }

    fn get(
        &mut self,
        flag: Option<&str>,
        var: &str,
        file: Option<&str>,
        key: &str,
        section: &'static str,
        needed: bool,
    ) -> String {
        use layers::Source;
        let v = flag
            .map(|f| (f.to_owned(), Source::Flag))
            .or_else(|| (self.env)(var).map(|v| (v, Source::Env(var.to_owned()))))
            .or_else(|| {
                file.filter(|s| !s.is_empty())
                    .map(|f| (f.to_owned(), Source::Section(section)))
            });
        let name = key.split_once(' ').map_or(key, |(name, _)| name).to_owned();
        match v {
            Some((v, source)) => {
                self.sources.push((name, source));
                v
            }
            None => {
                self.sources.push((name, Source::Default));
                if needed {
                    self.missing.push((key.to_owned(), var.to_owned()));
                }
                String::new()
            }
        }
    }

    /// A missing credential is told as the config lines to write (and the variables that
    /// would do instead), never by pointing at a file the user may not have.
    fn finish(self, provider: &str) -> Result<(), Fatal> {
        if self.missing.is_empty() {
            return Ok(());
        }
        let mut lines = format!("  [{provider}]\n");
        let mut flags = vec![];
        for (key, _) in &self.missing {
            let (name, flag) = key.split_once(' ').unwrap_or((key.as_str(), ""));
            lines.push_str(&format!("  {name} = \"...\"\n"));
            if let Some(f) = flag.strip_prefix("(or ").and_then(|f| f.strip_suffix(')')) {
                flags.push(f);
            }
        }
        let vars: Vec<&str> = self.missing.iter().map(|(_, v)| v.as_str()).collect();
        let flags = if flags.is_empty() {
            String::new()
        } else {
            format!(
                " ({} also as {})",
                if flags.len() == 1 { "one" } else { "some" },
                flags.join(", ")
            )
        };
        Err(Fatal::usage(anyhow!(
            "missing {provider} credentials. Write these lines in ./custimport.toml (or ~/.config/custimport/config.toml, or a file given with -c), readable by you only (chmod 600):\n{lines}or set {}{flags}. To try custimport without an account, add --sandbox.",
            vars.join(", ")
        )))
    }
}

/// Turn nxlink arguments into settings; with `--resume`, the options not given again are the
/// resumed run's (see [`recorded`]).
pub(crate) fn nxlink_settings(
    args: &NxlinkArgs,
    c: &CommonArgs,
    env: Env<'_>,
) -> Result<Settings, Fatal> {
    let (args, c) = layers::nxlink_args(args, c, env)?;
    let (args, c) = (&args, &c);
    let mut settings = nxlink_once(args, c, env)?;
    let Some(taken) = resumed_options(&mut settings)? else {
        return Ok(settings);
    };
    let (mut args, mut c) = (args.clone(), c.clone());
    recorded::apply(&taken, &mut c, recorded::ProviderArgs::Nxlink(&mut args))?;
    nxlink_once(&args, &c, env)
}

/// With `--resume`: the recorded values of the options this invocation left out (an option
/// given with another value is an error).
fn resumed_options(settings: &mut Settings) -> Result<Option<recorded::Options>, Fatal> {
    if !settings.resume {
        return Ok(None);
    }
    let header = match crate::journal::read_header(&settings.out_dir) {
        Ok(Some(h)) => h,
        // No journal: the run starts afresh (said later); an unreadable one is told later too.
        Ok(None) | Err(_) => return Ok(None),
    };
    recorded::reconcile(
        &settings.shape,
        header.options.as_ref(),
        &settings.out_dir,
        &mut settings.warnings,
    )
}

fn nxlink_once(args: &NxlinkArgs, c: &CommonArgs, env: Env<'_>) -> Result<Settings, Fatal> {
    let (file, warnings) = layers::load_for(c, "nxlink", env)?;
    let s = &file.nxlink;
    let mut credentials = nxlink_credentials(args, s, env, !c.sandbox && !c.dry_run)?;
    let mode = args.mode.unwrap_or_default();
    let options = nxlink::Options {
        mode,
        strict_binding: args.strict_binding,
        algorithm: Algorithm::Md5,
        phone_region: phone_region(c, s.phone_region.as_deref())?,
        date_order: date_order(c, s.date_order.as_deref())?,
    };
    let header_row = header_row(c, s.header_row)?;
    let date_order_used = options.date_order;
    if c.sandbox {
        crate::embedded::nxlink_credentials(&mut credentials)?;
    }
    let account = json!({
        "access_key": credentials.access_key,
        "tenant_id": credentials.tenant_id,
        "app_key": credentials.app_key,
    });
    let region_used = options.phone_region;
    let built = Built {
        choice: ProviderChoice::Nxlink(Nxlink::new(credentials, options)),
        base: nxlink_base_url(args, c, s.base_url.as_deref(), env),
        account,
        region_used,
        header_row,
    };
    let section = SectionKeys {
        phone_region: s.phone_region.is_some(),
        header_row: s.header_row.is_some(),
        rejected_ok: s.rejected_ok,
        metrics_file: s.metrics_file.as_deref(),
    };
    let mut settings = provider_settings(c, &args.input, &file, warnings, section, built, env)?;
    let shape = &mut settings.shape;
    shape.set("mode", name_of(mode), args.mode.is_some());
    shape.set(
        "date_order",
        json!(date_order_used.name()),
        c.date_order.is_some() || s.date_order.is_some(),
    );
    let strict = args.strict_binding;
    shape.set("strict_binding", json!(strict), strict);
    Ok(settings)
}

/// A value-enum's name as the command line spells it.
fn name_of<E: ValueEnum>(e: E) -> Value {
    e.to_possible_value()
        .map_or(Value::Null, |v| json!(v.get_name()))
}

/// Turn itnio arguments into settings; with `--resume`, the options not given again (the job
/// among them) are the resumed run's (see [`recorded`]).
pub(crate) fn itnio_settings(
    args: &ItnioArgs,
    c: &CommonArgs,
    env: Env<'_>,
) -> Result<Settings, Fatal> {
    let (args, c) = layers::itnio_args(args, c, env)?;
    let (args, c) = (&args, &c);
    let mut settings = itnio_once(args, c, env)?;
    let settings = match resumed_options(&mut settings)? {
        None => {
            job_given(args)?;
            settings
        }
        Some(taken) => {
            let (mut args, mut c) = (args.clone(), c.clone());
            recorded::apply(&taken, &mut c, recorded::ProviderArgs::Itnio(&mut args))?;
            job_given(&args)?;
            itnio_once(&args, &c, env)?
        }
    };
    Ok(settings)
}

/// `--job` is required, unless a resume took it from the resumed run.
fn job_given(args: &ItnioArgs) -> Result<(), Fatal> {
    if args.job.is_some() {
        return Ok(());
    }
    Err(Fatal::usage(anyhow!(
        "the following required argument was not provided: --job <ID> (the calling job to import into; or `job` in the config file)"
    )))
}

fn itnio_once(args: &ItnioArgs, c: &CommonArgs, env: Env<'_>) -> Result<Settings, Fatal> {
    let (file, warnings) = layers::load_for(c, "itnio", env)?;
    let s = &file.itnio;
    let mut credentials = itnio_credentials(args, s, env, !c.sandbox && !c.dry_run)?;
    let options = itnio::Options {
        call_record_dup: args.call_record_dup,
        phone_region: phone_region(c, s.phone_region.as_deref())?,
        encrypted_phones: args.encrypted_phones || s.encrypted_phones.unwrap_or(false),
    };
    let header_row = header_row(c, s.header_row)?;
    if c.sandbox {
        crate::embedded::itnio_credentials(&mut credentials)?;
    }
    let account = json!({"api_key": credentials.api_key, "app_id": credentials.app_id});
    let (region_used, encrypted) = (options.phone_region, options.encrypted_phones);
    let built = Built {
        choice: ProviderChoice::Itnio(Itnio::new(credentials, options)),
        base: itnio_base_url(c, s.base_url.as_deref(), env),
        account,
        region_used,
        header_row,
    };
    let section = SectionKeys {
        phone_region: s.phone_region.is_some(),
        header_row: s.header_row.is_some(),
        rejected_ok: s.rejected_ok,
        metrics_file: s.metrics_file.as_deref(),
    };
    let mut settings = provider_settings(c, &args.input, &file, warnings, section, built, env)?;
    let shape = &mut settings.shape;
    shape.set(
        "job",
        args.job.map_or(Value::Null, |j| json!(j)),
        args.job.is_some(),
    );
    let dup = args.call_record_dup;
    shape.set("call_record_dup", json!(dup), dup);
    shape.set(
        "encrypted_phones",
        json!(encrypted),
        args.encrypted_phones || s.encrypted_phones.is_some(),
    );
    Ok(settings)
}

/// The state database's path: `--state`, else `state` in the config file, else the default
/// under `$XDG_STATE_HOME` (`~/.local/state`).
pub(crate) fn state_path(
    flag: Option<&Path>,
    file: Option<&Path>,
    env: Env<'_>,
) -> Result<PathBuf, Fatal> {
    flag.or(file)
        .map(Path::to_path_buf)
        .or_else(|| crate::state::default_path(env))
        .ok_or_else(|| {
            Fatal::usage(anyhow!(
                "cannot tell where the state database goes: neither XDG_STATE_HOME nor HOME is set; use --state PATH"
            ))
        })
}

/// The state path for an import: only with `--skip-unchanged`.
fn state_for_import(
    c: &CommonArgs,
    file: Option<&Path>,
    env: Env<'_>,
) -> Result<Option<PathBuf>, Fatal> {
    if !c.skip_unchanged {
        return Ok(None);
    }
    state_path(c.state.as_deref(), file, env).map(Some)
}

/// The options for unattended runs: the flag, else the provider section's key.
struct Cron {
    rejected_ok: bool,
    metrics_file: Option<PathBuf>,
}

impl Cron {
    fn of(c: &CommonArgs, rejected_ok: Option<bool>, metrics_file: Option<&Path>) -> Cron {
        Cron {
            rejected_ok: c.rejected_ok || rejected_ok.unwrap_or(false),
            metrics_file: c
                .metrics_file
                .clone()
                .or_else(|| metrics_file.map(Path::to_path_buf)),
        }
    }

    fn apply(self, s: Settings) -> Settings {
        Settings {
            rejected_ok: self.rejected_ok,
            metrics_file: self.metrics_file,
            ..s
        }
    }
}

fn common(
    a: &CommonArgs,
    input: &Path,
    provider: ProviderChoice,
    base: GivenBaseUrl,
    warnings: Vec<String>,
) -> Result<Settings, Fatal> {
    let name = provider.name();
    let mut warnings = warnings;
    let input = input_options(a, input, &mut warnings)?;
    let endpoint = endpoint(a, &base)?;
    let max_failures = a
        .max_failures
        .as_deref()
        .map(str::parse)
        .transpose()
        .usage()?;
    let timeout = checked_rate_and_timeout(a)?;
    if a.resume && a.out.is_none() {
        return Err(Fatal::usage(anyhow!(
            "--resume needs --out DIR (the report directory of the run to continue)"
        )));
    }
    let out_dir = a.out.clone().unwrap_or_else(|| default_out_dir(name));
    let batch_size = a.batch_size.unwrap_or(DEFAULT_BATCH_SIZE);
    let shape = input_shape(a, &input, &endpoint, base.given, batch_size);
    Ok(Settings {
        provider,
        input,
        maps: a.maps.clone(),
        batch_size: usize::from(batch_size),
        concurrency: match a.concurrency {
            Concurrency::Auto => None,
            Concurrency::Fixed(n) => Some(usize::from(n)),
        },
        rate: match a.rate {
            Some(Rate::Fixed(r)) => Some(r),
            Some(Rate::Auto) | None => None,
        },
        retries: a.retries,
        timeout,
        backoff: Duration::from_millis(a.backoff_ms),
        give_up_after: Duration::from_secs(a.give_up_after),
        out_dir,
        resume: a.resume,
        endpoint,
        max_failures,
        bisect: !a.no_bisect,
        json: a.json,
        quiet: a.quiet,
        verbose: a.verbose,
        progress: !a.no_progress && !a.quiet,
        mask_pii: a.mask_pii,
        state: None,
        rejected_ok: false,
        metrics_file: None,
        profile: a.profile.clone(),
        warnings,
        shape,
    })
}

fn default_out_dir(provider: &str) -> PathBuf {
    let now = time::OffsetDateTime::now_utc();
    let stamp = now
        .format(time::macros::format_description!(
            "[year][month][day]-[hour][minute][second]"
        ))
        .unwrap_or_else(|_| now.unix_timestamp().to_string());
    let first = PathBuf::from(format!("custimport-{provider}-{stamp}"));
    // Two runs in the same second (a script, a retry) each get a directory of their own.
    std::iter::once(first.clone())
        .chain((2..100).map(|n| PathBuf::from(format!("custimport-{provider}-{stamp}-{n}"))))
        .find(|p| std::fs::symlink_metadata(p).is_err())
        .unwrap_or(first)
}

mod credentials;
mod endpoint;
mod file;
mod input_options;
use credentials::*;
pub(crate) use endpoint::*;
use input_options::*;
mod file_error;
pub(crate) use file::*;
mod layers;
mod shared;
use shared::{provider_settings, Built, SectionKeys};
mod probe;
mod sections;
pub(crate) use layers::{mark_command_line, state_for_command};
pub(crate) use probe::{itnio_check, nxlink_check, CheckTarget};
pub(crate) use sections::{ItnioSection, NxlinkSection, Profile};
pub(crate) mod recorded;
pub(crate) mod show;

#[cfg(test)]
mod tests;
