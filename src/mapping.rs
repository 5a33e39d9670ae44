//! Mapping input columns to provider fields: normalised header matching, aliases, `--map`,
//! reserved `custimport_*` columns. The plan is built once from the header (CSV) or lazily per
//! key (JSONL) and then applied to every record without further string work.
//!
//! Invariant: each input column has exactly one target, and a provider field is fed by at most
//! one column.

use std::borrow::Cow;
use std::collections::HashMap;

use anyhow::{anyhow, bail};

use crate::input::shown;
use crate::provider::{Cell, FieldDef, Mapped};

/// Where an input column goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Provider field by index.
    Field(usize),
    /// A free-form extra (nxlink customize_field key, itnio properties key).
    Extra(String),
    /// Not sent.
    Ignore,
}

/// How a column got its target (for the plan view and warnings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchedBy {
    Exact,
    Alias,
    Map,
    Unmapped,
    Reserved,
}

/// What the mapping needs to know about a provider.
#[derive(Debug, Clone, Copy)]
pub struct Schema {
    pub fields: &'static [FieldDef],
    pub extras_prefix: &'static str,
    pub unmapped_to_extras: bool,
}

impl Schema {
    /// The mapping schema of a provider.
    pub fn of<P: crate::provider::Provider>(p: &P) -> Schema {
        Schema {
            fields: p.spec().fields,
            extras_prefix: p.spec().extras_prefix,
            unmapped_to_extras: p.spec().unmapped_to_extras,
        }
    }

    /// Where a column that feeds no field goes: an extra property where the provider takes
    /// them, else nowhere.
    fn leftover(&self, column: &str) -> Target {
        if self.unmapped_to_extras {
            Target::Extra(column.to_owned())
        } else {
            Target::Ignore
        }
    }
}

/// One `--map FIELD=COLUMN`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapSpec {
    pub target: Target,
    pub column: String,
    pub text: String,
}

/// `full_name`, `Full Name`, `fullName` all become `fullname`.
pub(crate) fn normalise(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-') && !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Is this a column (or JSONL key) the tool itself writes in failure reports (never mapped)?
pub(crate) fn is_reserved(column: &str) -> bool {
    let c = column.to_ascii_lowercase();
    c == "custimport" || c.starts_with("custimport_")
}

/// Parse the `--map` arguments against the provider's schema.
pub fn parse_maps(schema: &Schema, maps: &[String]) -> anyhow::Result<Vec<MapSpec>> {
    let mut out: Vec<MapSpec> = Vec::with_capacity(maps.len());
    for m in maps {
        let Some((field, column)) = m.split_once('=') else {
            bail!("--map {m:?}: expected FIELD=COLUMN");
        };
        let (field, column) = (field.trim(), column.trim());
        if column.is_empty() {
            bail!("--map {m:?}: the column name is empty");
        }
        let target = if let Some(key) = field
            .strip_prefix(schema.extras_prefix)
            .and_then(|r| r.strip_prefix('.'))
        {
            if key.is_empty() {
                bail!("--map {m:?}: {}.KEY needs a key", schema.extras_prefix);
            }
            Target::Extra(key.to_owned())
        } else if let Some(i) = schema.fields.iter().position(|f| f.name == field) {
            Target::Field(i)
        } else if let Some(i) = schema
            .fields
            .iter()
            .position(|f| normalise(f.name) == normalise(field))
        {
            Target::Field(i)
        } else {
            let names: Vec<&str> = schema.fields.iter().map(|f| f.name).collect();
            bail!(
                "--map {m:?}: unknown field {field:?}; fields are {} and {}.KEY",
                names.join(", "),
                schema.extras_prefix
            );
        };
        if is_reserved(column) {
            bail!("--map {m:?}: custimport_* columns are written by custimport and never mapped");
        }
        if let Target::Field(i) = target {
            if out.iter().any(|o| o.target == Target::Field(i)) {
                bail!("--map: field {} is mapped twice", schema.fields[i].name);
            }
        }
        out.push(MapSpec {
            target,
            column: column.to_owned(),
            text: m.clone(),
        });
    }
    Ok(out)
}

/// Automatic target of a column name (no `--map`).
fn automatic(
    schema: &Schema,
    index: &HashMap<String, (usize, MatchedBy)>,
    column: &str,
) -> (Target, MatchedBy) {
    if is_reserved(column) {
        return (Target::Ignore, MatchedBy::Reserved);
    }
    match index.get(&normalise(column)) {
        Some(&(i, how)) => (Target::Field(i), how),
        None if schema.unmapped_to_extras && !column.is_empty() => {
            (Target::Extra(column.to_owned()), MatchedBy::Unmapped)
        }
        None => (Target::Ignore, MatchedBy::Unmapped),
    }
}

fn alias_index(schema: &Schema) -> HashMap<String, (usize, MatchedBy)> {
    let mut index = HashMap::new();
    for (i, f) in schema.fields.iter().enumerate() {
        for a in f.aliases {
            index.entry(normalise(a)).or_insert((i, MatchedBy::Alias));
        }
    }
    // Exact field names win over any alias.
    for (i, f) in schema.fields.iter().enumerate() {
        index.insert(normalise(f.name), (i, MatchedBy::Exact));
    }
    index
}

/// The provider fields that automatic matching finds among `names` (a row read as if it were
/// the header), each counted once.
pub(crate) fn fields_matched(schema: &Schema, names: &[&str]) -> Vec<usize> {
    let index = alias_index(schema);
    let mut found: Vec<usize> = names
        .iter()
        .filter_map(|n| match automatic(schema, &index, n) {
            (Target::Field(i), _) => Some(i),
            _ => None,
        })
        .collect();
    found.sort_unstable();
    found.dedup();
    found
}

/// Lines (sheet rows) a header is looked for in when the first one is not it.
const HEADER_SEARCH: usize = 20;

/// A record below the header read that looks like the header.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct HeaderHint {
    /// The `--header-row` that makes it the header.
    pub header_row: u64,
    /// Its physical line (a sheet: its row).
    pub line: u64,
    /// The fields its names match.
    pub fields: Vec<&'static str>,
}

