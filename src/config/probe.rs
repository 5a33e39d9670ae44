//! What `custimport check` needs from the configuration: a provider configured with the
//! credentials an import would use (the same lookup: flag, environment, config file) and the
//! endpoint an import would send to. No input, no report directory.

use std::time::Duration;

use super::layers::{itnio_args, load_for, nxlink_args};
use super::{
    checked_rate_and_timeout, endpoint, itnio_base_url, itnio_credentials, nxlink_base_url,
    nxlink_credentials, Endpoint, Env, ProviderChoice,
};
use crate::cli::{CommonArgs, ItnioArgs, NxlinkArgs};
use crate::exit::Fatal;
use crate::provider::itnio::{self, Itnio};
use crate::provider::nxlink::{self, Nxlink};
use crate::sign::Algorithm;

/// Where a check sends its one request, and with which credentials.
#[derive(Debug)]
pub(crate) struct CheckTarget {
    pub provider: ProviderChoice,
    /// [`Endpoint::Remote`] or [`Endpoint::Sandbox`], never a dry run.
    pub endpoint: Endpoint,
    pub timeout: Duration,
}

/// The nxlink account and endpoint an import with these arguments would use.
pub(crate) fn nxlink_check(
    args: &NxlinkArgs,
    c: &CommonArgs,
    env: Env<'_>,
) -> Result<CheckTarget, Fatal> {
    let (args, c) = nxlink_args(args, c, env)?;
    let (args, c) = (&args, &c);
    let (file, _) = load_for(c, "nxlink", env)?;
    let s = &file.nxlink;
    let mut credentials = nxlink_credentials(args, s, env, !c.sandbox)?;
    if c.sandbox {
        crate::embedded::nxlink_credentials(&mut credentials)?;
    }
    let options = nxlink::Options {
        mode: nxlink::Mode::Merge,
        strict_binding: false,
        algorithm: Algorithm::Md5,
        phone_region: None,
        date_order: Default::default(),
    };
    let base = nxlink_base_url(args, c, s.base_url.as_deref(), env);
    target(
        c,
        ProviderChoice::Nxlink(Nxlink::new(credentials, options)),
        &base,
    )
}

/// The itnio account, job and endpoint an import with these arguments would use.
pub(crate) fn itnio_check(
    args: &ItnioArgs,
    c: &CommonArgs,
    env: Env<'_>,
) -> Result<CheckTarget, Fatal> {
    let (args, c) = itnio_args(args, c, env)?;
    let (args, c) = (&args, &c);
    super::job_given(args)?;
    let (file, _) = load_for(c, "itnio", env)?;
    let s = &file.itnio;
    let mut credentials = itnio_credentials(args, s, env, !c.sandbox)?;
    if c.sandbox {
        crate::embedded::itnio_credentials(&mut credentials)?;
    }
    let options = itnio::Options {
        call_record_dup: false,
        phone_region: None,
        encrypted_phones: false,
    };
    let base = itnio_base_url(c, s.base_url.as_deref(), env);
    target(
        c,
        ProviderChoice::Itnio(Itnio::new(credentials, options)),
        &base,
    )
}

fn target(
    c: &CommonArgs,
    provider: ProviderChoice,
    base: &super::GivenBaseUrl,
) -> Result<CheckTarget, Fatal> {
    // A check always sends: `--dry-run` has no meaning here.
    let c = CommonArgs {
        dry_run: false,
        ..c.clone()
    };
    Ok(CheckTarget {
        provider,
        endpoint: endpoint(&c, base)?,
        timeout: checked_rate_and_timeout(&c)?,
    })
}
