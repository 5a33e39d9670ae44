//! What a run writes besides its rows' outcomes, opened before the pipeline starts: the
//! journal, the reports (with a BOM when the input had one or was a spreadsheet, and
//! `failed.xlsx` for a workbook), and, with `--skip-unchanged`, the state and its report.

use super::*;

/// The state of an incremental run: the filter's connection and scope (none when nothing is
/// remembered for the scope yet, in a dry run), and the collector's recorder (not in a dry
/// run).
#[derive(Default)]
pub(super) struct Incremental {
    pub(super) filter: Option<(State, i64)>,
    pub(super) recorder: Option<Recorder>,
}

/// With `--skip-unchanged`: open the state (created when missing, except by a dry run, which
/// writes nothing but folds in what killed runs recorded), merge what earlier runs left, and
/// enter the run's scope.
pub(super) fn open_state<P: Provider>(
    provider: &P,
    settings: &Settings,
) -> Result<Option<Incremental>, Fatal> {
    let Some(path) = &settings.state else {
        return Ok(None);
    };
    let account = provider.state_account();
    if !settings.endpoint.is_sandbox() && (account.account.is_empty() || account.app.is_empty()) {
        let what = provider.spec().account_keys();
        return Err(Fatal::usage(anyhow!(
            "--skip-unchanged needs the account's {what} (config or environment; never the secret) to know what was sent to it, also in a dry run"
        )));
    }
    // A dry run names the scope of the endpoint a real run would send to.
    let base_url = match settings.endpoint.target() {
        Endpoint::Remote(b) => Some(b.as_str()),
        _ => None,
    };
    let spec = ScopeSpec::for_run(provider.spec().name, account, base_url);
    let err = |e: crate::state::StateError| Fatal::usage(anyhow!("{e}"));
    // Only reads here (outcomes not merged yet are looked up too): a state another process
    // holds delays nothing but the writer, which enters the scope and records off the send
    // path.
    if settings.dry_run() {
        let Some(state) = State::open_existing(path).map_err(err)? else {
            return Ok(Some(Incremental {
                filter: None,
                recorder: None,
            }));
        };
        let scope = state.find_scope(&spec).map_err(err)?;
        return Ok(Some(Incremental {
            filter: scope.map(|id| (state, id)),
            recorder: None,
        }));
    }
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let state = State::open(path).map_err(err)?;
    let scope = state.find_scope(&spec).map_err(err)?;
    let writer = Writer::start(
        State::open(path).map_err(err)?,
        spec,
        now,
        crate::state::writer::wait_budget(),
    );
    Ok(Some(Incremental {
        filter: scope.map(|id| (state, id)),
        recorder: Some(Recorder::new(writer, provider.state_salt())),
    }))
}

/// `unchanged.csv`: `row` and the provider's key columns.
pub(super) fn open_unchanged_report<P: Provider>(
    provider: &P,
    out: &Path,
    settings: &Settings,
) -> Result<(PendingReport, SuccessWriter<std::io::BufWriter<File>>), Fatal> {
    let io_err =
        |e: std::io::Error| Fatal::usage(anyhow!("cannot write reports in {}: {e}", out.display()));
    let (rf, mut w) = PendingReport::create(out, ReportFile::Unchanged).map_err(io_err)?;
    if reports_bom(settings) {
        w.write_all(BOM).map_err(io_err)?;
    }
    let header = provider.spec().unchanged_header;
    let phone_like = provider.spec().unchanged_phone_columns;
    let w = SuccessWriter::new(w, header, phone_like, settings.mask_pii).map_err(io_err)?;
    Ok((rf, w))
}

