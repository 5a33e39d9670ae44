//! Where a run's requests go: the base URL, or the emulator started in-process for
//! `--sandbox`; nowhere in a dry run.

use std::io::IsTerminal;

use anyhow::anyhow;

use super::Http;
use crate::config::{Endpoint, ProviderChoice, Settings};
use crate::embedded::Emulator;
use crate::exit::Fatal;

/// Where a run's requests go.
pub(crate) struct Connection {
    /// The emulator started for `--sandbox`, shut down when the run ends.
    pub(crate) emulator: Option<Emulator>,
    /// The client to the base URL or the emulator; none in a dry run.
    pub(crate) http: Option<Http>,
}

/// The run's connection: to the base URL, or to an emulator started in-process for
/// `--sandbox` (at `path`, the provider's endpoint); nowhere in a dry run.
pub(crate) async fn connect(settings: &Settings, path: &str) -> Result<Connection, Fatal> {
    let (emulator, base) = match &settings.endpoint {
        Endpoint::DryRun { .. } => {
            return Ok(Connection {
                emulator: None,
                http: None,
            })
        }
        Endpoint::Remote(base) => (None, base.as_str().to_owned()),
        Endpoint::Sandbox => {
            let sb = start_for(settings).await?;
            let base = sb.base_url();
            (Some(sb), base)
        }
    };
    let http = Http::new(&base, path, settings.timeout)
        .map_err(|e| Fatal::usage(anyhow!("cannot set up HTTP: {e}")))?;
    Ok(Connection {
        emulator,
        http: Some(http),
    })
}

/// The in-process emulator for `--sandbox`. Numbers read with a region are E.164: the
/// sandbox then checks that they are.
async fn start_for(settings: &Settings) -> Result<Emulator, Fatal> {
    let phones = match &settings.provider {
        ProviderChoice::Nxlink(p) => crate::provider::Provider::phones(p),
        ProviderChoice::Itnio(p) => crate::provider::Provider::phones(p),
    };
    let strict_phones = phones.is_some_and(|p| p.region().is_some() && !p.encrypted());
    let sb = Emulator::start(strict_phones)
        .await
        .map_err(|e| Fatal::usage(anyhow!("cannot start the sandbox: {e}")))?;
    // Said on a terminal only: off a terminal stderr carries warnings and the summary.
    if std::io::stderr().is_terminal() {
        crate::messages::note(format_args!(
            "custimport: sending to the built-in sandbox at {}",
            sb.base_url()
        ));
    }
    tracing::info!("sending to the built-in sandbox at {}", sb.base_url());
    Ok(sb)
}
