//! One import run, end to end: settings in, summary and exit code out. Wires the input, the
//! mapping plan, the report directory (lock, journal, resume), the optional in-process
//! sandbox and the pipeline stages.

use std::fs::File;
use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::anyhow;
use tokio::sync::mpsc;

use crate::config::{ProviderChoice, Settings};
use crate::embedded::Emulator;
use crate::exit::{Exit, Fatal, UsageContext};
use crate::http::Http;
use crate::input::{Format, Input};
use crate::journal::{self, Journal};
use crate::mapping::{parse_maps, KeyPlan, Plan, Schema, Target};
use crate::outdir::lock_out_dir;
use crate::pipeline::budget::Budget;
use crate::pipeline::collect::{Collector, Counts, Reports};
use crate::pipeline::limiter::{rate_limiter, Limiter};
use crate::pipeline::read::{Mapper, Reader};
use crate::pipeline::send::{dispatch, SendStage};
use crate::pipeline::unchanged::{Filter, Recorder};
use crate::pipeline::WriteFailure;
use crate::provider::Provider;
use crate::report::{self, FailedWriter, ReportFile, SuccessWriter, Summary};
use crate::resume::Resume;
use crate::state::{ScopeSpec, State};
use crate::stop::{self, Stop};

/// The result of a run that got as far as writing its reports.
#[derive(Debug)]
pub struct RunResult {
    pub summary: Summary,
    pub exit: Exit,
    /// Why the run stopped early, for the error line.
    pub stopped: Option<String>,
}

/// Run an import with these settings.
pub async fn import(settings: Settings) -> Result<RunResult, Fatal> {
    match settings.provider.clone() {
        ProviderChoice::Nxlink(p) => import_with(Arc::new(p), settings).await,
        ProviderChoice::Itnio(p) => import_with(Arc::new(p), settings).await,
    }
}

fn warn(s: &Settings, msg: &str) {
    if !s.quiet {
        eprintln!("warning: {msg}");
    }
}

