//! Credentials for a run: each provider's account (nxlink access key and secret, tenant, app;
//! itnio API key and secret, app) from flags, the environment, a profile or the provider's
//! section, each part named when missing, secrets never shown.

use super::*;

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
