//! The config file's sections: `[nxlink]`, `[itnio]` and `[profile.NAME]`. Each holds its
//! provider's credentials and endpoint and every import option under its long name in
//! snake_case; a profile holds any of them (both providers' keys) and optionally `provider`.
//!
//! serde cannot refuse unknown keys of a flattened struct, so the import options are written
//! into each section by [`section!`]; the config-file errors read each section's keys from the
//! struct itself ([`keys_of`]), so there is no second list to keep equal.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use crate::secret::Secret;

/// The import options a section or profile may set, taken out of it.
#[derive(Debug, Default)]
pub(crate) struct ImportOptions {
    pub format: Option<String>,
    pub sheet: Option<toml::Value>,
    pub delimiter: Option<String>,
    pub encoding: Option<String>,
    pub max_field_size: Option<i64>,
    pub map: Option<BTreeMap<String, String>>,
    pub batch_size: Option<i64>,
    pub concurrency: Option<toml::Value>,
    pub rate: Option<toml::Value>,
    pub retries: Option<i64>,
    pub timeout: Option<f64>,
    pub backoff_ms: Option<i64>,
    pub give_up_after: Option<i64>,
    pub out: Option<PathBuf>,
    pub max_failures: Option<toml::Value>,
    pub no_bisect: Option<bool>,
    pub json: Option<bool>,
    pub quiet: Option<bool>,
    pub no_progress: Option<bool>,
    pub mask_pii: Option<bool>,
    pub skip_unchanged: Option<bool>,
}

/// A section struct: the given keys, then every import option; `overlay` lays a profile over
/// it (a key the profile holds wins) and `take_options` takes the import options out.
macro_rules! section {
    ($(#[$doc:meta])* $name:ident { $($field:ident : $ty:ty),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub(crate) struct $name {
            $(pub $field: Option<$ty>,)*
            pub format: Option<String>,
            pub sheet: Option<toml::Value>,
            pub delimiter: Option<String>,
            pub encoding: Option<String>,
            pub max_field_size: Option<i64>,
            pub map: Option<BTreeMap<String, String>>,
            pub batch_size: Option<i64>,
            pub concurrency: Option<toml::Value>,
            pub rate: Option<toml::Value>,
            pub retries: Option<i64>,
            pub timeout: Option<f64>,
            pub backoff_ms: Option<i64>,
            pub give_up_after: Option<i64>,
            pub out: Option<PathBuf>,
            pub max_failures: Option<toml::Value>,
            pub no_bisect: Option<bool>,
            pub json: Option<bool>,
            pub quiet: Option<bool>,
            pub no_progress: Option<bool>,
            pub mask_pii: Option<bool>,
            pub skip_unchanged: Option<bool>,
            pub state: Option<PathBuf>,
        }

        impl $name {
            /// Lay `top` over this section: each key `top` holds replaces this one's. Returns
            /// the keys replaced.
            #[allow(dead_code)]
            pub(crate) fn overlay(&mut self, top: &mut Profile) -> Vec<&'static str> {
                let mut moved = vec![];
                $(if top.$field.is_some() {
                    self.$field = top.$field.take();
                    moved.push(stringify!($field));
                })*
                section!(@common self top moved);
                moved
            }

            /// The import options, taken out of the section (`state` is the file's layer: see
            /// `layers::load_for`).
            pub(crate) fn take_options(&mut self) -> ImportOptions {
                ImportOptions {
                    format: self.format.take(),
                    sheet: self.sheet.take(),
                    delimiter: self.delimiter.take(),
                    encoding: self.encoding.take(),
                    max_field_size: self.max_field_size.take(),
                    map: self.map.take(),
                    batch_size: self.batch_size.take(),
                    concurrency: self.concurrency.take(),
                    rate: self.rate.take(),
                    retries: self.retries.take(),
                    timeout: self.timeout.take(),
                    backoff_ms: self.backoff_ms.take(),
                    give_up_after: self.give_up_after.take(),
                    out: self.out.take(),
                    max_failures: self.max_failures.take(),
                    no_bisect: self.no_bisect.take(),
                    json: self.json.take(),
                    quiet: self.quiet.take(),
                    no_progress: self.no_progress.take(),
                    mask_pii: self.mask_pii.take(),
                    skip_unchanged: self.skip_unchanged.take(),
                }
            }
        }
    };
    (@common $s:ident $t:ident $m:ident) => {
        section!(@each $s $t $m format sheet delimiter encoding max_field_size map batch_size
            concurrency rate retries timeout backoff_ms give_up_after out max_failures no_bisect json quiet
            no_progress mask_pii skip_unchanged state);
    };
    (@each $s:ident $t:ident $m:ident $($f:ident)*) => {
        $(if $t.$f.is_some() {
            $s.$f = $t.$f.take();
            $m.push(stringify!($f));
        })*
    };
}

section! {
    /// `[nxlink]`.
    NxlinkSection {
        access_key: String,
        access_secret: Secret,
        tenant_id: toml::Value,
        app_key: String,
        base_url: String,
        region: String,
        mode: String,
        strict_binding: bool,
        phone_region: String,
        rejected_ok: bool,
        metrics_file: PathBuf,
        header_row: i64,
        date_order: String,
    }
}

section! {
    /// `[itnio]`.
    ItnioSection {
        api_key: String,
        api_secret: Secret,
        app_id: String,
        base_url: String,
        job: i64,
        call_record_dup: bool,
        phone_region: String,
        encrypted_phones: bool,
        rejected_ok: bool,
        metrics_file: PathBuf,
        header_row: i64,
    }
}

section! {
    /// `[profile.NAME]`: any key of either provider's section, and `provider`.
    Profile {
        provider: String,
        access_key: String,
        access_secret: Secret,
        tenant_id: toml::Value,
        app_key: String,
        region: String,
        mode: String,
        strict_binding: bool,
        api_key: String,
        api_secret: Secret,
        app_id: String,
        job: i64,
        call_record_dup: bool,
        encrypted_phones: bool,
        base_url: String,
        phone_region: String,
        rejected_ok: bool,
        metrics_file: PathBuf,
        header_row: i64,
        date_order: String,
    }
}

/// The field names serde expects of the struct `T`, in declaration order: what `T`'s derived
/// `Deserialize` hands to `deserialize_struct`, caught by a deserializer that reads nothing.
/// Empty for a type that is not a struct.
pub(super) fn keys_of<T: serde::de::DeserializeOwned>() -> &'static [&'static str] {
    let mut fields = None;
    let _ = T::deserialize(Fields(&mut fields));
    fields.unwrap_or_default()
}

/// The deserializer of [`keys_of`]: it records the fields it is asked for and fails.
struct Fields<'a>(&'a mut Option<&'static [&'static str]>);

impl<'de> serde::Deserializer<'de> for Fields<'_> {
    type Error = serde::de::value::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(serde::de::Error::custom("not a struct"))
    }

    fn deserialize_struct<V: serde::de::Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = Some(fields);
        Err(serde::de::Error::custom("fields read"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}
