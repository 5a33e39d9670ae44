//! `custimport config`: the config file in use and the profiles it defines; for a provider, each
//! value of the effective configuration of an import given the same options, and where it came
//! from (flag, environment, profile, section, default).
//!
//! Invariant: what this shows is what an import uses. Every value comes from the import's own
//! layering (`layers::nxlink_layered`, `layers::load_layers`), credential lookup, base URL pick
//! and value checks; this module only says where each came from and prints it. Secrets are never
//! held here: a set secret is [`Shown::Secret`], printed `***`.

use std::path::{Path, PathBuf};

use anyhow::anyhow;
use serde_json::{json, Value};

use super::layers::{self, Placed, Source};
use super::{Cron, Endpoint, Env};
use crate::cli::{CommonArgs, Concurrency, ItnioArgs, NxlinkArgs, Rate};
use crate::exit::{Exit, Fatal};

/// A value as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Shown {
    Text(String),
    /// A secret that is set; its value is never kept here.
    Secret,
    NotSet,
}

impl Shown {
    fn text(s: impl ToString) -> Shown {
        Shown::Text(s.to_string())
    }

    fn opt<T: ToString>(v: Option<T>) -> Shown {
        v.map_or(Shown::NotSet, |v| Shown::text(v))
    }

    fn path(p: Option<&Path>) -> Shown {
        Shown::opt(p.map(|p| p.display()))
    }

    /// As printed: escaped, so text from the file cannot move the cursor.
    fn printed(&self) -> String {
        match self {
            Shown::Text(s) => crate::provider::answer::escape_control(s).into_owned(),
            Shown::Secret => "***".into(),
            Shown::NotSet => "(not set)".into(),
        }
    }

    fn json(&self) -> Value {
        match self {
            Shown::NotSet => Value::Null,
            other => json!(other.printed()),
        }
    }
}

/// One option of the effective configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    /// The config key (`map.FIELD` for a map entry).
    pub name: String,
    pub value: Shown,
    pub source: Source,
}

/// Where the options came from: the command line (before any layering), the file's import
/// options (by layer) and the file's other keys (the profile's, else the section's).
struct Origins<'a> {
    flags: &'a [String],
    placed: &'a Placed,
    in_file: &'a Placed,
    section: &'static str,
}

impl Origins<'_> {
    /// An import option: the command line, else the layer that put it, else the default.
    fn option(&self, id: &str) -> Source {
        if self.flags.iter().any(|f| f == id) {
            Source::Flag
        } else {
            self.placed.get(id).cloned().unwrap_or(Source::Default)
        }
    }

    /// A key the file layer reads (flag, else file, else default): `in_file`, the file holds it.
    fn keyed(&self, id: &str, in_file: bool) -> Source {
        if self.flags.iter().any(|f| f == id) {
            Source::Flag
        } else if in_file {
            self.file(id)
        } else {
            Source::Default
        }
    }

    /// A key the file set: the profile's, or the top level's, or the section's.
    fn file(&self, id: &str) -> Source {
        self.in_file
            .get(id)
            .cloned()
            .unwrap_or(Source::Section(self.section))
    }

    /// A source the credential lookup or the base URL pick reported (their file tier is the
    /// section's, told apart from the profile's here).
    fn refined(&self, id: &str, s: Source) -> Source {
        match s {
            Source::Section(_) => self.file(id),
            other => other,
        }
    }
}