/// When the header read maps no required field (or `--map` names a column it lacks): the first
/// of the next lines (among the first [`HEADER_SEARCH`]) that maps at least two fields. The
/// records looked at still come out of `input`.
pub(crate) fn header_row_hint(
    input: &mut crate::input::Input,
    schema: &Schema,
) -> Option<HeaderHint> {
    let sheet = input.sheet.is_some();
    input.peek_records(HEADER_SEARCH - 1).iter().find_map(|r| {
        let crate::input::RecordData::Cells(cells) = &r.data else {
            return None;
        };
        let names: Vec<&str> = cells.iter().map(str::trim).collect();
        let fields = fields_matched(schema, &names);
        // A spreadsheet's row as the sheet numbers it; else the non-blank line.
        let n = if sheet { r.line } else { r.row + 1 };
        (fields.len() >= 2).then(|| HeaderHint {
            header_row: n,
            line: r.line,
            fields: fields.iter().map(|&i| schema.fields[i].name).collect(),
        })
    })
}

/// The resolved plan for a CSV header.
#[derive(Debug, Clone)]
pub struct Plan {
    pub targets: Vec<Target>,
    pub how: Vec<MatchedBy>,
    pub nfields: usize,
}

/// One line of the plan view: a column, its target's name and how it matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanLine {
    pub column: String,
    pub target: Option<String>,
    pub how: MatchedBy,
}

impl Plan {
    /// Whether a column feeds `field`.
    pub fn feeds(&self, schema: &Schema, field: &str) -> bool {
        self.targets
            .iter()
            .any(|t| matches!(t, Target::Field(i) if schema.fields[*i].name == field))
    }

    /// A warning for each field of `required` that no column feeds: every row will be
    /// rejected.
    pub fn unfed_warnings(&self, schema: &Schema, required: &[&str]) -> Vec<String> {
        required
            .iter()
            .filter(|req| !self.feeds(schema, req))
            .map(|req| format!("no column maps to {req}, which every row needs: every row will be rejected; use --map {req}=COLUMN"))
            .collect()
    }

    /// Which columns feed a field that `is_phone` names.
    pub fn phone_columns(&self, schema: &Schema, is_phone: impl Fn(&str) -> bool) -> Vec<bool> {
        self.targets
            .iter()
            .map(|t| matches!(t, Target::Field(i) if is_phone(schema.fields[*i].name)))
            .collect()
    }