/// The journal: none for a dry run, the resumed run's, or a new one with the input's
/// identity (`None` for a stream).
pub(super) fn open_journal(
    settings: &Settings,
    (resume, sheet): (bool, Option<&str>),
    provider: &str,
    input_name: &str,
    identity: Option<&crate::input::Identity>,
) -> Result<Option<Arc<Journal>>, Fatal> {
    let out = &settings.out_dir;
    Ok(if settings.dry_run() {
        None
    } else if resume {
        Some(Arc::new(Journal::append_to(out).map_err(|e| {
            Fatal::stopped(anyhow!("cannot open the journal: {e}"))
        })?))
    } else {
        let mut h = journal::Header::new(provider, input_name, identity);
        h.sheet = sheet.map(str::to_owned);
        let mut options = settings.shape.values.clone();
        options.insert("sheet".into(), h.sheet.clone().into());
        h.options = Some(options);
        Some(Arc::new(Journal::create(out, &h).map_err(|e| {
            Fatal::usage(anyhow!(
                "cannot write the journal in {}: {e}",
                out.display()
            ))
        })?))
    })
}

/// `failed.xlsx` beside `failed.csv`, for a spreadsheet input.
pub(super) fn open_failed_xlsx(
    settings: &Settings,
    header: &[String],
) -> Result<Option<(PendingReport, std::io::BufWriter<File>, FailedXlsx)>, Fatal> {
    if !settings.input.format.is_sheet() {
        return Ok(None);
    }
    let out = &settings.out_dir;
    let io_err =
        |e: std::io::Error| Fatal::usage(anyhow!("cannot write reports in {}: {e}", out.display()));
    let Some(book) = FailedXlsx::new(header).map_err(io_err)? else {
        messages::warn(format_args!(
            "the sheet has too many columns for {}; {} holds the failures",
            ReportFile::FailedXlsx,
            ReportFile::Failed
        ));
        return Ok(None);
    };
    let (rf, w) = PendingReport::create(out, ReportFile::FailedXlsx).map_err(io_err)?;
    Ok(Some((rf, w, book)))
}

/// The byte order mark that CSV reports start with when [`reports_bom`].
pub(super) const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Whether CSV reports start with a UTF-8 BOM: when the input had one, or was a spreadsheet
/// (Excel then reads the report's text as UTF-8, and its phone numbers as text).
pub(super) fn reports_bom(settings: &Settings) -> bool {
    settings.input.format.is_sheet() || crate::input::starts_with_bom(&settings.input.path)
}

/// The report files, under temporary names until the run commits them: `success.csv`
/// (not for a dry run) and `failed.csv` or `failed.jsonl`.
pub(super) fn open_reports<P: Provider>(
    provider: &P,
    settings: &Settings,
    failed_header: &[String],
    phone_cols: &[bool],
) -> Result<(SuccessReport, FailedReport), Fatal> {
    let out = &settings.out_dir;
    let io_err =
        |e: std::io::Error| Fatal::usage(anyhow!("cannot write reports in {}: {e}", out.display()));
    let bom = reports_bom(settings);
    let success = if settings.dry_run() {
        None
    } else {
        let (rf, mut w) = PendingReport::create(out, ReportFile::Success).map_err(io_err)?;
        if bom {
            w.write_all(BOM).map_err(io_err)?;
        }
        let phone_like = provider.spec().success_phone_columns;
        let mut header = provider.spec().success_header.to_vec();
        header.push(crate::report::SOURCE_ROW);
        Some((
            rf,
            SuccessWriter::new(w, &header, phone_like, settings.mask_pii).map_err(io_err)?,
        ))
    };
    let failed = if settings.input.format == Format::Jsonl {
        let (rf, w) = PendingReport::create(out, ReportFile::FailedJsonl).map_err(io_err)?;
        (rf, FailedWriter::jsonl(w))
    } else {
        let (rf, mut w) = PendingReport::create(out, ReportFile::Failed).map_err(io_err)?;
        if bom {
            w.write_all(BOM).map_err(io_err)?;
        }
        (
            rf,
            FailedWriter::csv(w, failed_header, phone_cols.to_vec(), b',').map_err(io_err)?,
        )
    };
    Ok((success, failed))
}