/// `custimport config [PROVIDER]`: print the profiles (`entries`: `None`) or the effective
/// configuration; exit 0 (2 for a configuration error, found before this is called).
pub(crate) fn run(entries: Option<&[Entry]>, c: &CommonArgs, env: Env<'_>) -> Result<Exit, Fatal> {
    let found = super::find_file(c.config.as_deref(), env)?;
    let file = match &found.path {
        Some(p) => {
            let (file, warnings) = super::read_file(p)?;
            for w in warnings {
                crate::messages::warn(w);
            }
            file
        }
        None => super::FileConfig::default(),
    };
    let text = match entries {
        None => profiles(&found, &file, c.json),
        Some(entries) => {
            let profile = match (&c.profile, env("CUSTIMPORT_PROFILE")) {
                (Some(p), _) => Some((p.clone(), Source::Flag)),
                (None, Some(p)) => Some((p, Source::Env("CUSTIMPORT_PROFILE".into()))),
                (None, None) => None,
            };
            render(&found, profile.as_ref(), entries, c.json)
        }
    };
    crate::messages::stdout(crate::messages::bounded(&text).as_bytes())
        .map_err(|e| Fatal::usage(anyhow!("cannot write to standard output: {e}")))?;
    Ok(Exit::Success)
}

/// The file's name as printed (`./custimport.toml` for the local one).
fn file_name(p: &Path) -> String {
    let shown = if p.is_relative() && p.components().count() == 1 {
        PathBuf::from(".").join(p)
    } else {
        p.to_path_buf()
    };
    crate::provider::answer::escape_control(&shown.display().to_string()).into_owned()
}

/// The line naming the config file in use, or where none was found.
fn file_line(found: &super::FoundFile) -> String {
    match &found.path {
        Some(p) => format!("config file: {}\n", file_name(p)),
        None => {
            let places: Vec<String> = found.looked_at.iter().map(|p| file_name(p)).collect();
            format!(
                "config file: none found (looked at {})\n",
                places.join(" and ")
            )
        }
    }
}

/// Without a provider: the file in use and its profiles, one a line, with their `provider`.
fn profiles(found: &super::FoundFile, file: &super::FileConfig, json: bool) -> String {
    let esc = |s: &str| crate::provider::answer::escape_control(s).into_owned();
    if json {
        let list: Vec<Value> = file
            .profile
            .iter()
            .map(|(name, p)| json!({"name": esc(name), "provider": p.provider.as_deref().map(esc)}))
            .collect();
        let v = json!({
            "config_file": found.path.as_deref().map(file_name),
            "looked_at": found.looked_at.iter().map(|p| file_name(p)).collect::<Vec<_>>(),
            "profiles": list,
        });
        return format!("{v}\n");
    }
    let mut text = file_line(found);
    if file.profile.is_empty() {
        text.push_str("profiles: none\n");
        return text;
    }
    text.push_str("profiles:\n");
    for (name, p) in &file.profile {
        match &p.provider {
            Some(provider) => {
                text.push_str(&format!("  {} (provider {})\n", esc(name), esc(provider)))
            }
            None => text.push_str(&format!("  {}\n", esc(name))),
        }
    }
    text
}

/// With a provider: the file, the profile, then one line per option: name, value, source.
fn render(
    found: &super::FoundFile,
    profile: Option<&(String, Source)>,
    entries: &[Entry],
    json: bool,
) -> String {
    let esc = |s: &str| crate::provider::answer::escape_control(s).into_owned();
    if json {
        let options: Vec<Value> = entries
            .iter()
            .map(|e| json!({"name": esc(&e.name), "value": e.value.json(), "source": esc(&e.source.to_string())}))
            .collect();
        let v = json!({
            "config_file": found.path.as_deref().map(file_name),
            "profile": profile.map(|(p, s)| json!({"name": esc(p), "source": s.to_string()})),
            "options": options,
        });
        return format!("{v}\n");
    }
    let mut text = file_line(found);
    if let Some((name, source)) = profile {
        text.push_str(&format!("profile: {} ({source})\n", esc(name)));
    }
    let rows: Vec<(String, String, String)> = entries
        .iter()
        .map(|e| (esc(&e.name), e.value.printed(), esc(&e.source.to_string())))
        .collect();
    let name_width = rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(0);
    let value_width = rows
        .iter()
        .map(|r| r.1.chars().count())
        .max()
        .unwrap_or(0)
        .min(48);
    for (name, value, source) in rows {
        text.push_str(&format!(
            "{name:<name_width$}  {value:<value_width$}  {source}\n"
        ));
    }
    text
}

