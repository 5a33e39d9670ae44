//! itnio as data: its [`ProviderSpec`].

use super::fields::FIELDS;
use super::PATH;
use crate::provider::spec::{CredentialName, ProviderSpec};

/// itnio's name, endpoint, fields, report columns and credential names.
pub static ITNIO: ProviderSpec = ProviderSpec {
    name: "itnio",
    path: PATH,
    fields: &FIELDS,
    extras_prefix: "properties",
    unmapped_to_extras: true,
    required_fields: &["phoneNumber"],
    phone_fields: &["phoneNumber"],
    dedup_noun: "phone number",
    resend_needs_history: true,
    success_header: &["phone_number", "name"],
    success_phone_columns: &["phone_number"],
    unchanged_header: &["phone_number"],
    unchanged_phone_columns: &["phone_number"],
    credentials: &[
        CredentialName {
            key: "api_key",
            env: "CUSTIMPORT_ITNIO_API_KEY",
            flag: None,
            secret: false,
        },
        CredentialName {
            key: "api_secret",
            env: "CUSTIMPORT_ITNIO_API_SECRET",
            flag: None,
            secret: true,
        },
        CredentialName {
            key: "app_id",
            env: "CUSTIMPORT_ITNIO_APP_ID",
            flag: Some("--app-id"),
            secret: false,
        },
    ],
    empty_list_code: "-27",
};
