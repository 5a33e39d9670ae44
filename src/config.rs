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

use crate::cli::{CommonArgs, Concurrency, ItnioArgs, Mode, NxlinkArgs, Rate, Region};
use crate::exit::{Fatal, UsageContext};
use crate::input::{Format, InputOptions};
use crate::provider::itnio::{self, Itnio};
use crate::provider::nxlink::{self, Nxlink};
use crate::provider::phone;
use crate::provider::rules::DateOrder;
use crate::sign::Algorithm;

pub(crate) use crate::secret::Secret;

/// The config file's content.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileConfig {
    /// The incremental-import state database (`--state`).
    pub state: Option<PathBuf>,
    #[serde(default)]
    pub nxlink: NxlinkSection,
    #[serde(default)]
    pub itnio: ItnioSection,
    /// Named settings (`[profile.NAME]`), chosen with `--profile` or `CUSTIMPORT_PROFILE`.
    #[serde(default)]
    pub profile: std::collections::BTreeMap<String, Profile>,
}

/// Where environment variables come from (the process, or a map in tests).
pub(crate) type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment, empty values counting as unset.
pub(crate) fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Find and read the config file: `--config`, else `./custimport.toml`, else
/// `$XDG_CONFIG_HOME/custimport/config.toml` (`~/.config` when unset). Returns warnings to show.
pub(crate) fn load_file(
    explicit: Option<&Path>,
    env: Env<'_>,
) -> Result<(FileConfig, Vec<String>), Fatal> {
    let Some(path) = find_file(explicit, env)?.path else {
        return Ok((FileConfig::default(), vec![]));
    };
    read_file(&path)
}

/// Which config file is in use, and where one was looked for.
#[derive(Debug)]
pub(crate) struct FoundFile {
    /// The file in use, if any.
    pub path: Option<PathBuf>,
    /// The places looked at without `--config` (`./custimport.toml`, then the XDG one).
    pub looked_at: Vec<PathBuf>,
}

/// The config file [`load_file`] reads: `--config` (which must exist), else the first of
/// `./custimport.toml` and `$XDG_CONFIG_HOME/custimport/config.toml` that is a file.
pub(crate) fn find_file(explicit: Option<&Path>, env: Env<'_>) -> Result<FoundFile, Fatal> {
    if let Some(p) = explicit {
        if !p.exists() {
            return Err(Fatal::usage(anyhow!(
                "config file {} does not exist (check -c/--config; see config.example.toml)",
                p.display()
            )));
        }
        return Ok(FoundFile {
            path: Some(p.to_path_buf()),
            looked_at: vec![],
        });
    }
    let local = PathBuf::from("custimport.toml");
    let xdg = env("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| env("HOME").map(|h| PathBuf::from(h).join(".config")))
        .map(|d| d.join("custimport").join("config.toml"));
    let looked_at: Vec<PathBuf> = std::iter::once(local).chain(xdg).collect();
    let path = looked_at.iter().find(|p| p.is_file()).cloned();
    Ok(FoundFile { path, looked_at })
}

/// Read and parse the config file at `path`.
fn read_file(path: &Path) -> Result<(FileConfig, Vec<String>), Fatal> {
    let path = path.to_path_buf();
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read config file {}", path.display()))
        .usage()?;
    // toml's own error text quotes the offending line, which may hold a secret.
    let cfg: FileConfig = toml::from_str(&text)
        .map_err(|e| Fatal::usage(anyhow!(file_error::describe(&path, &text, &e))))?;
    let mut warnings = vec![];
    let has_secret = cfg.nxlink.access_secret.is_some()
        || cfg.itnio.api_secret.is_some()
        || cfg
            .profile
            .values()
            .any(|p| p.access_secret.is_some() || p.api_secret.is_some());
    if has_secret && group_or_world_readable(&path) {
        warnings.push(format!(
            "config file {} holds secrets and is readable by other users: run `chmod 600 {}`",
            path.display(),
            path.display()
        ));
    }
    Ok((cfg, warnings))
}

#[cfg(unix)]
fn group_or_world_readable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 != 0)
}