    /// Build the plan for a header. Errors (exit 2): a `--map` naming a missing column.
    /// Also returns warnings (columns ignored, fields matched twice).
    pub fn for_header(
        schema: &Schema,
        header: &[String],
        maps: &[MapSpec],
    ) -> anyhow::Result<(Plan, Vec<String>)> {
        let maps = &resolve_maps(header, maps)?;
        let index = alias_index(schema);
        let mut warnings = vec![];
        let mut targets = Vec::with_capacity(header.len());
        let mut how = Vec::with_capacity(header.len());
        let mapped_fields: Vec<usize> = maps
            .iter()
            .filter_map(|m| match m.target {
                Target::Field(i) => Some(i),
                _ => None,
            })
            .collect();
        let mut taken: HashMap<usize, &str> = HashMap::new();
        for col in header {
            let (t, h) = match maps.iter().find(|m| &m.column == col) {
                Some(m) => (m.target.clone(), MatchedBy::Map),
                None => match automatic(schema, &index, col) {
                    (Target::Field(i), _)
                        if mapped_fields.contains(&i) || taken.contains_key(&i) =>
                    {
                        let by = taken
                            .get(&i)
                            .map_or("--map".to_owned(), |c| format!("column {}", shown(c)));
                        warnings.push(format!(
                            "column {} also matches {} (already fed by {by}); {}",
                            shown(col),
                            schema.fields[i].name,
                            if schema.unmapped_to_extras {
                                "sent as a property instead"
                            } else {
                                "ignored"
                            }
                        ));
                        (schema.leftover(col), MatchedBy::Unmapped)
                    }
                    other => other,
                },
            };
            if let Target::Field(i) = t {
                taken.insert(i, col);
            }
            targets.push(t);
            how.push(h);
        }
        if let Some(w) = ignored_warning(header, &targets, &how) {
            warnings.push(w);
        }
        Ok((
            Plan {
                targets,
                how,
                nfields: schema.fields.len(),
            },
            warnings,
        ))
    }

    /// Apply the plan to a record's cells.
    pub fn apply<'a>(
        &'a self,
        header: &'a [String],
        cells: impl IntoIterator<Item = &'a str>,
    ) -> Mapped<'a> {
        let mut m = Mapped {
            fields: vec![None; self.nfields],
            extras: Vec::new(),
        };
        let _ = header;
        for (t, cell) in self.targets.iter().zip(cells) {
            match t {
                Target::Field(i) => m.fields[*i] = Some(Cell::Text(cell)),
                Target::Extra(k) => m.extras.push((Cow::Borrowed(k.as_str()), Cell::Text(cell))),
                Target::Ignore => {}
            }
        }
        m
    }

    /// The plan view: each column with its target and how it matched.
    pub fn lines(&self, schema: &Schema, header: &[String]) -> Vec<PlanLine> {
        header
            .iter()
            .zip(&self.targets)
            .zip(&self.how)
            .map(|((c, t), h)| PlanLine {
                column: c.clone(),
                target: target_name(schema, t),
                how: *h,
            })
            .collect()
    }
}

fn target_name(schema: &Schema, t: &Target) -> Option<String> {
    match t {
        Target::Field(i) => Some(schema.fields[*i].name.to_owned()),
        Target::Extra(k) => Some(format!("{}.{k}", schema.extras_prefix)),
        Target::Ignore => None,
    }
}

/// The plan for JSONL objects, resolved per key on first sight and cached.
#[derive(Debug)]
pub(crate) struct KeyPlan {
    schema: Schema,
    maps: Vec<MapSpec>,
    index: HashMap<String, (usize, MatchedBy)>,
    cache: HashMap<String, (Target, MatchedBy)>,
}

impl KeyPlan {
    pub(crate) fn new(schema: Schema, maps: Vec<MapSpec>) -> KeyPlan {
        let index = alias_index(&schema);
        KeyPlan {
            schema,
            maps,
            index,
            cache: HashMap::new(),
        }
    }

    fn resolve(&mut self, key: &str) -> Target {
        if let Some((t, _)) = self.cache.get(key) {
            return t.clone();
        }
        let by_map = self.maps.iter().find(|m| m.column == key).or_else(|| {
            let key = normalise(key);
            self.maps.iter().find(|m| normalise(&m.column) == key)
        });
        let (t, h) = match by_map {
            Some(m) => (m.target.clone(), MatchedBy::Map),
            None => {
                let (t, h) = automatic(&self.schema, &self.index, key);
                let overridden = matches!(t, Target::Field(i) if self.maps.iter().any(|m| m.target == Target::Field(i)));
                if overridden {
                    (Target::Ignore, MatchedBy::Unmapped)
                } else {
                    (t, h)
                }
            }
        };
        self.cache.insert(key.to_owned(), (t.clone(), h));
        t
    }

