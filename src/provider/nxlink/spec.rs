//! nxlink as data: its [`ProviderSpec`].

use super::fields::FIELDS;
use super::request::PATH;
use crate::provider::spec::{CredentialName, ProviderSpec};

/// nxlink's name, endpoint, fields, report columns and credential names.
pub static NXLINK: ProviderSpec = ProviderSpec {
    name: "nxlink",
    path: PATH,
    fields: &FIELDS,
    extras_prefix: "customize",
    unmapped_to_extras: false,
    required_fields: &["full_name"],
    phone_fields: &["sms_phone", "whats_app_phone", "viber_phone"],
    dedup_noun: "contact (the first of whats_app_phone, sms_phone, email)",
    resend_needs_history: false,
    success_header: &["customer_id", "whats_app_phone", "full_name"],
    success_phone_columns: &["whats_app_phone"],
    unchanged_header: &["whats_app_phone", "sms_phone", "email"],
    unchanged_phone_columns: &["whats_app_phone", "sms_phone"],
    credentials: &[
        CredentialName {
            key: "access_key",
            env: "CUSTIMPORT_NXLINK_ACCESS_KEY",
            flag: None,
            secret: false,
        },
        CredentialName {
            key: "access_secret",
            env: "CUSTIMPORT_NXLINK_ACCESS_SECRET",
            flag: None,
            secret: true,
        },
        CredentialName {
            key: "tenant_id",
            env: "CUSTIMPORT_NXLINK_TENANT_ID",
            flag: Some("--tenant-id"),
            secret: false,
        },
        CredentialName {
            key: "app_key",
            env: "CUSTIMPORT_NXLINK_APP_KEY",
            flag: Some("--app-key"),
            secret: false,
        },
    ],
    empty_list_code: "1002",
};
