//! The options that shape how the input is read and its rows normalised: format, sheet,
//! header row, delimiter, encoding, phone region, date order; each checked, and recorded in
//! the run's shape for `--resume`.

use super::*;

/// The recorded options of [`common`]: where requests go, how the input is read and batched.
pub(super) fn input_shape(
    a: &CommonArgs,
    input: &InputOptions,
    endpoint: &Endpoint,
    endpoint_given: bool,
    batch_size: u16,
) -> recorded::Shape {
    let mut shape = recorded::Shape::default();
    let target = match endpoint.target() {
        Endpoint::Remote(b) => json!(b.as_str()),
        _ => json!("sandbox"),
    };
    shape.set("endpoint", target, endpoint_given);
    shape.set("format", name_of(input.format), a.format.is_some());
    // Recorded as resolved once the input is open (see `run::open_journal`).
    shape.set("sheet", json!(a.sheet), a.sheet.is_some());
    let delimiter = input
        .delimiter
        .map_or(Value::Null, |d| json!(char::from(d).to_string()));
    shape.set("delimiter", delimiter, a.delimiter.is_some());
    let encoding = input.encoding.map_or("UTF-8", encoding_rs::Encoding::name);
    shape.set("encoding", json!(encoding), a.encoding.is_some());
    shape.set("map", json!(a.maps), !a.maps.is_empty());
    shape.set("batch_size", json!(batch_size), a.batch_size.is_some());
    shape
}

/// How to read the input: its format (`--format`, else from the file name), sheet,
/// delimiter, encoding and field size limit.
pub(super) fn input_options(
    a: &CommonArgs,
    input: &Path,
    warnings: &mut Vec<String>,
) -> Result<InputOptions, Fatal> {
    let is_stdin = input.as_os_str() == "-";
    // Missing or a directory: said before anything else about the input.
    crate::input::check_path(input).usage()?;
    let format = match (a.format, Format::from_path(input)) {
        (Some(f), _) => f,
        (None, Some(f)) if !is_stdin => f,
        _ if is_stdin => {
            return Err(Fatal::usage(anyhow!(
                "reading standard input needs --format csv|tsv|jsonl"
            )))
        }
        _ => {
            return Err(Fatal::usage(anyhow!(
                "{}: cannot tell the format from the file name; use --format csv|tsv|jsonl|xlsx|xlsb|xls|ods",
                input.display()
            )))
        }
    };
    sheet_options(a, format, is_stdin, warnings)?;
    let delimiter = a
        .delimiter
        .as_deref()
        .map(parse_delimiter)
        .transpose()
        .usage()?;
    let encoding = match &a.encoding {
        None => None,
        Some(label) => Some(encoding_rs::Encoding::for_label(label.trim().as_bytes()).ok_or_else(|| {
            Fatal::usage(anyhow!(
                "--encoding: unknown encoding {label:?}; use a WHATWG label such as utf-8, gbk, gb18030, big5, shift_jis, euc-kr, windows-1252"
            ))
        })?),
    };
    let max_field_bytes = usize::try_from(a.max_field_size)
        .map_err(|_| Fatal::usage(anyhow!("--max-field-size is too large for this machine")))?;
    Ok(InputOptions {
        path: input.to_path_buf(),
        format,
        delimiter,
        encoding,
        max_field_bytes,
        sheet: a.sheet.clone(),
        header_row: None,
    })
}

/// `--phone-region`, else `phone_region` in the provider's config section: a region with a
/// numbering plan, or a usage error.
pub(super) fn phone_region(
    c: &CommonArgs,
    file: Option<&str>,
) -> Result<Option<phone::Region>, Fatal> {
    let (given, whence) = match (&c.phone_region, file) {
        (Some(f), _) => (f.as_str(), "--phone-region"),
        (None, Some(f)) => (f, "phone_region in the config file"),
        (None, None) => return Ok(None),
    };
    phone::Region::from_iso(given).map(Some).ok_or_else(|| {
        Fatal::usage(anyhow!(
            "{whence}: {given:?} is not an ISO 3166-1 alpha-2 or alpha-3 region with a telephone numbering plan (e.g. ID or IDN, CN, PH, IN)"
        ))
    })
}

/// `--date-order`, else `date_order` in the provider's config section, else `ymd`.
pub(super) fn date_order(c: &CommonArgs, file: Option<&str>) -> Result<DateOrder, Fatal> {
    match (c.date_order, file) {
        (Some(o), _) => Ok(o),
        (None, Some(f)) => DateOrder::parse(f).ok_or_else(|| {
            Fatal::usage(anyhow!(
                "date_order in the config file: give \"ymd\", \"dmy\" or \"mdy\""
            ))
        }),
        (None, None) => Ok(DateOrder::Ymd),
    }
}

/// `--header-row`, else `header_row` in the provider's config section (1 to the last row a
/// spreadsheet can have); `None`: the first line.
pub(super) fn header_row(c: &CommonArgs, file: Option<i64>) -> Result<Option<u32>, Fatal> {
    let max = crate::cli::MAX_HEADER_ROW;
    match (c.header_row, file) {
        (Some(n), _) => Ok(Some(n)),
        (None, Some(n)) => u32::try_from(n)
            .ok()
            .filter(|&n| n >= 1 && i64::from(n) <= max)
            .map(Some)
            .ok_or_else(|| {
                Fatal::usage(anyhow!(
                    "header_row in the config file: give a line number from 1 to {max}"
                ))
            }),
        (None, None) => Ok(None),
    }
}

/// Spreadsheets come from files; `--sheet` is for them only, `--delimiter` and `--encoding`
/// are not (a workbook says both itself): such a mismatch is a warning.
pub(super) fn sheet_options(
    a: &CommonArgs,
    format: Format,
    is_stdin: bool,
    warnings: &mut Vec<String>,
) -> Result<(), Fatal> {
    if format.is_sheet() {
        if is_stdin {
            return Err(Fatal::usage(anyhow!(
                "spreadsheets are read from files, not standard input: save the workbook and give its path"
            )));
        }
        for (given, flag) in [
            (a.delimiter.is_some(), "--delimiter"),
            (a.encoding.is_some(), "--encoding"),
        ] {
            if given {
                warnings.push(format!("{flag} does not apply to a spreadsheet; ignored"));
            }
        }
    } else if a.sheet.is_some() {
        warnings.push("--sheet applies to spreadsheet input only; ignored".into());
    }
    Ok(())
}

pub(super) fn parse_delimiter(s: &str) -> anyhow::Result<u8> {
    match s {
        "\\t" | "tab" | "TAB" | "\t" => Ok(b'\t'),
        _ if s.len() == 1 && s.is_ascii() && s != "\"" && s != "\n" && s != "\r" => {
            Ok(s.as_bytes()[0])
        }
        _ => bail!("--delimiter must be one ASCII character (or \\t), got {s:?}"),
    }
}