    /// Apply to one JSON object. When two keys feed the same field, the first wins and
    /// the later one is reported in `conflicts`.
    pub(crate) fn apply<'a>(
        &mut self,
        obj: &'a serde_json::Map<String, serde_json::Value>,
    ) -> Mapped<'a> {
        let mut m = Mapped {
            fields: vec![None; self.schema.fields.len()],
            extras: Vec::new(),
        };
        for (k, v) in obj {
            match self.resolve(k) {
                Target::Field(i) => {
                    if m.fields[i].is_none() {
                        m.fields[i] = Some(Cell::Json(v));
                    } else if self.schema.unmapped_to_extras {
                        m.extras.push((Cow::Borrowed(k.as_str()), Cell::Json(v)));
                    }
                }
                Target::Extra(key) if key == *k => {
                    m.extras.push((Cow::Borrowed(k.as_str()), Cell::Json(v)))
                }
                Target::Extra(key) => m.extras.push((Cow::Owned(key), Cell::Json(v))),
                Target::Ignore => {}
            }
        }
        m
    }

    /// Keys seen that go nowhere (for the warning).
    pub(crate) fn ignored_keys(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .cache
            .iter()
            .filter(|(_, (t, h))| *t == Target::Ignore && *h == MatchedBy::Unmapped)
            .map(|(k, _)| k.clone())
            .collect();
        v.sort();
        v
    }

    /// The plan view over the keys seen so far.
    pub(crate) fn lines(&self) -> Vec<PlanLine> {
        let mut v: Vec<PlanLine> = self
            .cache
            .iter()
            .map(|(k, (t, h))| PlanLine {
                column: k.clone(),
                target: match t {
                    // itnio: a line's `properties` object holds properties, merged (never
                    // nested) by the provider.
                    Target::Extra(key)
                        if self.schema.unmapped_to_extras && key == self.schema.extras_prefix =>
                    {
                        Some(format!("{key}.*"))
                    }
                    _ => target_name(&self.schema, t),
                },
                how: *h,
            })
            .collect();
        v.sort_by(|a, b| a.column.cmp(&b.column));
        v
    }
}

/// Every `--map` names a column of the header: the one with exactly its name, else the one
/// equal to it as automatic matching compares names (case, spaces, `_`, `-` aside). Returns the
/// maps with their columns as the header writes them.
fn resolve_maps(header: &[String], maps: &[MapSpec]) -> anyhow::Result<Vec<MapSpec>> {
    maps.iter()
        .map(|m| {
            let column = match header.iter().find(|h| **h == m.column) {
                Some(h) => h,
                None => {
                    let want = normalise(&m.column);
                    let alike: Vec<&String> =
                        header.iter().filter(|h| normalise(h) == want).collect();
                    match alike[..] {
                        [one] => one,
                        [] => return Err(unknown_column(header, m)),
                        _ => bail!(
                            "--map {}: the input has no column {:?}, and several differ from it only in case, spaces, _ or -: {}; give one exactly",
                            m.text,
                            m.column,
                            alike.iter().map(|h| shown(h)).collect::<Vec<_>>().join(", ")
                        ),
                    }
                }
            };
            Ok(MapSpec {
                column: column.clone(),
                ..m.clone()
            })
        })
        .collect()
}

/// How many of the closest headers an unknown `--map` column's error names.
const CLOSEST: usize = 3;

/// The error for a `--map` column the header lacks: the closest headers (the names, as
/// matching compares them, within a few edits of it or holding it), then every column.
fn unknown_column(header: &[String], m: &MapSpec) -> anyhow::Error {
    let want = normalise(&m.column);
    let within = (want.chars().count() / 3).max(2);
    let mut near: Vec<(usize, &String)> = header
        .iter()
        .filter(|h| !h.is_empty())
        .filter_map(|h| {
            let name = normalise(h);
            let d = strsim::levenshtein(&name, &want);
            let part = !want.is_empty() && (name.contains(&want) || want.contains(&name));
            (d <= within || part).then_some((d, h))
        })
        .collect();
    near.sort_by_key(|(d, _)| *d);
    let closest = match near.len() {
        0 => String::new(),
        _ => format!(
            "; closest: {}",
            near.iter()
                .take(CLOSEST)
                .map(|(_, h)| shown(h))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    anyhow!(
        "--map {}: the input has no column {:?}{closest}; its columns are: {}",
        m.text,
        m.column,
        header
            .iter()
            .map(|h| shown(h))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// The warning naming the columns that feed nothing, if any.
fn ignored_warning(header: &[String], targets: &[Target], how: &[MatchedBy]) -> Option<String> {
    let ignored: Vec<String> = header
        .iter()
        .zip(targets)
        .zip(how)
        .filter(|((c, t), h)| **t == Target::Ignore && **h == MatchedBy::Unmapped && !c.is_empty())
        .map(|((c, _), _)| shown(c))
        .collect();
    (!ignored.is_empty()).then(|| {
        format!(
            "columns not mapped to any field, ignored: {}",
            crate::messages::list(&ignored, 2048)
        )
    })
}

#[cfg(test)]
mod tests;
