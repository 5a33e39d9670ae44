//! The built-in emulator as the importer sees it: its fixed credentials for `--sandbox`,
//! starting it in-process for a run (`http::connect` does, for `--sandbox`), and serving it
//! for `custimport sandbox`. The emulator is
//! its own crate (`crates/sandbox`) behind the default `sandbox` cargo feature; a build without
//! the feature refuses `--sandbox` and `custimport sandbox` with a usage error.

use crate::cli::SandboxArgs;
use crate::exit::{Exit, Fatal};
use crate::provider::{itnio, nxlink};

#[cfg(feature = "sandbox")]
use custimport_sandbox as sandbox;

/// The emulator running in this process for one `--sandbox` run.
#[derive(Debug)]
pub(crate) struct Emulator {
    #[cfg(feature = "sandbox")]
    inner: sandbox::Sandbox,
}

#[cfg(not(feature = "sandbox"))]
fn missing() -> anyhow::Error {
    anyhow::anyhow!("this custimport was built without the sandbox (cargo feature `sandbox`)")
}

impl Emulator {
    /// Start on 127.0.0.1, a free port. `strict_phones`: refuse numbers that are not E.164.
    pub(crate) async fn start(strict_phones: bool) -> anyhow::Result<Emulator> {
        #[cfg(feature = "sandbox")]
        {
            let cfg = sandbox::SandboxConfig {
                strict_phones,
                ..sandbox::SandboxConfig::default()
            };
            let inner = sandbox::Sandbox::start(([127, 0, 0, 1], 0).into(), cfg).await?;
            Ok(Emulator { inner })
        }
        #[cfg(not(feature = "sandbox"))]
        {
            let _ = strict_phones;
            Err(missing())
        }
    }

    /// Its base URL (`http://127.0.0.1:PORT`).
    pub(crate) fn base_url(&self) -> String {
        #[cfg(feature = "sandbox")]
        return self.inner.base_url();
        #[cfg(not(feature = "sandbox"))]
        String::new()
    }

    pub(crate) async fn shutdown(self) {
        #[cfg(feature = "sandbox")]
        self.inner.shutdown().await;
    }
}

/// The emulator's fixed nxlink credentials, for `--sandbox`.
pub(crate) fn nxlink_credentials(nx: &mut nxlink::Credentials) -> Result<(), Fatal> {
    #[cfg(feature = "sandbox")]
    {
        nx.access_key = sandbox::NXLINK_ACCESS_KEY.into();
        nx.access_secret = crate::secret::Secret::new(sandbox::NXLINK_ACCESS_SECRET);
        nx.tenant_id = sandbox::NXLINK_TENANT_ID;
        nx.app_key = sandbox::NXLINK_APP_KEY.into();
        Ok(())
    }
    #[cfg(not(feature = "sandbox"))]
    {
        let _ = nx;
        Err(Fatal::usage(missing()))
    }
}

/// The emulator's fixed itnio credentials, for `--sandbox`.
pub(crate) fn itnio_credentials(it: &mut itnio::Credentials) -> Result<(), Fatal> {
    #[cfg(feature = "sandbox")]
    {
        it.api_key = sandbox::ITNIO_API_KEY.into();
        it.api_secret = crate::secret::Secret::new(sandbox::ITNIO_API_SECRET);
        it.app_id = sandbox::ITNIO_APP_ID.into();
        Ok(())
    }
    #[cfg(not(feature = "sandbox"))]
    {
        let _ = it;
        Err(Fatal::usage(missing()))
    }
}

/// `custimport sandbox`: serve the emulator until interrupted.
pub(crate) fn serve(a: &SandboxArgs, runtime: &tokio::runtime::Runtime) -> Result<Exit, Fatal> {
    #[cfg(feature = "sandbox")]
    {
        let usage = |e: String| Fatal::usage(anyhow::anyhow!(e));
        let mut faults: sandbox::FaultPlan = match a.faults.as_deref() {
            Some(spec) => spec.parse().map_err(|e| usage(format!("--faults: {e}")))?,
            None => Default::default(),
        };
        if let Some(mb) = a.huge_mb {
            faults.huge_mb = mb;
        }
        for rule in &a.refuse {
            faults = faults.refuse(rule).map_err(|e| usage(e.to_string()))?;
        }
        let cfg = sandbox::SandboxConfig {
            latency: std::time::Duration::from_millis(a.latency_ms),
            faults,
            fault_seed: a.fault_seed,
            clock_offset_ms: a.clock_offset_ms,
            strict_phones: a.strict_phones,
            limits: sandbox::Limits {
                rps: a.limit_rps,
                conc: a.limit_conc,
                retry_after: a.retry_after,
                queue: a.queue_latency,
            },
        };
        runtime
            .block_on(sandbox::serve(a.port, cfg))
            .map_err(Fatal::usage)?;
        Ok(Exit::Success)
    }
    #[cfg(not(feature = "sandbox"))]
    {
        let _ = (a, runtime);
        Err(Fatal::usage(missing()))
    }
}
