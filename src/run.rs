//! One import run, end to end, as wiring only: settings in, summary and exit code out. It
//! opens the input and its mapping plan, claims the report directory (lock, identity,
//! resume), chooses where requests go ([`Endpoint`]), opens the journal, the reports and the
//! state, starts the pipeline's stages (reader, state filter, sender, collector) and joins
//! them. What each step does lives in its own module; this one only connects them. Beside it:
//! `run/plan.rs` (the mapping plan), `run/outputs.rs` (journal, reports, state), `run/finish.rs`
//! (closing messages and summary), `run/threads.rs` (the collector's thread, the emulator).

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use anyhow::anyhow;
use tokio::sync::mpsc;

use crate::config::{Endpoint, ProviderChoice, Settings};
use crate::exit::{Exit, Fatal, UsageContext};
use crate::http;
use crate::input::{Format, Identity, Input};
use crate::journal::{self, Journal};
use crate::mapping::{parse_maps, KeyPlan, Plan, PlanLine, Schema};
use crate::messages;
use crate::pipeline::collect::{Collected, Collector, Reports};
use crate::pipeline::read::{Mapper, ReadFailed, ReadStats, Reader};
use crate::pipeline::send::{dispatch, plan_only, Counters, SendOptions, SendStage};
use crate::pipeline::unchanged::{Filter, Recorder};
use crate::pipeline::{Batch, Event, Shared};
use crate::provider::{Observed, Provider};
use crate::report::outdir::{lock_out_dir, ReportFile};
use crate::report::{FailedWriter, FailedXlsx, PendingReport, RunFacts, SuccessWriter, Summary};
use crate::resume::Resume;
use crate::state::writer::Writer;
use crate::state::{ScopeSpec, State};

mod finish;
mod outputs;
mod plan;
mod threads;

use outputs::*;
use plan::*;
use threads::*;

/// The result of a run that got as far as writing its reports.
#[derive(Debug)]
pub(crate) struct RunResult {
    pub summary: Summary,
    pub exit: Exit,
    /// Why the run stopped early, for the error line.
    pub stopped: Option<String>,
}

/// Run an import with these settings.
pub(crate) async fn import(settings: Settings) -> Result<RunResult, Fatal> {
    match settings.provider.clone() {
        ProviderChoice::Nxlink(p) => import_with(Arc::new(p), settings).await,
        ProviderChoice::Itnio(p) => import_with(Arc::new(p), settings).await,
    }
}

/// What every step of a run reads: the provider, the settings and when the run began.
struct Run<P: Provider> {
    provider: Arc<P>,
    settings: Settings,
    /// `--resume`, unless there is nothing to resume (no journal): the run then starts afresh.
    resume: bool,
    /// The sheet read, by name (`--sheet 2` or none resolved), for a spreadsheet input.
    sheet: Option<String>,
    /// The input as named in messages and the summary.
    input_name: String,
    started: Instant,
}

/// The input, opened, and how its rows map to the provider's fields.
struct Opened {
    input: Input,
    mapper: Mapper,
    /// The failure report's header: the input's column names as written (CSV, sheets).
    failed_header: Vec<String>,
    /// Which of those columns are phone-like (not guarded as formulas).
    phone_cols: Vec<bool>,
}

/// The run's files in the report directory, open before anything is sent.
struct Outputs {
    journal: Option<Arc<Journal>>,
    reports: Reports,
}

/// The stages running on their own threads.
struct Stages {
    reader: JoinHandle<Result<ReadStats, Box<ReadFailed>>>,
    filter: Option<JoinHandle<()>>,
    collector: JoinHandle<Collected>,
}

type SuccessReport = Option<(PendingReport, SuccessWriter<std::io::BufWriter<File>>)>;
type FailedReport = (PendingReport, FailedWriter<std::io::BufWriter<File>>);

