//! Credentials for a run: each provider's account (nxlink access key and secret, tenant, app;
//! itnio API key and secret, app) from flags, the environment, a profile or the provider's
//! section, each part named when missing, secrets never shown. Which credentials a provider
//! has, and their keys, variables and flags, is its spec's table
//! ([`crate::provider::spec::ProviderSpec::credentials`]); what is here is where each comes
//! from.

use super::*;
use crate::provider::spec::ProviderSpec;

/// nxlink's credentials: each from its flag, the environment or the `[nxlink]` section.
/// `needed`: a missing one is a usage error naming every missing one.
pub(super) fn nxlink_credentials(
    args: &NxlinkArgs,
    s: &NxlinkSection,
    env: Env<'_>,
    needed: bool,
) -> Result<nxlink::Credentials, Fatal> {
    nxlink_account(args, s, env, needed).map(|(credentials, _)| credentials)
}

/// [`nxlink_credentials`], also telling where each came from.
pub(super) fn nxlink_account(
    args: &NxlinkArgs,
    s: &NxlinkSection,
    env: Env<'_>,
    needed: bool,
) -> Result<(nxlink::Credentials, Vec<(String, layers::Source)>), Fatal> {
    let flag = |key: &str| match key {
        "tenant_id" => args.tenant_id.as_deref(),
        "app_key" => args.app_key.as_deref(),
        _ => None,
    };
    let file = |key: &str| match key {
        "access_key" => s.access_key.clone(),
        "access_secret" => s.access_secret.as_ref().map(|v| v.expose().to_owned()),
        "tenant_id" => s.tenant_id.as_ref().map(|v| match v {
            toml::Value::String(t) => t.clone(),
            other => other.to_string(),
        }),
        "app_key" => s.app_key.clone(),
        _ => None,
    };
    let (mut found, sources) = look_up(&nxlink::NXLINK, flag, file, env, needed)?;
    let credentials = nxlink::Credentials {
        access_key: found.take("access_key"),
        access_secret: Secret::new(found.take("access_secret")),
        tenant_id: tenant_id(&found.take("tenant_id"), args, env)?,
        app_key: found.take("app_key"),
    };
    Ok((credentials, sources))
}

/// The credentials found, by config key.
struct Found(Vec<(&'static str, String)>);

impl Found {
    /// The value of `key` (empty when none was found, as in a dry run).
    fn take(&mut self, key: &str) -> String {
        self.0
            .iter_mut()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| std::mem::take(v))
            .unwrap_or_default()
    }
}

/// Every credential the provider's spec names, in its order: from its flag (`flag`, by config
/// key), the environment, or the provider's section (`file`). `needed`: a missing one is a
/// usage error naming every missing one.
fn look_up<'a>(
    spec: &'static ProviderSpec,
    flag: impl Fn(&str) -> Option<&'a str>,
    file: impl Fn(&str) -> Option<String>,
    env: Env<'_>,
    needed: bool,
) -> Result<(Found, Vec<(String, layers::Source)>), Fatal> {
    let mut l = Lookup::new(env);
    let mut found = Vec::with_capacity(spec.credentials.len());
    for c in spec.credentials {
        let named = match c.flag {
            Some(f) => format!("{} (or {f})", c.key),
            None => c.key.to_owned(),
        };
        let value = l.get(
            flag(c.key),
            c.env,
            file(c.key).as_deref(),
            &named,
            spec.name,
            needed,
        );
        found.push((c.key, value));
    }
    let sources = std::mem::take(&mut l.sources);
    l.finish(spec.name)?;
    Ok((Found(found), sources))
}

/// The tenant id as a number (0 when none is given, as in a dry run).
pub(super) fn tenant_id(tenant: &str, args: &NxlinkArgs, env: Env<'_>) -> Result<i64, Fatal> {
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

/// itnio's credentials and job: each from its flag, the environment or the `[itnio]` section.
/// `needed`: a missing one is a usage error naming every missing one.
pub(super) fn itnio_credentials(
    args: &ItnioArgs,
    s: &ItnioSection,
    env: Env<'_>,
    needed: bool,
) -> Result<itnio::Credentials, Fatal> {
    itnio_account(args, s, env, needed).map(|(credentials, _)| credentials)
}

/// [`itnio_credentials`], also telling where each came from.
pub(super) fn itnio_account(
    args: &ItnioArgs,
    s: &ItnioSection,
    env: Env<'_>,
    needed: bool,
) -> Result<(itnio::Credentials, Vec<(String, layers::Source)>), Fatal> {
    let flag = |key: &str| match key {
        "app_id" => args.app_id.as_deref(),
        _ => None,
    };
    let file = |key: &str| match key {
        "api_key" => s.api_key.clone(),
        "api_secret" => s.api_secret.as_ref().map(|v| v.expose().to_owned()),
        "app_id" => s.app_id.clone(),
        _ => None,
    };
    let (mut found, sources) = look_up(&itnio::ITNIO, flag, file, env, needed)?;
    let credentials = itnio::Credentials {
        api_key: found.take("api_key"),
        api_secret: Secret::new(found.take("api_secret")),
        app_id: found.take("app_id"),
        // Checked once the resumed run's options are known (see `job_given`).
        job_id: args.job.unwrap_or(0),
    };
    Ok((credentials, sources))
}