async fn import_with<P: Provider>(provider: Arc<P>, s: Settings) -> Result<RunResult, Fatal> {
    let started = Instant::now();
    let input_name = s.input.path.display().to_string();
    for w in &s.warnings {
        warn(&s, w);
    }
    let schema = Schema::of(&*provider);
    let maps = parse_maps(&schema, &s.maps).usage()?;
    if s.resume && crate::input::is_stream_path(&s.input.path) {
        return Err(resume_of_stream(&s));
    }
    let input = Input::open(&s.input).map_err(|e| {
        let msg = e.to_string();
        if msg.contains(&input_name) {
            Fatal::usage(anyhow!(msg))
        } else {
            Fatal::usage(anyhow!("{input_name}: {msg}"))
        }
    })?;
    for w in &input.warnings {
        warn(&s, &format!("{input_name}: {w}"));
    }
    if s.resume && input.is_stream() {
        return Err(resume_of_stream(&s));
    }
    let (mapper, failed_header, phone_cols) =
        plan_input(&*provider, schema, maps, &input, &s, &input_name)?;

    let mut s = s;
    if let Some(sheet) = &input.sheet {
        // The sheet as resolved (`--sheet 2`, or none: the first), for the fingerprint.
        s.input.sheet = Some(sheet.name.clone());
    }
    let out = s.out_dir.clone();
    let lock = lock_out_dir(&out, &s)?;
    // The input's identity (a hash of every byte) ties the journal to exactly this input.
    let identity = if s.dry_run && !s.resume {
        None
    } else {
        input
            .origin
            .identity()
            .map_err(|e| Fatal::usage(anyhow!("{input_name}: cannot read: {e}")))?
    };
    if s.resume && !out.join(journal::FILE).exists() && !s.dry_run {
        // Killed before anything was recorded: there is nothing to skip.
        warn(
            &s,
            &format!(
                "{} holds no journal: nothing to resume, starting the run afresh",
                out.display()
            ),
        );
        s.resume = false;
    }
    let resume = if s.resume {
        let header = provider.success_header();
        let resume = Resume::load(&out, &s, provider.name(), header, identity.as_ref())?;
        Some(Arc::new(resume))
    } else {
        None
    };

    let (sandbox, http) = transport(&s, provider.path()).await?;
    let incremental = open_state(&*provider, &s, sandbox.as_ref())?;
    let resumed_unchanged = resume.as_ref().is_some_and(|r| r.has_unchanged());
    if resumed_unchanged && s.state.is_none() {
        warn(
            &s,
            "the run being resumed was started with --skip-unchanged: its remaining rows are sent without checking the state, and not remembered; add --skip-unchanged to check them",
        );
    }
    // A report directory that cannot be written (a full disk) is told like a failure during
    // the run: the summary still goes to stdout with --json. Nothing was sent yet.
    let opened = open_journal(&out, &s, provider.name(), &input_name, identity.as_ref()).and_then(
        |journal| {
            let reports = open_reports(&*provider, &out, &s, &failed_header, phone_cols)?;
            let unchanged = if s.state.is_some() || resumed_unchanged {
                Some(open_unchanged_report(&*provider, &out, &s)?)
            } else {
                None
            };
            Ok((journal, reports, unchanged))
        },
    );
    let (journal, (success, failed), unchanged) = match opened {
        Ok(o) => o,
        Err(f) => {
            if !s.resume && !s.dry_run {
                // Leave no journal of a run that never started (without --resume, any journal
                // here is this run's): the next run needs no --resume.
                let _ = std::fs::remove_file(out.join(journal::FILE));
            }
            let message = format!("{}; nothing was sent", f.error);
            let stop = Stop::default();
            stop.set(stop::Reason::Fatal, message);
            let (mut summary, _) = summarize(
                &s,
                provider.name(),
                input_name,
                &out,
                &Counts::default(),
                &stop,
                (0, 0),
                0,
                started,
            );
            summary.exit_code = f.exit.code();
            return Ok(RunResult {
                stopped: summary.stopped.clone(),
                summary,
                exit: f.exit,
            });
        }
    };
    let write_failure = WriteFailure::default();

    let stop = Stop::default();
    stop::listen_for_signals(stop.clone(), s.quiet);
    let progress = crate::progress::progress_bar(
        &s,
        !input.is_stream(),
        input.sheet.as_ref().and_then(|sh| sh.rows),
    );
    let (batch_tx, batch_rx) = mpsc::channel(s.concurrency.max(2));
    let (ev_tx, ev_rx) = mpsc::channel(4 * s.concurrency + 64);

    let (filter_state, recorder) = match incremental {
        Some(i) => (i.filter, i.recorder),
        None => (None, None),
    };
    let collector = Collector {
        provider: provider.clone(),
        reports: Reports {
            success,
            failed,
            unchanged,
        },
        journal: journal.clone(),
        resume: resume.clone(),
        progress,
        stop: stop.clone(),
        quiet: s.quiet,
        input_name: input_name.clone(),
        counts: Counts::default(),
        write_failure: write_failure.clone(),
        journaled: 0,
        recorder,
        written: Default::default(),
    };
    let collector = std::thread::Builder::new()
        .name("custimport-report".into())
        .spawn({
            let stop = stop.clone();
            move || {
                // A panic here is a bug: stop sending (no row goes out unrecorded), then let it
                // go on to the run, which ends with exit 101.
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| collector.run(ev_rx)))
                    .unwrap_or_else(|panic| {
                        stop.set(stop::Reason::Fatal, "internal error in the report writer");
                        std::panic::resume_unwind(panic)
                    })
            }
        })
        .map_err(|e| Fatal::stopped(anyhow!("cannot start the report writer: {e}")))?;

    let reader = Reader {
        provider: provider.clone(),
        mapper,
        batch_size: s.batch_size,
        stop: stop.clone(),
        resume: resume.clone(),
        // A text file's lines (a workbook's bytes say nothing of its rows).
        expected_rows: (!s.input.format.is_sheet())
            .then(|| input.origin.line_count())
            .flatten(),
    };
    let reader_events = ev_tx.clone();
    let blank_lines = input.blank_counter();
    let origin = input.origin.clone();
    // With --skip-unchanged the reader's batches go through the filter stage first.
    let (reader_tx, filter) = if s.state.is_some() {
        let (tx, rx) = mpsc::channel(4);
        let filter = Filter {
            provider: provider.clone(),
            state: filter_state,
            batch_size: s.batch_size,
            quiet: s.quiet,
        };
        let events = ev_tx.clone();
        let handle = std::thread::Builder::new()
            .name("custimport-state".into())
            .spawn(move || filter.run(rx, batch_tx, events))
            .map_err(|e| Fatal::stopped(anyhow!("cannot start the state filter: {e}")))?;
        (tx, Some(handle))
    } else {
        (batch_tx, None)
    };
    let reader = std::thread::Builder::new()
        .name("custimport-read".into())
        .spawn(move || reader.run(input, reader_tx, reader_events))
        .map_err(|e| Fatal::stopped(anyhow!("cannot start the reader: {e}")))?;

    let rate = s.rate.and_then(rate_limiter);
    let mut ctx = SendStage::new(
        provider.clone(),
        http,
        s.retries,
        s.backoff,
        s.bisect,
        stop.clone(),
        Limiter::new(s.concurrency),
        rate,
        ev_tx,
        s.quiet,
    );
    ctx.journal = journal;
    ctx.budget = Budget::new(s.max_failures);
    ctx.write_failure = write_failure.clone();
    ctx.resume = resume;
    let ctx = Arc::new(ctx);
    let counters = ctx.counters.clone();
    dispatch(ctx.clone(), batch_rx, s.dry_run).await;
    drop(ctx);

    // A panic in a stage is a bug: it goes on unwinding here (exit 101, lock removed).
    let read = tokio::task::spawn_blocking(move || reader.join())
        .await
        .map_err(|e| Fatal::stopped(anyhow!("reader task failed: {e}")))?
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    if let Some(filter) = filter {
        tokio::task::spawn_blocking(move || filter.join())
            .await
            .map_err(|e| Fatal::stopped(anyhow!("state filter task failed: {e}")))?
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    }
    let plan_lines = match read {
        Ok(st) => {
            if !st.ignored_keys.is_empty() {
                let keys: Vec<String> = st.ignored_keys.iter().map(|k| format!("{k:?}")).collect();
                warn(
                    &s,
                    &format!(
                        "{input_name}: keys not mapped to any field, ignored: {}",
                        keys.join(", ")
                    ),
                );
            }
            st.plan
        }
        Err(e) => {
            stop.set(
                stop::Reason::Fatal,
                format!("{input_name}: reading stopped: {e}"),
            );
            vec![]
        }
    };
    let changed = origin
        .changed_while_read(identity.as_ref())
        .map(|why| format!("{input_name} {why}"));
    if let Some(why) = &changed {
        warn(&s, why);
    }
    let collected = tokio::task::spawn_blocking(move || collector.join())
        .await
        .map_err(|e| Fatal::stopped(anyhow!("collector task failed: {e}")))?
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    let counts = collected.counts;
    if let Some(sb) = sandbox {
        sb.shutdown().await;
    }
    // Said once, after every row's own messages.
    let phones = provider.phones().map(|p| p.report());
    if !s.dry_run {
        if let Some(w) = phones.as_ref().and_then(|r| r.national_warning()) {
            warn(&s, &format!("{input_name}: {w}"));
        }
    }

    if counts.total == 0 && !s.quiet && !failed_header.is_empty() {
        warn(
            &s,
            &format!("{input_name} has no data rows: nothing to import"),
        );
    } else if counts.total == 0
        && failed_header.is_empty()
        && s.input.format == crate::input::Format::Jsonl
    {
        warn(
            &s,
            &format!("{input_name} has no records: nothing to import"),
        );
    }
    if s.dry_run && !s.quiet {
        eprint!(
            "{}",
            crate::dry_run::render(&input_name, &plan_lines, &counts, s.batch_size)
        );
        if let Some(r) = &phones {
            eprint!("{}", crate::dry_run::phones(r, s.mask_pii));
        }
    }
    let requests = (
        counters.requests.load(std::sync::atomic::Ordering::Relaxed),
        counters.retries.load(std::sync::atomic::Ordering::Relaxed),
    );
    let blank = blank_lines.load(std::sync::atomic::Ordering::Relaxed);
    let (mut summary, mut exit) = summarize(
        &s,
        provider.name(),
        input_name,
        &out,
        &counts,
        &stop,
        requests,
        blank,
        started,
    );
    if let Some(why) = changed {
        // The rows read are accounted for, but they are not the input as it was: not a success.
        if exit == Exit::Success {
            exit = Exit::Incomplete;
            summary.exit_code = exit.code();
        }
        summary.input_changed = Some(why);
    }
    if let Some(what) = write_failure.get() {
        exit = write_failed(&mut summary, exit, &out, what, &s, collected.journaled);
    } else if let Err(e) = report::write_summary(&out, &summary) {
        let what = format!("cannot write summary.json: {e}");
        exit = write_failed(&mut summary, exit, &out, &what, &s, collected.journaled);
    }
    drop(lock);
    Ok(RunResult {
        stopped: summary.stopped.clone(),
        summary,
        exit,
    })
}