async fn import_with<P: Provider>(
    provider: Arc<P>,
    settings: Settings,
) -> Result<RunResult, Fatal> {
    let mut run = Run {
        provider,
        resume: settings.resume,
        sheet: None,
        input_name: settings.input.path.display().to_string(),
        settings,
        started: Instant::now(),
    };
    for w in &run.settings.warnings {
        messages::warn(w);
    }
    let opened = run.open_input()?;
    let lock = lock_out_dir(&run.settings.out_dir, run.resume, run.settings.dry_run())?;
    let identity = run.identity(&opened.input)?;
    let resume = run.load_resume(identity.as_ref())?;
    let mut connection = http::connect(&run.settings, run.provider.spec().path).await?;
    let incremental = open_state(&*run.provider, &run.settings)?;
    let resumed_unchanged = resume.as_ref().is_some_and(|r| r.has_unchanged());
    if resumed_unchanged && run.settings.state.is_none() {
        messages::warn(
            "the run being resumed was started with --skip-unchanged: its remaining rows are sent without checking the state, and not remembered; add --skip-unchanged to check them",
        );
    }
    let outputs = match run.open_outputs(&opened, identity.as_ref(), resumed_unchanged) {
        Ok(o) => o,
        Err(f) => return Ok(run.never_started(f)),
    };
    let result = run
        .pipeline(
            opened,
            outputs,
            resume,
            incremental,
            &mut connection,
            identity.as_ref(),
        )
        .await;
    if let Some(sb) = connection.emulator {
        sb.shutdown().await;
    }
    drop(lock);
    result
}

/// What the stages leave when they are done.
struct Ended {
    collected: Collected,
    /// The mapping as applied, for the dry run's plan view.
    plan: Vec<PlanLine>,
    /// What the provider's reading saw, for the closing warnings.
    observed: Observed,
    /// How the input changed while it was read, if it did.
    changed: Option<String>,
    counters: Option<Arc<Counters>>,
    blank_lines: u64,
}

impl<P: Provider> Run<P> {
    /// The input opened and its mapping planned, after the checks that need no report
    /// directory (a stream cannot be resumed).
    fn open_input(&mut self) -> Result<Opened, Fatal> {
        let settings = &self.settings;
        let name = &self.input_name;
        let schema = Schema::of(&*self.provider);
        let maps = parse_maps(&schema, &settings.maps).usage()?;
        if settings.resume && crate::input::is_stream_path(&settings.input.path) {
            return Err(resume_of_stream(settings));
        }
        // The error's variant says whether its message names the input already.
        let input = Input::open(&settings.input).map_err(|e| {
            if e.names_input() {
                Fatal::usage(anyhow!("{e}"))
            } else {
                Fatal::usage(anyhow!("{name}: {e}"))
            }
        })?;
        for w in &input.warnings {
            messages::warn(format_args!("{name}: {w}"));
        }
        if settings.resume && input.is_stream() {
            return Err(resume_of_stream(settings));
        }
        let guess = settings.input.header_row.is_none();
        let opened = plan_input(&*self.provider, schema, maps, input, name, guess)?;
        // The sheet as resolved (`--sheet 2`, or none: the first), for the fingerprint.
        self.sheet = opened.input.sheet.as_ref().map(|sheet| sheet.name.clone());
        Ok(opened)
    }

    /// The input's identity (a hash of every byte), which ties the journal to exactly this
    /// input; not needed by a dry run that resumes nothing.
    fn identity(&self, input: &Input) -> Result<Option<Identity>, Fatal> {
        if self.settings.dry_run() && !self.resume {
            return Ok(None);
        }
        input
            .origin
            .identity()
            .map_err(|e| Fatal::usage(anyhow!("{}: cannot read: {e}", self.input_name)))
    }

    /// With `--resume`: what the run being resumed recorded (nothing when it was killed before
    /// it recorded anything: the run then starts afresh).
    fn load_resume(&mut self, identity: Option<&Identity>) -> Result<Option<Arc<Resume>>, Fatal> {
        let settings = &self.settings;
        if !self.resume {
            return Ok(None);
        }
        if !settings.out_dir.join(journal::FILE).exists() && !settings.dry_run() {
            messages::warn(format_args!(
                "{} holds no journal: nothing to resume, starting the run afresh",
                settings.out_dir.display()
            ));
            self.resume = false;
            return Ok(None);
        }
        let provider = &*self.provider;
        Resume::load(
            &settings.out_dir,
            settings,
            self.sheet.as_deref(),
            provider.spec().name,
            provider.spec().success_header,
            identity,
        )
        .map(|r| Some(Arc::new(r)))
    }

