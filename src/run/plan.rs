//! The input's mapping plan for a run: the columns mapped to the provider's fields, and the
//! stop that names `--header-row` when a later row is clearly the header.

use super::*;

/// The mapping plan for the input: by header (CSV/TSV, with its warnings; repeated names
/// made unique) or by key (JSONL). Returns the mapper, the failure report's header (the
/// names as written) and which of its columns are phone-like.
pub(super) fn plan_input<P: Provider>(
    provider: &P,
    schema: Schema,
    maps: Vec<crate::mapping::MapSpec>,
    mut input: Input,
    input_name: &str,
    guess_header: bool,
) -> Result<Opened, Fatal> {
    let (mapper, failed_header, phone_cols) = match input.headers.clone().as_deref() {
        Some(h) => {
            let planned = Plan::for_header(&schema, h, &maps);
            let required = provider.spec().required_fields;
            let headless = match &planned {
                Ok((plan, _)) => !required.iter().any(|r| plan.feeds(&schema, r)),
                Err(_) => true,
            };
            if guess_header && headless && !h.is_empty() {
                header_row_stop(&mut input, &schema, input_name, required)?;
            }
            let (plan, mut warnings) = planned.usage()?;
            if !h.is_empty() {
                warnings.extend(plan.unfed_warnings(&schema, required));
            }
            for w in warnings {
                messages::warn(format_args!("{input_name}: {w}"));
            }
            if h.is_empty() {
                messages::warn(format_args!("{input_name} is empty: nothing to import"));
            }
            let phone_cols = plan.phone_columns(&schema, |f| provider.spec().is_phone_field(f));
            (
                Mapper::Csv {
                    plan,
                    header: h.to_vec(),
                },
                input.original_headers.clone().unwrap_or_else(|| h.to_vec()),
                phone_cols,
            )
        }
        None => (Mapper::Json(KeyPlan::new(schema, maps)), vec![], vec![]),
    };
    Ok(Opened {
        input,
        mapper,
        failed_header,
        phone_cols,
    })
}

/// The stop (exit 2) for a header that maps no required field while a line below it, among
/// the first 20, is clearly the header: it names `--header-row N`.
pub(super) fn header_row_stop(
    input: &mut Input,
    schema: &Schema,
    input_name: &str,
    required: &[&str],
) -> Result<(), Fatal> {
    let Some(hint) = crate::mapping::header_row_hint(input, schema) else {
        return Ok(());
    };
    let n = hint.header_row;
    let (first, that) = match input.sheet {
        Some(_) => ("the first non-empty row", format!("row {n}")),
        None => (
            "the first line",
            format!("line {} (non-blank line {n})", hint.line),
        ),
    };
    Err(Fatal::usage(anyhow!(
        "{input_name}: {first} is not the header (no column of it maps to {}), but {that} maps {}: give --header-row {n}",
        required.join(" or "),
        hint.fields.join(", ")
    )))
}