#[cfg(not(unix))]
fn group_or_world_readable(_path: &Path) -> bool {
    false
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
        match self {
            ProviderChoice::Nxlink(_) => "nxlink",
            ProviderChoice::Itnio(_) => "itnio",
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

/// Where a run's requests go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// The provider's API under this base URL.
    Remote(BaseUrl),
    /// The in-process emulator, started for the run (`--sandbox`).
    Sandbox,
    /// `--dry-run`: nothing is sent. `instead_of` is where a real run would send: the
    /// `--skip-unchanged` state read is that endpoint's. Never itself a dry run.
    DryRun { instead_of: Box<Endpoint> },
}

impl Endpoint {
    /// Where requests go or, for a dry run, would go.
    pub(crate) fn target(&self) -> &Endpoint {
        match self {
            Endpoint::DryRun { instead_of } => instead_of,
            e => e,
        }
    }

    pub(crate) fn is_dry_run(&self) -> bool {
        matches!(self, Endpoint::DryRun { .. })
    }

    /// The built-in emulator, whether or not requests are sent.
    pub(crate) fn is_sandbox(&self) -> bool {
        matches!(self.target(), Endpoint::Sandbox)
    }
}

/// A base URL that passed [`check_base_url`]: `https://`, or `http://` to a loopback host;
/// no user name, password, query or fragment; no trailing `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BaseUrl(String);

impl BaseUrl {
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
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
        mode: match mode {
            Mode::Replace => 0,
            Mode::Merge => 1,
            Mode::Keep => 2,
        },
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
    let nx = Nxlink::new(credentials, options);
    let base = nxlink_base_url(args, c, s.base_url.as_deref(), env);
    let state = state_for_import(c, file.state.as_deref(), env)?;
    let cron = Cron::of(c, s.rejected_ok, s.metrics_file.as_deref());
    let mut settings = cron.apply(common(
        c,
        &args.input,
        ProviderChoice::Nxlink(nx),
        base,
        warnings,
    )?);
    settings.input.header_row = header_row;
    let shape = &mut settings.shape;
    common_shape(shape, c, s.phone_region.is_some(), region_used);
    header_row_shape(shape, c, s.header_row.is_some(), header_row);
    state_shape(shape, c, file.state.is_some(), state.as_deref());
    shape.set("account", account, true);
    shape.set("mode", name_of(mode), args.mode.is_some());
    shape.set(
        "date_order",
        json!(date_order_used.name()),
        c.date_order.is_some() || s.date_order.is_some(),
    );
    let strict = args.strict_binding;
    shape.set("strict_binding", json!(strict), strict);
    Ok(Settings { state, ..settings })
}

/// A value-enum's name as the command line spells it.
fn name_of<E: ValueEnum>(e: E) -> Value {
    e.to_possible_value()
        .map_or(Value::Null, |v| json!(v.get_name()))
}

/// The recorded options both providers have, besides the endpoint and input options that
/// [`common`] records.
fn common_shape(
    shape: &mut recorded::Shape,
    c: &CommonArgs,
    region_in_file: bool,
    region: Option<phone::Region>,
) {
    let region_given = c.phone_region.is_some() || region_in_file;
    shape.set(
        "phone_region",
        region.map_or(Value::Null, |r| json!(r.id())),
        region_given,
    );
    shape.set("mask_pii", json!(c.mask_pii), c.mask_pii);
}

/// `--header-row` (flag or config), recorded as the line or sheet row used.
fn header_row_shape(shape: &mut recorded::Shape, c: &CommonArgs, in_file: bool, row: Option<u32>) {
    let given = c.header_row.is_some() || in_file;
    shape.set("header_row", row.map_or(Value::Null, |r| json!(r)), given);
}

/// `--skip-unchanged` and its state database.
fn state_shape(shape: &mut recorded::Shape, c: &CommonArgs, in_file: bool, state: Option<&Path>) {
    shape.set("skip_unchanged", json!(c.skip_unchanged), c.skip_unchanged);
    let path = state.map_or(Value::Null, |p| {
        let p = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
        json!(p.to_string_lossy())
    });
    shape.set(
        "state",
        path,
        c.state.is_some() || (in_file && c.skip_unchanged),
    );
}

/// nxlink's credentials: each from its flag, the environment or the `[nxlink]` section.
/// `needed`: a missing one is a usage error naming every missing one.
fn nxlink_credentials(
    args: &NxlinkArgs,
    s: &NxlinkSection,
    env: Env<'_>,
    needed: bool,
) -> Result<nxlink::Credentials, Fatal> {
    nxlink_account(args, s, env, needed).map(|(credentials, _)| credentials)
}

/// [`nxlink_credentials`], also telling where each came from.
fn nxlink_account(
    args: &NxlinkArgs,
    s: &NxlinkSection,
    env: Env<'_>,
    needed: bool,
) -> Result<(nxlink::Credentials, Vec<(String, layers::Source)>), Fatal> {
    let mut l = Lookup::new(env);
    let access_key = l.get(
        None,
        "CUSTIMPORT_NXLINK_ACCESS_KEY",
        s.access_key.as_deref(),
        "access_key",
        "nxlink",
        needed,
    );
    let secret = l.get(
        None,
        "CUSTIMPORT_NXLINK_ACCESS_SECRET",
        s.access_secret.as_ref().map(Secret::expose),
        "access_secret",
        "nxlink",
        needed,
    );
    let file_tenant = s.tenant_id.as_ref().map(|v| match v {
        toml::Value::String(t) => t.clone(),
        other => other.to_string(),
    });
    let tenant = l.get(
        args.tenant_id.as_deref(),
        "CUSTIMPORT_NXLINK_TENANT_ID",
        file_tenant.as_deref(),
        "tenant_id (or --tenant-id)",
        "nxlink",
        needed,
    );
    let app_key = l.get(
        args.app_key.as_deref(),
        "CUSTIMPORT_NXLINK_APP_KEY",
        s.app_key.as_deref(),
        "app_key (or --app-key)",
        "nxlink",
        needed,
    );
    let sources = std::mem::take(&mut l.sources);
    l.finish("nxlink")?;
    let credentials = nxlink::Credentials {
        access_key,
        access_secret: Secret::new(secret),
        tenant_id: tenant_id(&tenant, args, env)?,
        app_key,
    };
    Ok((credentials, sources))
}

/// The tenant id as a number (0 when none is given, as in a dry run).
fn tenant_id(tenant: &str, args: &NxlinkArgs, env: Env<'_>) -> Result<i64, Fatal> {
    if tenant.is_empty() {
        return Ok(0);
    }
    // Named by where it came from, never echoed (an environment variable or the config file
    // may hold anything).
    let source = if args.tenant_id.is_some() {
        "--tenant-id"
    } else if env("CUSTIMPORT_NXLINK_TENANT_ID").is_some() {
        "CUSTIMPORT_NXLINK_TENANT_ID"
    } else {
        "tenant_id in [nxlink] of the config file"
    };
    tenant
        .trim()
        .parse()
        .map_err(|_| anyhow!("{source} must be a whole number"))
        .usage()
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
    let it = Itnio::new(credentials, options);
    let base = itnio_base_url(c, s.base_url.as_deref(), env);
    let state = state_for_import(c, file.state.as_deref(), env)?;
    let cron = Cron::of(c, s.rejected_ok, s.metrics_file.as_deref());
    let mut settings = cron.apply(common(
        c,
        &args.input,
        ProviderChoice::Itnio(it),
        base,
        warnings,
    )?);
    settings.input.header_row = header_row;
    let shape = &mut settings.shape;
    common_shape(shape, c, s.phone_region.is_some(), region_used);
    header_row_shape(shape, c, s.header_row.is_some(), header_row);
    state_shape(shape, c, file.state.is_some(), state.as_deref());
    shape.set("account", account, true);
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
    Ok(Settings { state, ..settings })
}

/// itnio's credentials and job: each from its flag, the environment or the `[itnio]` section.
/// `needed`: a missing one is a usage error naming every missing one.
fn itnio_credentials(
    args: &ItnioArgs,
    s: &ItnioSection,
    env: Env<'_>,
    needed: bool,
) -> Result<itnio::Credentials, Fatal> {
    itnio_account(args, s, env, needed).map(|(credentials, _)| credentials)
}

/// [`itnio_credentials`], also telling where each came from.
fn itnio_account(
    args: &ItnioArgs,
    s: &ItnioSection,
    env: Env<'_>,
    needed: bool,
) -> Result<(itnio::Credentials, Vec<(String, layers::Source)>), Fatal> {
    let mut l = Lookup::new(env);
    let api_key = l.get(
        None,
        "CUSTIMPORT_ITNIO_API_KEY",
        s.api_key.as_deref(),
        "api_key",
        "itnio",
        needed,
    );
    let secret = l.get(
        None,
        "CUSTIMPORT_ITNIO_API_SECRET",
        s.api_secret.as_ref().map(Secret::expose),
        "api_secret",
        "itnio",
        needed,
    );
    let app_id = l.get(
        args.app_id.as_deref(),
        "CUSTIMPORT_ITNIO_APP_ID",
        s.app_id.as_deref(),
        "app_id (or --app-id)",
        "itnio",
        needed,
    );
    let sources = std::mem::take(&mut l.sources);
    l.finish("itnio")?;
    let credentials = itnio::Credentials {
        api_key,
        api_secret: Secret::new(secret),
        app_id,
        // Checked once the resumed run's options are known (see `job_given`).
        job_id: args.job.unwrap_or(0),
    };
    Ok((credentials, sources))
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

/// A base URL as given, and where it came from (to name in an error, which never echoes the
/// value: one from the environment or the config file may carry a password).
struct GivenBaseUrl {
    url: String,
    source: String,
    /// Given (by a flag, the environment or the config file), not the default.
    given: bool,
    /// Where it came from (the file: the section's, see `layers::load_layers`).
    origin: layers::Source,
}

/// nxlink's regional host (`--region`, `region` in the config file).
pub(super) fn region_host(r: Region) -> &'static str {
    match r {
        Region::Idn => "https://api-idn.nxlink.ai",
        Region::Hk => "https://api-hk.nxlink.ai",
        Region::Chl => "https://chl-api.nxlink.ai",
    }
}

/// nxlink's base URL as given (`file`: `base_url` of its section), defaulting to Indonesia's.
fn nxlink_base_url(
    args: &NxlinkArgs,
    c: &CommonArgs,
    file: Option<&str>,
    env: Env<'_>,
) -> GivenBaseUrl {
    let region = args.region.map(region_host);
    let default = region_host(Region::Idn);
    pick_base_url(
        c,
        region,
        env,
        "CUSTIMPORT_NXLINK_BASE_URL",
        file,
        "nxlink",
        default,
    )
}

/// itnio's base URL as given (`file`: `base_url` of its section).
fn itnio_base_url(c: &CommonArgs, file: Option<&str>, env: Env<'_>) -> GivenBaseUrl {
    let default = "https://api.itniotech.com";
    pick_base_url(
        c,
        None,
        env,
        "CUSTIMPORT_ITNIO_BASE_URL",
        file,
        "itnio",
        default,
    )
}

/// The base URL: `--base-url`, then `--region`, then the environment, then the config file.
fn pick_base_url(
    c: &CommonArgs,
    region: Option<&str>,
    env: Env<'_>,
    var: &str,
    file: Option<&str>,
    section: &'static str,
    default: &str,
) -> GivenBaseUrl {
    use layers::Source;
    let (url, source, origin) = if let Some(u) = &c.base_url {
        (u.clone(), "--base-url".to_owned(), Source::Flag)
    } else if let Some(r) = region {
        (r.to_owned(), "--region".to_owned(), Source::Flag)
    } else if let Some(u) = env(var) {
        (u, var.to_owned(), Source::Env(var.to_owned()))
    } else if let Some(u) = file {
        (
            u.to_owned(),
            format!("base_url in [{section}] of the config file"),
            Source::Section(section),
        )
    } else {
        (
            default.to_owned(),
            "the default base URL".to_owned(),
            Source::Default,
        )
    };
    let given = c.sandbox || c.base_url.is_some() || region.is_some() || url != default;
    GivenBaseUrl {
        url,
        source,
        given,
        origin,
    }
}

fn common(
    a: &CommonArgs,
    input: &Path,
    provider: ProviderChoice,
    base: GivenBaseUrl,
    warnings: Vec<String>,
) -> Result<Settings, Fatal> {
    let name = match provider {
        ProviderChoice::Nxlink(_) => "nxlink",
        ProviderChoice::Itnio(_) => "itnio",
    };
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

/// The recorded options of [`common`]: where requests go, how the input is read and batched.
fn input_shape(
    a: &CommonArgs,
    input: &InputOptions,
    endpoint: &Endpoint,
    endpoint_given: bool,
    batch_size: u16,
) -> recorded::Shape {
    let mut shape = recorded::Shape::default();
    let target = match endpoint.target() {
        Endpoint::Remote(b) => json!(b.as_str()),
        _ => json!("sandbox"),
    };
    shape.set("endpoint", target, endpoint_given);
    shape.set("format", name_of(input.format), a.format.is_some());
    // Recorded as resolved once the input is open (see `run::open_journal`).
    shape.set("sheet", json!(a.sheet), a.sheet.is_some());
    let delimiter = input
        .delimiter
        .map_or(Value::Null, |d| json!(char::from(d).to_string()));
    shape.set("delimiter", delimiter, a.delimiter.is_some());
    let encoding = input.encoding.map_or("UTF-8", encoding_rs::Encoding::name);
    shape.set("encoding", json!(encoding), a.encoding.is_some());
    shape.set("map", json!(a.maps), !a.maps.is_empty());
    shape.set("batch_size", json!(batch_size), a.batch_size.is_some());
    shape
}

/// How to read the input: its format (`--format`, else from the file name), sheet,
/// delimiter, encoding and field size limit.
fn input_options(
    a: &CommonArgs,
    input: &Path,
    warnings: &mut Vec<String>,
) -> Result<InputOptions, Fatal> {
    let is_stdin = input.as_os_str() == "-";
    // Missing or a directory: said before anything else about the input.
    crate::input::check_path(input).usage()?;
    let format = match (a.format, Format::from_path(input)) {
        (Some(f), _) => f,
        (None, Some(f)) if !is_stdin => f,
        _ if is_stdin => {
            return Err(Fatal::usage(anyhow!(
                "reading standard input needs --format csv|tsv|jsonl"
            )))
        }
        _ => {
            return Err(Fatal::usage(anyhow!(
                "{}: cannot tell the format from the file name; use --format csv|tsv|jsonl|xlsx|xlsb|xls|ods",
                input.display()
            )))
        }
    };
    sheet_options(a, format, is_stdin, warnings)?;
    let delimiter = a
        .delimiter
        .as_deref()
        .map(parse_delimiter)
        .transpose()
        .usage()?;
    let encoding = match &a.encoding {
        None => None,
        Some(label) => Some(encoding_rs::Encoding::for_label(label.trim().as_bytes()).ok_or_else(|| {
            Fatal::usage(anyhow!(
                "--encoding: unknown encoding {label:?}; use a WHATWG label such as utf-8, gbk, gb18030, big5, shift_jis, euc-kr, windows-1252"
            ))
        })?),
    };
    let max_field_bytes = usize::try_from(a.max_field_size)
        .map_err(|_| Fatal::usage(anyhow!("--max-field-size is too large for this machine")))?;
    Ok(InputOptions {
        path: input.to_path_buf(),
        format,
        delimiter,
        encoding,
        max_field_bytes,
        sheet: a.sheet.clone(),
        header_row: None,
    })
}

/// Where requests go: the built-in sandbox (`--sandbox` without `--base-url`) or the checked
/// base URL; a dry run keeps the endpoint it stands in for.
fn endpoint(a: &CommonArgs, base: &GivenBaseUrl) -> Result<Endpoint, Fatal> {
    let target = if a.sandbox && a.base_url.is_none() {
        Endpoint::Sandbox
    } else {
        Endpoint::Remote(BaseUrl(
            check_base_url(&base.url)
                .with_context(|| base.source.clone())
                .usage()?,
        ))
    };
    Ok(if a.dry_run {
        Endpoint::DryRun {
            instead_of: Box::new(target),
        }
    } else {
        target
    })
}

/// `--rate` and `--timeout` within their bounds: the command line bounds them (see cli.rs);
/// checked again here, as settings can be built from other arguments, so that no conversion
/// below can panic. Returns the timeout.
fn checked_rate_and_timeout(a: &CommonArgs) -> Result<Duration, Fatal> {
    let (lo, hi) = crate::cli::RATE_PER_SEC;
    if matches!(a.rate, Some(Rate::Fixed(r)) if !(r.is_finite() && (lo..=hi).contains(&r))) {
        return Err(Fatal::usage(anyhow!(
            "--rate must be from {lo} to {hi} requests per second"
        )));
    }
    let (lo, hi) = crate::cli::TIMEOUT_SECS;
    Duration::try_from_secs_f64(a.timeout)
        .ok()
        .filter(|_| (lo..=hi).contains(&a.timeout))
        .ok_or_else(|| Fatal::usage(anyhow!("--timeout must be from {lo} to {hi} seconds")))
}

/// `--phone-region`, else `phone_region` in the provider's config section: a region with a
/// numbering plan, or a usage error.
fn phone_region(c: &CommonArgs, file: Option<&str>) -> Result<Option<phone::Region>, Fatal> {
    let (given, whence) = match (&c.phone_region, file) {
        (Some(f), _) => (f.as_str(), "--phone-region"),
        (None, Some(f)) => (f, "phone_region in the config file"),
        (None, None) => return Ok(None),
    };
    phone::Region::from_iso(given).map(Some).ok_or_else(|| {
        Fatal::usage(anyhow!(
            "{whence}: {given:?} is not an ISO 3166-1 alpha-2 or alpha-3 region with a telephone numbering plan (e.g. ID or IDN, CN, PH, IN)"
        ))
    })
}

/// `--date-order`, else `date_order` in the provider's config section, else `ymd`.
fn date_order(c: &CommonArgs, file: Option<&str>) -> Result<DateOrder, Fatal> {
    match (c.date_order, file) {
        (Some(o), _) => Ok(o),
        (None, Some(f)) => DateOrder::parse(f).ok_or_else(|| {
            Fatal::usage(anyhow!(
                "date_order in the config file: give \"ymd\", \"dmy\" or \"mdy\""
            ))
        }),
        (None, None) => Ok(DateOrder::Ymd),
    }
}

/// `--header-row`, else `header_row` in the provider's config section (1 to the last row a
/// spreadsheet can have); `None`: the first line.
fn header_row(c: &CommonArgs, file: Option<i64>) -> Result<Option<u32>, Fatal> {
    let max = crate::cli::MAX_HEADER_ROW;
    match (c.header_row, file) {
        (Some(n), _) => Ok(Some(n)),
        (None, Some(n)) => u32::try_from(n)
            .ok()
            .filter(|&n| n >= 1 && i64::from(n) <= max)
            .map(Some)
            .ok_or_else(|| {
                Fatal::usage(anyhow!(
                    "header_row in the config file: give a line number from 1 to {max}"
                ))
            }),
        (None, None) => Ok(None),
    }
}

/// Spreadsheets come from files; `--sheet` is for them only, `--delimiter` and `--encoding`
/// are not (a workbook says both itself): such a mismatch is a warning.
fn sheet_options(
    a: &CommonArgs,
    format: Format,
    is_stdin: bool,
    warnings: &mut Vec<String>,
) -> Result<(), Fatal> {
    if format.is_sheet() {
        if is_stdin {
            return Err(Fatal::usage(anyhow!(
                "spreadsheets are read from files, not standard input: save the workbook and give its path"
            )));
        }
        for (given, flag) in [
            (a.delimiter.is_some(), "--delimiter"),
            (a.encoding.is_some(), "--encoding"),
        ] {
            if given {
                warnings.push(format!("{flag} does not apply to a spreadsheet; ignored"));
            }
        }
    } else if a.sheet.is_some() {
        warnings.push("--sheet applies to spreadsheet input only; ignored".into());
    }
    Ok(())
}

fn parse_delimiter(s: &str) -> anyhow::Result<u8> {
    match s {
        "\\t" | "tab" | "TAB" | "\t" => Ok(b'\t'),
        _ if s.len() == 1 && s.is_ascii() && s != "\"" && s != "\n" && s != "\r" => {
            Ok(s.as_bytes()[0])
        }
        _ => bail!("--delimiter must be one ASCII character (or \\t), got {s:?}"),
    }
}

/// Only `https://`, or `http://` to a loopback host; a path prefix but no user name,
/// password, query or fragment. Returns the URL without a trailing `/`. Errors never echo the
/// URL (it may carry a password); the caller names where it came from.
pub(crate) fn check_base_url(s: &str) -> anyhow::Result<String> {
    let url =
        reqwest::Url::parse(s.trim()).map_err(|e| anyhow!("the base URL is not a URL ({e})"))?;
    if !url.username().is_empty() || url.password().is_some() {
        bail!("the base URL must not carry a user name or password (credentials belong in the config file)");
    }
    if url.query().is_some() || url.fragment().is_some() {
        bail!("the base URL must not carry a query (?...) or fragment (#...)");
    }
    match url.scheme() {
        "https" => {}
        "http" => {
            let loopback = match url.host() {
                Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                None => false,
            };
            if !loopback {
                bail!("plain http:// is only allowed to a loopback address; use https://");
            }
        }
        _ => bail!("unsupported scheme (use https://)"),
    }
    Ok(s.trim().trim_end_matches('/').to_owned())
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

mod file_error;
mod layers;
mod probe;
mod sections;
pub(crate) use layers::{mark_command_line, state_for_command};
pub(crate) use probe::{itnio_check, nxlink_check, CheckTarget};
pub(crate) use sections::{ItnioSection, NxlinkSection, Profile};
pub(crate) mod recorded;
pub(crate) mod show;

#[cfg(test)]
mod tests;