    /// The journal and the reports. A report directory that cannot be written (a full disk)
    /// is told like a failure during the run, and the journal just created is removed (see
    /// [`Run::never_started`]).
    fn open_outputs(
        &self,
        opened: &Opened,
        identity: Option<&Identity>,
        resumed_unchanged: bool,
    ) -> Result<Outputs, Fatal> {
        let settings = &self.settings;
        let provider = &*self.provider;
        let out = &settings.out_dir;
        let journal = open_journal(
            settings,
            (self.resume, self.sheet.as_deref()),
            provider.spec().name,
            &self.input_name,
            identity,
        )?;
        let (success, failed) = open_reports(
            provider,
            settings,
            &opened.failed_header,
            &opened.phone_cols,
        )?;
        let unchanged = if settings.state.is_some() || resumed_unchanged {
            Some(open_unchanged_report(provider, out, settings)?)
        } else {
            None
        };
        let failed_xlsx = open_failed_xlsx(settings, &opened.failed_header)?;
        Ok(Outputs {
            journal,
            reports: Reports {
                success,
                failed,
                unchanged,
                failed_xlsx,
            },
        })
    }

    /// Leave no journal of a run that never started (without `--resume`, any journal here is
    /// this run's): the next run needs no `--resume`.
    fn forget_journal(&self) {
        let settings = &self.settings;
        if !self.resume && !settings.dry_run() {
            let _ = std::fs::remove_file(settings.out_dir.join(journal::FILE));
        }
    }

    /// The result of a run whose files could not be opened: nothing was sent; the summary
    /// still goes to stdout with `--json`.
    fn never_started(&self, f: Fatal) -> RunResult {
        self.forget_journal();
        let summary = Summary::never_started(self.facts(0, 0, 0), &f.error.to_string(), f.exit);
        RunResult {
            stopped: summary.stopped.clone(),
            summary,
            exit: f.exit,
        }
    }

