//! What a provider is, as data: its name, its endpoint's path, its fields, the columns of its
//! reports, the names of its credentials. One static [`ProviderSpec`] per provider
//! (`nxlink::NXLINK`, `itnio::ITNIO`); callers ask the spec instead of matching on a provider's
//! name, and code without a provider in hand finds it with [`spec_named`].

use super::FieldDef;

/// A provider's static description (see the module doc). Data only: what a provider does is
/// in the [`super::Provider`] trait.
#[derive(Debug)]
pub struct ProviderSpec {
    /// `nxlink` or `itnio`: the subcommand, the config file's section, the journal's and the
    /// state's name of the provider.
    pub name: &'static str,
    /// Path appended to the base URL.
    pub path: &'static str,
    /// The fields input columns map to, with their aliases.
    pub fields: &'static [FieldDef],
    /// Prefix of `--map PREFIX.KEY=COLUMN` for free-form extras.
    pub extras_prefix: &'static str,
    /// Whether columns that match no field become extras (itnio properties) or are ignored.
    pub unmapped_to_extras: bool,
    /// Field names every row needs (a header without any of them is worth a warning).
    pub required_fields: &'static [&'static str],
    /// Phone-like field names (their report cells are never formula-guarded).
    pub phone_fields: &'static [&'static str],
    /// What [`super::Provider::dedup_key`] is, for the `duplicate_in_file` message.
    pub dedup_noun: &'static str,
    /// Whether the answer to a re-sent row depends on knowing that an earlier attempt may have
    /// landed (itnio answers "already exists" to a row it already holds). When it does, the
    /// journal records each batch on disk (fdatasync) before the batch is sent, so that even
    /// after a power failure `--resume` knows which rows may have landed. When it does not
    /// (nxlink matches customers and updates them), the record is written before sending, which
    /// survives any crash of the process, and reaches the disk with the next group commit.
    pub resend_needs_history: bool,
    /// Columns of `success.csv` after `row`.
    pub success_header: &'static [&'static str],
    /// The columns of `success_header` that hold phone numbers: `--mask-pii` masks their
    /// cells, and a cell that looks like a phone number is not formula-guarded.
    pub success_phone_columns: &'static [&'static str],
    /// Columns of `unchanged.csv` after `row`: the customer's key fields.
    pub unchanged_header: &'static [&'static str],
    /// The columns of `unchanged_header` that hold phone numbers.
    pub unchanged_phone_columns: &'static [&'static str],
    /// The account's credentials, in the order messages list them.
    pub credentials: &'static [CredentialName],
    /// The code the provider refuses an empty customer list with once it has accepted the
    /// credentials (`custimport check`): nxlink's parameter error, itnio's parameter
    /// validation failure.
    pub empty_list_code: &'static str,
}

/// The names of one credential: its config key, environment variable and flag.
#[derive(Debug)]
pub struct CredentialName {
    /// The key in the provider's config section (`access_key`).
    pub key: &'static str,
    /// The environment variable (`CUSTIMPORT_NXLINK_ACCESS_KEY`).
    pub env: &'static str,
    /// The command-line flag, for those that have one (`--tenant-id`).
    pub flag: Option<&'static str>,
    /// A secret: never shown, and not part of what identifies the account.
    pub secret: bool,
}

/// Specs are statics, one per provider: two are equal when they are the same provider.
impl PartialEq for ProviderSpec {
    fn eq(&self, other: &ProviderSpec) -> bool {
        self.name == other.name
    }
}

impl Eq for ProviderSpec {}

impl ProviderSpec {
    /// Whether `field` holds phone numbers.
    pub fn is_phone_field(&self, field: &str) -> bool {
        self.phone_fields.contains(&field)
    }

    /// The config keys of the credentials that identify the account (never a secret), as a
    /// message lists them: `access_key, tenant_id and app_key`.
    pub fn account_keys(&self) -> String {
        let keys: Vec<&str> = self
            .credentials
            .iter()
            .filter(|c| !c.secret)
            .map(|c| c.key)
            .collect();
        match keys.split_last() {
            Some((last, [])) => (*last).to_owned(),
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
            None => String::new(),
        }
    }
}

/// Every provider's spec.
pub static SPECS: [&ProviderSpec; 2] = [&super::nxlink::NXLINK, &super::itnio::ITNIO];

/// The spec of the provider called `name` (`nxlink`, `itnio`).
pub fn spec_named(name: &str) -> Option<&'static ProviderSpec> {
    SPECS.into_iter().find(|s| s.name == name)
}

#[cfg(test)]
mod tests;
