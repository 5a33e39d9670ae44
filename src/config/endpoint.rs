//! Where a run's requests go: the base URL from a flag, the environment, a profile or a
//! section (nxlink's regional hosts by `--region`), checked, or the built-in sandbox; and how
//! fast and how long they may go (`--rate`, `--timeout`).

use super::*;

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

/// A base URL as given, and where it came from (to name in an error, which never echoes the
/// value: one from the environment or the config file may carry a password).
pub(super) struct GivenBaseUrl {
    pub(super) url: String,
    pub(super) source: String,
    /// Given (by a flag, the environment or the config file), not the default.
    pub(super) given: bool,
    /// Where it came from (the file: the section's, see `layers::load_layers`).
    pub(super) origin: layers::Source,
}

/// nxlink's regional host (`--region`, `region` in the config file).
pub(super) fn region_host(r: NxlinkHost) -> &'static str {
    match r {
        NxlinkHost::Idn => "https://api-idn.nxlink.ai",
        NxlinkHost::Hk => "https://api-hk.nxlink.ai",
        NxlinkHost::Chl => "https://chl-api.nxlink.ai",
    }
}

/// nxlink's base URL as given (`file`: `base_url` of its section), defaulting to Indonesia's.
pub(super) fn nxlink_base_url(
    args: &NxlinkArgs,
    c: &CommonArgs,
    file: Option<&str>,
    env: Env<'_>,
) -> GivenBaseUrl {
    let region = args.region.map(region_host);
    let default = region_host(NxlinkHost::Idn);
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
pub(super) fn itnio_base_url(c: &CommonArgs, file: Option<&str>, env: Env<'_>) -> GivenBaseUrl {
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
pub(super) fn pick_base_url(
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

/// Where requests go: the built-in sandbox (`--sandbox` without `--base-url`) or the checked
/// base URL; a dry run keeps the endpoint it stands in for.
pub(super) fn endpoint(a: &CommonArgs, base: &GivenBaseUrl) -> Result<Endpoint, Fatal> {
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

/// `--rate` and `--timeout` within their bounds: the command line bounds them (see cli.rs);
/// checked again here, as settings can be built from other arguments, so that no conversion
/// below can panic. Returns the timeout.
pub(super) fn checked_rate_and_timeout(a: &CommonArgs) -> Result<Duration, Fatal> {
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