    fn facts(&self, requests: u64, retries: u64, blank_lines: u64) -> RunFacts<'_> {
        RunFacts {
            provider: self.provider.spec().name,
            input: self.input_name.clone(),
            out: &self.settings.out_dir,
            dry_run: self.settings.dry_run(),
            requests,
            retries,
            blank_lines,
            started: self.started,
            rejected_ok: self.settings.rejected_ok,
        }
    }

    /// Start the stages, send every batch, join the stages and write the summary.
    async fn pipeline(
        &self,
        opened: Opened,
        outputs: Outputs,
        resume: Option<Arc<Resume>>,
        incremental: Option<Incremental>,
        connection: &mut http::Connection,
        identity: Option<&Identity>,
    ) -> Result<RunResult, Fatal> {
        let settings = &self.settings;
        let shared = Shared::for_run(outputs.journal.clone(), resume);
        let in_flight = settings
            .concurrency
            .unwrap_or(crate::pipeline::limiter::AUTO_MAX);
        let (batch_tx, batch_rx) = mpsc::channel(in_flight.max(2));
        let (ev_tx, ev_rx) = mpsc::channel(4 * in_flight + 64);
        let Incremental { filter, recorder } = incremental.unwrap_or_default();
        let input = opened.input;
        let origin = input.origin.clone();
        let blank_lines = input.blank_counter();
        let collector = Collector::new(
            self.provider.clone(),
            outputs.reports,
            recorder,
            &input,
            settings,
            &shared,
        );
        let collector = start_collector(collector, ev_rx, &shared)?;
        let reader = Reader::new(
            self.provider.clone(),
            opened.mapper,
            settings.batch_size,
            &input,
            &shared,
        );
        let (reader, filter) = self.start_reading(reader, input, filter, batch_tx, &ev_tx)?;
        let counters = self.send(connection, batch_rx, ev_tx, &shared).await;
        let stages = Stages {
            reader,
            filter,
            collector,
        };
        let (read, collected) = self.join(stages, &shared).await?;
        let ended = Ended {
            collected,
            plan: read.plan,
            observed: read.observed,
            changed: origin
                .changed_while_read(identity)
                .map(|why| format!("{} {why}", self.input_name)),
            counters,
            blank_lines: blank_lines.load(Ordering::Relaxed),
        };
        Ok(self.finish(ended, &shared, &opened.failed_header))
    }

    /// Send every batch (a dry run only counts them). Returns the request counters.
    async fn send(
        &self,
        connection: &mut http::Connection,
        batches: mpsc::Receiver<Batch<P::Customer>>,
        events: mpsc::Sender<Event<P::Customer>>,
        shared: &Shared,
    ) -> Option<Arc<Counters>> {
        let Some(http) = connection.http.take() else {
            plan_only(batches, events).await;
            return None;
        };
        let options = SendOptions::of(&self.settings);
        let stage = SendStage::new(options, self.provider.clone(), http, events, shared);
        let counters = stage.counters();
        dispatch(Arc::new(stage), batches).await;
        Some(counters)
    }

    /// The reader's thread and, with `--skip-unchanged`, the state filter's between it and the
    /// sender.
    #[allow(clippy::type_complexity)]
    fn start_reading(
        &self,
        reader: Reader<P>,
        input: Input,
        filter_state: Option<(State, i64)>,
        batches: mpsc::Sender<Batch<P::Customer>>,
        events: &mpsc::Sender<Event<P::Customer>>,
    ) -> Result<
        (
            JoinHandle<Result<ReadStats, Box<ReadFailed>>>,
            Option<JoinHandle<()>>,
        ),
        Fatal,
    > {
        let settings = &self.settings;
        let (reader_tx, filter) = if settings.state.is_some() {
            let (tx, rx) = mpsc::channel(4);
            let filter = Filter {
                provider: self.provider.clone(),
                state: filter_state,
                batch_size: settings.batch_size,
            };
            let events = events.clone();
            let handle = std::thread::Builder::new()
                .name("custimport-state".into())
                .spawn(move || filter.run(rx, batches, events))
                .map_err(|e| Fatal::stopped(anyhow!("cannot start the state filter: {e}")))?;
            (tx, Some(handle))
        } else {
            (batches, None)
        };
        let events = events.clone();
        let reader = std::thread::Builder::new()
            .name("custimport-read".into())
            .spawn(move || reader.run(input, reader_tx, events))
            .map_err(|e| Fatal::stopped(anyhow!("cannot start the reader: {e}")))?;
        Ok((reader, filter))
    }

    /// Wait for the stages. A panic in one is a bug: it goes on unwinding here (exit 101,
    /// lock removed). A reading error stops the run; the rows read are all accounted for.
    async fn join(&self, stages: Stages, shared: &Shared) -> Result<(ReadStats, Collected), Fatal> {
        let read = join_thread(stages.reader, "reader").await?;
        if let Some(filter) = stages.filter {
            join_thread(filter, "state filter").await?;
        }
        let name = &self.input_name;
        let read = match read {
            Ok(st) => {
                if !st.ignored_keys.is_empty() {
                    let keys = st.ignored_keys.iter().map(|k| format!("{k:?}"));
                    messages::warn(format_args!(
                        "{name}: keys not mapped to any field, ignored: {}",
                        messages::list(keys, 2048)
                    ));
                }
                st
            }
            Err(failed) => {
                let ReadFailed { error, observed } = *failed;
                // Named once: in front, unless the message names the input itself.
                let said = if error.names_input() {
                    format!("reading stopped: {error}")
                } else {
                    format!("{name}: reading stopped: {error}")
                };
                shared.stop.fatal(said);
                ReadStats {
                    observed,
                    ..ReadStats::default()
                }
            }
        };
        let collected = join_thread(stages.collector, "collector").await?;
        Ok((read, collected))
    }
}

/// `--resume` of a stream: refused, since its content cannot be checked against the journal.
fn resume_of_stream(settings: &Settings) -> Fatal {
    Fatal::usage(anyhow!(
        "--resume: {} is a stream (standard input, a pipe or a device), whose content cannot be checked against the run being resumed; save the input to a file and import that file (a run from a file can be resumed)",
        crate::input::display_name(&settings.input.path)
    ))
}
