//! itnio `properties`: a row's script variables come from the columns (or JSONL keys) mapped to
//! no field and, for a JSONL line in the provider's own shape
//! (`{"name":…,"phoneNumber":…,"properties":{…}}`), from its `properties` object, merged into
//! one map, never nested.

use std::borrow::Cow;

use serde_json::Value;

use crate::provider::rules::json_kind;
use crate::provider::{Cell, Rejection};

/// A row's free-form extras: key and value, in input order.
type Extras<'a> = [(Cow<'a, str>, Cell<'a>)];

/// The key of a JSONL line whose object holds the row's properties.
const PROPERTIES: &str = "properties";

/// The row's extras with the entries of a `properties` object in its place. A key present
/// (not null, not blank) both inside the object and outside it is `conflicting_property`; a
/// `properties` value that is neither an object nor null is `invalid_type`. Borrowed as given
/// when the row has no `properties` object.
pub(super) fn merged<'b, 'a>(extras: &'b Extras<'a>) -> Result<Cow<'b, Extras<'a>>, Rejection> {
    let Some(pos) = extras
        .iter()
        .position(|(k, c)| k == PROPERTIES && matches!(c, Cell::Json(_)))
    else {
        return Ok(Cow::Borrowed(extras));
    };
    let inner = match extras[pos].1 {
        Cell::Json(Value::Object(o)) => o,
        Cell::Json(Value::Null) => {
            let mut rest = extras.to_vec();
            rest.remove(pos);
            return Ok(Cow::Owned(rest));
        }
        Cell::Json(v) => {
            return Err(Rejection::new(
                "invalid_type",
                format!(
                    "{PROPERTIES}: expected a JSON object of script variables, found {}",
                    json_kind(v)
                ),
            ))
        }
        Cell::Text(_) => return Ok(Cow::Borrowed(extras)),
    };
    let mut out = Vec::with_capacity(extras.len() + inner.len());
    out.extend_from_slice(&extras[..pos]);
    out.extend(
        inner
            .iter()
            .map(|(k, v)| (Cow::Borrowed(k.as_str()), Cell::Json(v))),
    );
    out.extend_from_slice(&extras[pos + 1..]);
    for (key, value) in inner {
        let outside = extras
            .iter()
            .enumerate()
            .find(|(i, (k, c))| *i != pos && k == key && is_present(*c));
        if outside.is_some() && is_present(Cell::Json(value)) {
            return Err(Rejection::new(
                "conflicting_property",
                format!(
                    "{PROPERTIES}: the property {key:?} is given both inside the line's \
                     \"{PROPERTIES}\" object and as a key of its own; keep one"
                ),
            ));
        }
    }
    Ok(Cow::Owned(out))
}

/// Whether a value counts as given: not null, not empty or blank text.
fn is_present(cell: Cell<'_>) -> bool {
    match cell {
        Cell::Text(t) => !t.trim().is_empty(),
        Cell::Json(Value::Null) => false,
        Cell::Json(Value::String(s)) => !s.trim().is_empty(),
        Cell::Json(_) => true,
    }
}
