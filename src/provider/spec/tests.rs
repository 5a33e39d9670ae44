//! Unit tests of `provider::spec`.
use super::*;
use crate::provider::itnio::ITNIO;
use crate::provider::nxlink::NXLINK;

#[test]
fn specs_are_found_by_their_name_only() {
    assert_eq!(spec_named("nxlink"), Some(&NXLINK));
    assert_eq!(spec_named("itnio"), Some(&ITNIO));
    assert_eq!(spec_named("NXLINK"), None);
    assert_eq!(spec_named(""), None);
    assert_ne!(NXLINK, ITNIO);
}

#[test]
fn account_keys_are_the_public_credentials_listed() {
    assert_eq!(NXLINK.account_keys(), "access_key, tenant_id and app_key");
    assert_eq!(ITNIO.account_keys(), "api_key and app_id");
}

#[test]
fn credential_names_follow_one_pattern() {
    for spec in SPECS {
        for c in spec.credentials {
            let env = format!("CUSTIMPORT_{}_{}", spec.name, c.key).to_uppercase();
            assert_eq!(c.env, env);
            if let Some(flag) = c.flag {
                assert_eq!(flag, format!("--{}", c.key.replace('_', "-")));
            }
        }
        assert_eq!(spec.credentials.iter().filter(|c| c.secret).count(), 1);
    }
}