/// The effective configuration of an nxlink import given `args` and `c`.
pub(crate) fn nxlink(args: &NxlinkArgs, c: &CommonArgs, env: Env<'_>) -> Result<Vec<Entry>, Fatal> {
    let flags = c.on_command_line.clone();
    let (args, c, placed) = layers::nxlink_layered(args, c, env)?;
    let (file, _, in_file) = layers::load_layers(&c, "nxlink", env)?;
    let s = &file.nxlink;
    let o = Origins {
        flags: &flags,
        placed: &placed,
        in_file: &in_file,
        section: "nxlink",
    };
    let (mut credentials, sources) = super::nxlink_account(&args, s, env, false)?;
    if c.sandbox {
        crate::embedded::nxlink_credentials(&mut credentials)?;
    }
    let mut e = Entries::default();
    let source = |key: &str| account_source(&o, &sources, key, c.sandbox);
    let set = |v: &str| Shown::opt((!v.is_empty()).then_some(v));
    e.push(
        "access_key",
        set(&credentials.access_key),
        source("access_key"),
    );
    let secret = !credentials.access_secret.expose().is_empty();
    e.push(
        "access_secret",
        secret_shown(secret),
        source("access_secret"),
    );
    let tenant = (source("tenant_id") != Source::Default).then_some(credentials.tenant_id);
    e.push("tenant_id", Shown::opt(tenant), source("tenant_id"));
    e.push("app_key", set(&credentials.app_key), source("app_key"));
    let base = super::nxlink_base_url(&args, &c, s.base_url.as_deref(), env);
    e.endpoint(&o, &c, &base)?;
    let mode = args.mode.unwrap_or_default();
    e.push("mode", Shown::text(name(mode)), o.option("mode"));
    e.push(
        "strict_binding",
        Shown::text(args.strict_binding),
        o.option("strict_binding"),
    );
    let region = super::phone_region(&c, s.phone_region.as_deref())?;
    let keyed = |id: &str, set: bool| o.keyed(id, set);
    e.push(
        "phone_region",
        Shown::opt(region.map(|r| r.id())),
        keyed("phone_region", s.phone_region.is_some()),
    );
    let order = super::date_order(&c, s.date_order.as_deref())?;
    e.push(
        "date_order",
        Shown::text(order.name()),
        keyed("date_order", s.date_order.is_some()),
    );
    let row = super::header_row(&c, s.header_row)?;
    e.push(
        "header_row",
        Shown::text(row.unwrap_or(1)),
        keyed("header_row", s.header_row.is_some()),
    );
    let cron = Cron::of(&c, s.rejected_ok, s.metrics_file.as_deref());
    e.cron(&o, cron, s.rejected_ok.is_some(), s.metrics_file.is_some());
    e.state(&o, &c, file.state.as_deref(), env)?;
    e.common(&o, &c)?;
    Ok(e.0)
}