/// `--resume` of a stream: refused, since its content cannot be checked against the journal.
fn resume_of_stream(s: &Settings) -> Fatal {
    Fatal::usage(anyhow!(
        "--resume: {} is a stream (standard input, a pipe or a device), whose content cannot be checked against the run being resumed; save the input to a file and import that file (a run from a file can be resumed)",
        crate::input::display_name(&s.input.path)
    ))
}

/// The mapping plan for the input: by header (CSV/TSV, with its warnings; repeated names
/// made unique) or by key (JSONL). Returns the mapper, the failure report's header (the
/// names as written) and which of its columns are phone-like.
fn plan_input<P: Provider>(
    provider: &P,
    schema: Schema,
    maps: Vec<crate::mapping::MapSpec>,
    input: &Input,
    s: &Settings,
    input_name: &str,
) -> Result<(Mapper, Vec<String>, Vec<bool>), Fatal> {
    Ok(match input.headers.as_deref() {
        Some(h) => {
            let (plan, warnings) = Plan::for_header(&schema, h, &maps).usage()?;
            for w in warnings {
                warn(s, &format!("{input_name}: {w}"));
            }
            for req in provider.required_fields() {
                let fed = plan
                    .targets
                    .iter()
                    .any(|t| matches!(t, Target::Field(i) if schema.fields[*i].name == *req));
                if !fed && !h.is_empty() {
                    warn(
                        s,
                        &format!("{input_name}: no column maps to {req}, which every row needs: every row will be rejected; use --map {req}=COLUMN"),
                    );
                }
            }
            if h.is_empty() {
                warn(s, &format!("{input_name} is empty: nothing to import"));
            }
            let phone_cols = plan
                .targets
                .iter()
                .map(|t| matches!(t, Target::Field(i) if provider.is_phone_field(schema.fields[*i].name)))
                .collect();
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
    })
}

/// The state of an incremental run: the filter's connection and scope (none when nothing is
/// remembered for the scope yet, in a dry run), and the collector's recorder (not in a dry
/// run).
struct Incremental {
    filter: Option<(State, i64)>,
    recorder: Option<Recorder>,
}

/// With `--skip-unchanged`: open the state (created when missing, except by a dry run, which
/// writes nothing but folds in what killed runs recorded), merge what earlier runs left, and
/// enter the run's scope.
fn open_state<P: Provider>(
    provider: &P,
    s: &Settings,
    sandbox: Option<&Emulator>,
) -> Result<Option<Incremental>, Fatal> {
    let Some(path) = &s.state else {
        return Ok(None);
    };
    let account = provider.state_account();
    if !s.sandbox && (account.account.is_empty() || account.app.is_empty()) {
        let what = match provider.name() {
            "nxlink" => "access_key, tenant_id and app_key",
            _ => "api_key and app_id",
        };
        return Err(Fatal::usage(anyhow!(
            "--skip-unchanged needs the account's {what} (config or environment; never the secret) to know what was sent to it, also in a dry run"
        )));
    }
    let endpoint = match (&s.base_url, sandbox) {
        (Some(b), _) => ScopeSpec::canonical_endpoint(b),
        // The built-in emulator listens on a new port each run: one stable name, so that
        // trying --skip-unchanged with --sandbox shows what a second run skips, and its
        // scopes do not pile up.
        (None, _) => "sandbox (built-in)".to_owned(),
    };
    let spec = ScopeSpec {
        provider: provider.name().to_owned(),
        endpoint,
        account: account.account,
        tenant: account.tenant,
        app: account.app,
        job: account.job,
    };
    let err = |e: crate::state::StateError| Fatal::usage(anyhow!("{e}"));
    if s.dry_run {
        let Some(mut state) = State::open_existing(path).map_err(err)? else {
            return Ok(Some(Incremental {
                filter: None,
                recorder: None,
            }));
        };
        state.merge().map_err(err)?;
        let scope = state.find_scope(&spec).map_err(err)?;
        return Ok(Some(Incremental {
            filter: scope.map(|id| (state, id)),
            recorder: None,
        }));
    }
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut state = State::open(path).map_err(err)?;
    state.merge().map_err(err)?;
    let scope = state.enter_scope(&spec, now).map_err(err)?;
    let writer = State::open(path).map_err(err)?;
    Ok(Some(Incremental {
        filter: Some((state, scope)),
        recorder: Some(Recorder::new(writer, scope, now, provider.state_salt())),
    }))
}

/// `unchanged.csv`: `row` and the provider's key columns.
fn open_unchanged_report<P: Provider>(
    provider: &P,
    out: &Path,
    s: &Settings,
) -> Result<(ReportFile, SuccessWriter<std::io::BufWriter<File>>), Fatal> {
    let io_err =
        |e: std::io::Error| Fatal::usage(anyhow!("cannot write reports in {}: {e}", out.display()));
    let (rf, w) = ReportFile::create(out, "unchanged.csv").map_err(io_err)?;
    let header = provider.unchanged_header();
    let phone_like: Vec<&str> = header
        .iter()
        .copied()
        .filter(|h| provider.is_phone_field(h) || *h == "phone_number")
        .collect();
    let w = SuccessWriter::new(w, header, &phone_like, s.mask_pii).map_err(io_err)?;
    Ok((rf, w))
}

/// The journal: none for a dry run, the resumed run's, or a new one with the input's
/// identity (`None` for a stream).
fn open_journal(
    out: &Path,
    s: &Settings,
    provider: &str,
    input_name: &str,
    identity: Option<&crate::input::Identity>,
) -> Result<Option<Arc<Journal>>, Fatal> {
    Ok(if s.dry_run {
        None
    } else if s.resume {
        Some(Arc::new(Journal::append_to(out).map_err(|e| {
            Fatal::stopped(anyhow!("cannot open the journal: {e}"))
        })?))
    } else {
        let mut h = journal::Header::new(provider, input_name, identity);
        h.sheet = s.input.sheet_read();
        Some(Arc::new(Journal::create(out, &h).map_err(|e| {
            Fatal::usage(anyhow!(
                "cannot write the journal in {}: {e}",
                out.display()
            ))
        })?))
    })
}

type SuccessReport = Option<(ReportFile, SuccessWriter<std::io::BufWriter<File>>)>;
type FailedReport = (ReportFile, FailedWriter<std::io::BufWriter<File>>);

/// The report files, under temporary names until the run commits them: `success.csv`
/// (not for a dry run) and `failed.csv` or `failed.jsonl`.
fn open_reports<P: Provider>(
    provider: &P,
    out: &Path,
    s: &Settings,
    failed_header: &[String],
    phone_cols: Vec<bool>,
) -> Result<(SuccessReport, FailedReport), Fatal> {
    let io_err =
        |e: std::io::Error| Fatal::usage(anyhow!("cannot write reports in {}: {e}", out.display()));
    let success = if s.dry_run {
        None
    } else {
        let (rf, w) = ReportFile::create(out, "success.csv").map_err(io_err)?;
        let phone_like: Vec<&str> = provider
            .success_header()
            .iter()
            .copied()
            .filter(|h| matches!(*h, "whats_app_phone" | "phone_number"))
            .collect();
        Some((
            rf,
            SuccessWriter::new(w, provider.success_header(), &phone_like, s.mask_pii)
                .map_err(io_err)?,
        ))
    };
    let failed = if s.input.format == Format::Jsonl {
        let (rf, w) = ReportFile::create(out, "failed.jsonl").map_err(io_err)?;
        (rf, FailedWriter::jsonl(w))
    } else {
        let (rf, w) = ReportFile::create(out, "failed.csv").map_err(io_err)?;
        (
            rf,
            FailedWriter::csv(w, failed_header, phone_cols, b',').map_err(io_err)?,
        )
    };
    Ok((success, failed))
}

/// The run's summary and exit code: a stop decides the code, else any row not succeeded.
#[allow(clippy::too_many_arguments)]
fn summarize(
    s: &Settings,
    provider: &str,
    input_name: String,
    out: &Path,
    counts: &Counts,
    stop: &Stop,
    requests: (u64, u64),
    blank: u64,
    started: Instant,
) -> (Summary, Exit) {
    let reason = stop.reason();
    let exit = match reason {
        Some(r) => r.exit(),
        // An answer line that named no row leaves doubt even where every row is accounted for.
        None if counts.rejected + counts.failed + counts.unknown + counts.unattributed > 0 => {
            Exit::Incomplete
        }
        None => Exit::Success,
    };
    let summary = Summary {
        provider: provider.into(),
        input: input_name,
        out_dir: out.display().to_string(),
        total: counts.total,
        succeeded: counts.succeeded,
        rejected: counts.rejected,
        failed: counts.failed,
        unknown: counts.unknown,
        pending: counts.pending + if s.dry_run { counts.valid } else { 0 },
        requests: requests.0,
        retries: requests.1,
        elapsed_secs: (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
        interrupted: matches!(
            reason,
            Some(stop::Reason::Interrupt | stop::Reason::Terminate)
        ),
        exit_code: exit.code(),
        already_present: counts.already_present,
        unattributed: counts.unattributed,
        blank_lines: blank,
        unchanged: counts.unchanged,
        dry_run: s.dry_run,
        valid: s.dry_run.then_some(counts.valid),
        planned_requests: s.dry_run.then_some(counts.planned_requests),
        stopped: stop.message(),
        input_changed: None,
    };
    (summary, exit)
}

/// Writing in the report directory failed (a full disk): the run stopped (exit 3, unless a
/// signal stopped it first). The message says what the journal holds and that `--resume`
/// continues; the summary carries it, for `--json`.
fn write_failed(
    summary: &mut Summary,
    exit: Exit,
    out: &Path,
    what: &str,
    s: &Settings,
    journaled: u64,
) -> Exit {
    let exit = match exit {
        Exit::Interrupted | Exit::Terminated => exit,
        _ => Exit::Stopped,
    };
    let message = if s.dry_run {
        format!("{what}; nothing was sent (dry run): free some space and run it again")
    } else {
        format!(
            "{what}. The journal {} records which rows were sent, and the outcome of {journaled} of them; \
             free some space, then run the same command with --resume --out {} to continue: rows with an outcome are skipped, the others are sent",
            out.join(journal::FILE).display(),
            out.display()
        )
    };
    summary.stopped = Some(message);
    summary.exit_code = exit.code();
    exit
}

/// Where requests go: the base URL, or an in-process sandbox started for `--sandbox`.
async fn transport(s: &Settings, path: &str) -> Result<(Option<Emulator>, Http), Fatal> {
    let sandbox = if s.sandbox && !s.dry_run && s.base_url.is_none() {
        // Numbers read with a region are E.164: the sandbox then checks that they are.
        let strict_phones = match &s.provider {
            ProviderChoice::Nxlink(p) => p.phones.region().is_some(),
            ProviderChoice::Itnio(p) => p.phones.region().is_some() && !p.phones.encrypted(),
        };
        let sb = Emulator::start(strict_phones)
            .await
            .map_err(|e| Fatal::usage(anyhow!("cannot start the sandbox: {e}")))?;
        // Said on a terminal only: off a terminal stderr carries warnings and the summary.
        if !s.quiet && std::io::stderr().is_terminal() {
            eprintln!(
                "custimport: sending to the built-in sandbox at {}",
                sb.base_url()
            );
        }
        tracing::info!("sending to the built-in sandbox at {}", sb.base_url());
        Some(sb)
    } else {
        None
    };
    let base = match (&s.base_url, &sandbox) {
        (Some(b), _) => b.clone(),
        (None, Some(sb)) => sb.base_url(),
        (None, None) => String::new(),
    };
    let http = Http::new(
        if base.is_empty() {
            "http://127.0.0.1:9"
        } else {
            &base
        },
        path,
        s.timeout,
    )
    .map_err(|e| Fatal::usage(anyhow!("cannot set up HTTP: {e}")))?;
    Ok((sandbox, http))
}
