//! Fixtures shared by the unit tests: each provider built with the credentials of its
//! documented signing example (`shared/spec/providers.md`'s test vectors), with the command
//! line's default options or the options a test gives. Tests that need another account
//! change the one field they test.

use crate::provider::itnio::{self, Itnio};
use crate::provider::nxlink::{self, Nxlink};
use crate::secret::Secret;

/// nxlink's documented example account: access key, secret, tenant 123, app key.
pub(crate) fn nxlink_credentials() -> nxlink::Credentials {
    nxlink::Credentials {
        access_key: "fme2na3kdi3ki".into(),
        access_secret: Secret::new("abciiiko2k3"),
        tenant_id: 123,
        app_key: "46oKF=os".into(),
    }
}

/// nxlink with the example account and the command line's defaults (merge, no strict
/// binding, MD5, no phone region).
pub(crate) fn nxlink() -> Nxlink {
    nxlink_with(nxlink::Options::default())
}

/// nxlink with the example account and these options.
pub(crate) fn nxlink_with(options: nxlink::Options) -> Nxlink {
    Nxlink::new(nxlink_credentials(), options)
}

/// itnio's documented example account: API key, secret, app id, job 9.
pub(crate) fn itnio_credentials() -> itnio::Credentials {
    itnio::Credentials {
        api_key: "bD8JFiq9".into(),
        api_secret: Secret::new("secretExample"),
        app_id: "LILIN888".into(),
        job_id: 9,
    }
}

/// itnio with the example account and the command line's defaults (`callRecordDup` false,
/// no phone region, plain phone numbers).
pub(crate) fn itnio() -> Itnio {
    itnio_with(itnio::Options::default())
}

/// itnio with the example account and these options.
pub(crate) fn itnio_with(options: itnio::Options) -> Itnio {
    Itnio::new(itnio_credentials(), options)
}
