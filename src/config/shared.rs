//! What the nxlink and itnio settings share once the provider is built: the state database,
//! the cron keys, the common settings, the header row, and the values they record for
//! `--resume` (see [`recorded`]).

use std::path::Path;

use serde_json::{json, Value};

use super::{
    common, recorded, state_for_import, Cron, Env, FileConfig, GivenBaseUrl, ProviderChoice,
    Settings,
};
use crate::cli::CommonArgs;
use crate::exit::Fatal;
use crate::provider::phone;

/// A provider's settings as built from its section and flags, before what both share.
pub(super) struct Built {
    pub(super) choice: ProviderChoice,
    pub(super) base: GivenBaseUrl,
    /// The account's public names, recorded for `--resume`.
    pub(super) account: Value,
    pub(super) region_used: Option<phone::Region>,
    pub(super) header_row: Option<u32>,
}

/// Which shared keys the provider's config section sets (for the recorded options), and its
/// cron keys.
pub(super) struct SectionKeys<'a> {
    pub(super) phone_region: bool,
    pub(super) header_row: bool,
    pub(super) rejected_ok: Option<bool>,
    pub(super) metrics_file: Option<&'a Path>,
}

/// What both providers' settings share once the provider is built: the run's common settings,
/// the cron options, the header row, the state database, and their recorded values.
pub(super) fn provider_settings(
    c: &CommonArgs,
    input: &Path,
    file: &FileConfig,
    warnings: Vec<String>,
    section: SectionKeys<'_>,
    built: Built,
    env: Env<'_>,
) -> Result<Settings, Fatal> {
    let state = state_for_import(c, file.state.as_deref(), env)?;
    let cron = Cron::of(c, section.rejected_ok, section.metrics_file);
    let mut settings = cron.apply(common(c, input, built.choice, built.base, warnings)?);
    settings.input.header_row = built.header_row;
    let shape = &mut settings.shape;
    common_shape(shape, c, section.phone_region, built.region_used);
    header_row_shape(shape, c, section.header_row, built.header_row);
    state_shape(shape, c, file.state.is_some(), state.as_deref());
    shape.set("account", built.account, true);
    Ok(Settings { state, ..settings })
}

/// The recorded options both providers have, besides the endpoint and input options that
/// [`common`] records.
fn common_shape(
    shape: &mut recorded::Shape,
    c: &CommonArgs,
    region_in_file: bool,
    region: Option<phone::Region>,
) {
    let region_given = c.phone_region.is_some() || region_in_file;
    shape.set(
        "phone_region",
        region.map_or(Value::Null, |r| json!(r.id())),
        region_given,
    );
    shape.set("mask_pii", json!(c.mask_pii), c.mask_pii);
}

/// `--header-row` (flag or config), recorded as the line or sheet row used.
fn header_row_shape(shape: &mut recorded::Shape, c: &CommonArgs, in_file: bool, row: Option<u32>) {
    let given = c.header_row.is_some() || in_file;
    shape.set("header_row", row.map_or(Value::Null, |r| json!(r)), given);
}

/// `--skip-unchanged` and its state database.
fn state_shape(shape: &mut recorded::Shape, c: &CommonArgs, in_file: bool, state: Option<&Path>) {
    shape.set("skip_unchanged", json!(c.skip_unchanged), c.skip_unchanged);
    // `--state` given without `--skip-unchanged` (a resume repeating the run's own value) is
    // still that value, not "no --state".
    let path = state.or(c.state.as_deref()).map_or(Value::Null, |p| {
        let p = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
        json!(p.to_string_lossy())
    });
    shape.set(
        "state",
        path,
        c.state.is_some() || (in_file && c.skip_unchanged),
    );
}