/// The effective configuration of an itnio import given `args` and `c`.
pub(crate) fn itnio(args: &ItnioArgs, c: &CommonArgs, env: Env<'_>) -> Result<Vec<Entry>, Fatal> {
    let flags = c.on_command_line.clone();
    let (args, c, placed) = layers::itnio_layered(args, c, env)?;
    let (file, _, in_file) = layers::load_layers(&c, "itnio", env)?;
    let s = &file.itnio;
    let o = Origins {
        flags: &flags,
        placed: &placed,
        in_file: &in_file,
        section: "itnio",
    };
    let (mut credentials, sources) = super::itnio_account(&args, s, env, false)?;
    if c.sandbox {
        crate::embedded::itnio_credentials(&mut credentials)?;
    }
    let mut e = Entries::default();
    let source = |key: &str| account_source(&o, &sources, key, c.sandbox);
    let set = |v: &str| Shown::opt((!v.is_empty()).then_some(v));
    e.push("api_key", set(&credentials.api_key), source("api_key"));
    let secret = !credentials.api_secret.expose().is_empty();
    e.push("api_secret", secret_shown(secret), source("api_secret"));
    e.push("app_id", set(&credentials.app_id), source("app_id"));
    e.push("job", Shown::opt(args.job), o.option("job"));
    let base = super::itnio_base_url(&c, s.base_url.as_deref(), env);
    e.endpoint(&o, &c, &base)?;
    e.push(
        "call_record_dup",
        Shown::text(args.call_record_dup),
        o.option("call_record_dup"),
    );
    let encrypted = args.encrypted_phones || s.encrypted_phones.unwrap_or(false);
    let in_file = s.encrypted_phones.is_some();
    e.push(
        "encrypted_phones",
        Shown::text(encrypted),
        o.keyed("encrypted_phones", in_file),
    );
    let region = super::phone_region(&c, s.phone_region.as_deref())?;
    e.push(
        "phone_region",
        Shown::opt(region.map(|r| r.id())),
        o.keyed("phone_region", s.phone_region.is_some()),
    );
    let row = super::header_row(&c, s.header_row)?;
    e.push(
        "header_row",
        Shown::text(row.unwrap_or(1)),
        o.keyed("header_row", s.header_row.is_some()),
    );
    let cron = Cron::of(&c, s.rejected_ok, s.metrics_file.as_deref());
    e.cron(&o, cron, s.rejected_ok.is_some(), s.metrics_file.is_some());
    e.state(&o, &c, file.state.as_deref(), env)?;
    e.common(&o, &c)?;
    Ok(e.0)
}

/// A credential's source: the emulator's with `--sandbox`, else what the lookup reported.
fn account_source(
    o: &Origins<'_>,
    sources: &[(String, Source)],
    key: &str,
    sandbox: bool,
) -> Source {
    if sandbox {
        return Source::Sandbox;
    }
    let reported = sources
        .iter()
        .find(|(k, _)| k == key)
        .map_or(Source::Default, |(_, s)| s.clone());
    o.refined(key, reported)
}

fn secret_shown(set: bool) -> Shown {
    if set {
        Shown::Secret
    } else {
        Shown::NotSet
    }
}

/// A value-enum's name as the command line spells it.
fn name<E: clap::ValueEnum>(e: E) -> String {
    e.to_possible_value()
        .map(|v| v.get_name().to_owned())
        .unwrap_or_default()
}

/// The entries, in the order shown.
#[derive(Default)]
struct Entries(Vec<Entry>);

impl Entries {
    fn push(&mut self, name: &str, value: Shown, source: Source) {
        self.0.push(Entry {
            name: name.to_owned(),
            value,
            source,
        });
    }

    /// `base_url`: where requests go, checked as an import checks it.
    fn endpoint(
        &mut self,
        o: &Origins<'_>,
        c: &CommonArgs,
        base: &super::GivenBaseUrl,
    ) -> Result<(), Fatal> {
        match super::endpoint(c, base)?.target() {
            Endpoint::Remote(url) => {
                let source = o.refined("base_url", base.origin.clone());
                self.push("base_url", Shown::text(url.as_str()), source);
            }
            _ => self.push(
                "base_url",
                Shown::text("sandbox (the built-in emulator)"),
                Source::Flag,
            ),
        }
        Ok(())
    }

    /// `rejected_ok` and `metrics_file` (flag, else the file).
    fn cron(&mut self, o: &Origins<'_>, cron: Cron, rejected_in_file: bool, metrics_in_file: bool) {
        self.push(
            "rejected_ok",
            Shown::text(cron.rejected_ok),
            o.keyed("rejected_ok", rejected_in_file),
        );
        let metrics = Shown::path(cron.metrics_file.as_deref());
        self.push(
            "metrics_file",
            metrics,
            o.keyed("metrics_file", metrics_in_file),
        );
    }

    /// `skip_unchanged` and the state database it would use.
    fn state(
        &mut self,
        o: &Origins<'_>,
        c: &CommonArgs,
        file: Option<&Path>,
        env: Env<'_>,
    ) -> Result<(), Fatal> {
        super::state_for_import(c, file, env)?;
        self.push(
            "skip_unchanged",
            Shown::text(c.skip_unchanged),
            o.option("skip_unchanged"),
        );
        let path = super::state_path(c.state.as_deref(), file, env).ok();
        let source = if o.flags.iter().any(|f| f == "state") {
            Source::Flag
        } else {
            o.in_file.get("state").cloned().unwrap_or(Source::Default)
        };
        self.push("state", Shown::path(path.as_deref()), source);
        Ok(())
    }

    /// The options both providers have, checked as an import checks them.
    fn common(&mut self, o: &Origins<'_>, c: &CommonArgs) -> Result<(), Fatal> {
        super::checked_rate_and_timeout(c)?;
        if let Some(d) = &c.delimiter {
            super::parse_delimiter(d).map_err(Fatal::usage)?;
        }
        if let Some(m) = &c.max_failures {
            m.parse::<super::MaxFailures>().map_err(Fatal::usage)?;
        }
        self.push("format", Shown::opt(c.format.map(name)), o.option("format"));
        self.push("sheet", Shown::opt(c.sheet.as_ref()), o.option("sheet"));
        self.push(
            "delimiter",
            Shown::opt(c.delimiter.as_ref()),
            o.option("delimiter"),
        );
        self.push(
            "encoding",
            Shown::text(c.encoding.as_deref().unwrap_or("utf-8")),
            o.option("encoding"),
        );
        self.push(
            "max_field_size",
            Shown::text(c.max_field_size),
            o.option("max_field_size"),
        );
        for m in &c.maps {
            let (field, column) = m.split_once('=').unwrap_or((m.as_str(), ""));
            let (field, column) = (field.trim(), column.trim());
            let id = format!("map.{field}");
            let source = o.placed.get(&id).cloned().unwrap_or(Source::Flag);
            self.push(&id, Shown::text(column), source);
        }
        let batch = c.batch_size.unwrap_or(super::DEFAULT_BATCH_SIZE);
        self.push("batch_size", Shown::text(batch), o.option("batch_size"));
        let concurrency = match c.concurrency {
            Concurrency::Auto => "auto".to_owned(),
            Concurrency::Fixed(n) => n.to_string(),
        };
        self.push(
            "concurrency",
            Shown::text(concurrency),
            o.option("concurrency"),
        );
        let rate = match c.rate {
            Some(Rate::Fixed(r)) => r.to_string(),
            Some(Rate::Auto) | None => "auto".to_owned(),
        };
        self.push("rate", Shown::text(rate), o.option("rate"));
        self.push("retries", Shown::text(c.retries), o.option("retries"));
        self.push("timeout", Shown::text(c.timeout), o.option("timeout"));
        self.push(
            "backoff_ms",
            Shown::text(c.backoff_ms),
            o.option("backoff_ms"),
        );
        self.push(
            "give_up_after",
            Shown::text(c.give_up_after),
            o.option("give_up_after"),
        );
        self.push("out", Shown::path(c.out.as_deref()), o.option("out"));
        self.push(
            "max_failures",
            Shown::opt(c.max_failures.as_ref()),
            o.option("max_failures"),
        );
        for (id, v) in [
            ("no_bisect", c.no_bisect),
            ("json", c.json),
            ("quiet", c.quiet),
            ("no_progress", c.no_progress),
            ("mask_pii", c.mask_pii),
        ] {
            self.push(id, Shown::text(v), o.option(id));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
