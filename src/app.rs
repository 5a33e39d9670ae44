//! The command-line front: parse arguments, set up logging and the runtime, run the chosen
//! command, print the summary, and turn the outcome into the documented exit code.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::FromArgMatches;

use crate::cli::{CheckProvider, Cli, Command, ConfigProvider};
use crate::config::{self, Settings};
use crate::exit::{Exit, Fatal};
use crate::report::Summary;
use crate::run;

/// Entry point of the binary.
pub fn main() -> ExitCode {
    install_panic_hook();
    let cmd = crate::help::command();
    let parsed = cmd
        .clone()
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m).map(|cli| (cli, m)));
    let (mut cli, matches) = match parsed {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                Exit::Usage.code() as u8
            } else {
                0
            });
        }
    };
    config::mark_command_line(&mut cli.common, &matches);
    // `-q` from the start: an error found while configuring is one line too.
    crate::messages::set_quiet(cli.common.quiet);
    let given = crate::rerun::given_options(&cmd, &matches);
    let code = match execute(cli, cmd, given) {
        Ok(exit) => exit,
        Err(f) => {
            crate::messages::error(&f);
            f.exit
        }
    };
    ExitCode::from(code.code() as u8)
}

/// A panic is a bug: say so on one line, with where it happened, where to report it and where
/// the run's journal is, so that `--resume` can continue. The panic's own message is shown only
/// when it is a fixed text (a formatted one could hold data or a secret). The exit code stays
/// the default one for a panic, 101.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let what = info
            .payload()
            .downcast_ref::<&'static str>()
            .map(|m| format!(" ({m})"))
            .unwrap_or_default();
        let resume = match crate::report::outdir::active_dir() {
            Some(dir) => format!(
                " The journal and reports of this run are in {0}: continue it with --resume --out {0}.",
                dir.display()
            ),
            None => String::new(),
        };
        crate::messages::always(format_args!(
            "custimport: internal error{at}{what}: this is a bug in custimport, not in your input or settings; please report it to the custimport maintainers with this line and the command you ran (without secrets).{resume}"
        ));
        let trace = std::backtrace::Backtrace::capture();
        if trace.status() == std::backtrace::BacktraceStatus::Captured {
            crate::messages::always(trace);
        }
    }));
}

fn runtime() -> Result<tokio::runtime::Runtime, Fatal> {
    build_runtime(tokio::runtime::Builder::new_multi_thread())
}

/// The import's runtime: one thread drives every request. The CPU-heavy stages (reading,
/// report writing) have their own threads; the async side only multiplexes sockets and
/// timers, which one thread does without the cross-thread wake-ups of a work-stealing pool.
fn import_runtime() -> Result<tokio::runtime::Runtime, Fatal> {
    build_runtime(tokio::runtime::Builder::new_current_thread())
}

fn build_runtime(mut builder: tokio::runtime::Builder) -> Result<tokio::runtime::Runtime, Fatal> {
    builder
        .enable_all()
        .build()
        .map_err(|e| Fatal::usage(anyhow::anyhow!("cannot start the async runtime: {e}")))
}

fn execute(cli: Cli, cmd: clap::Command, given: Vec<OsString>) -> Result<Exit, Fatal> {
    let env = config::process_env;
    match cli.command {
        Command::Completions { shell } => {
            let mut cmd = cmd;
            let mut text = Vec::new();
            clap_complete::generate(shell, &mut cmd, "custimport", &mut text);
            to_stdout(&text, "the completions")
        }
        Command::Man { subcommand } => {
            let text = crate::help::man_page(&cmd, subcommand.as_deref())?;
            to_stdout(&text, "the man page")
        }
        Command::Sandbox(a) => {
            init_tracing(false, 0);
            crate::embedded::serve(&a, &runtime()?)
        }
        Command::State(a) => {
            let path = config::state_for_command(&cli.common, &env)?;
            crate::state::command::run(a.action.as_ref(), &path, cli.common.json)
        }
        Command::Config(a) => {
            let entries = match &a.provider {
                None => None,
                Some(ConfigProvider::Nxlink(p)) => {
                    Some(config::show::nxlink(&p.as_import(), &cli.common, &env)?)
                }
                Some(ConfigProvider::Itnio(p)) => {
                    Some(config::show::itnio(&p.as_import(), &cli.common, &env)?)
                }
            };
            config::show::run(entries.as_deref(), &cli.common, &env)
        }
        Command::Check(a) => {
            init_tracing(cli.common.quiet, cli.common.verbose);
            let target = match &a.provider {
                CheckProvider::Nxlink(p) => {
                    config::nxlink_check(&p.as_import(), &cli.common, &env)?
                }
                CheckProvider::Itnio(p) => config::itnio_check(&p.as_import(), &cli.common, &env)?,
            };
            crate::check::run(target, &runtime()?)
        }
        Command::Nxlink(a) => import(config::nxlink_settings(&a, &cli.common, &env)?, &given),
        Command::Itnio(a) => import(config::itnio_settings(&a, &cli.common, &env)?, &given),
    }
}

/// Print generated text; a closed pipe ends it quietly.
fn to_stdout(text: &[u8], what: &str) -> Result<Exit, Fatal> {
    crate::messages::stdout(text)
        .map_err(|e| Fatal::usage(anyhow::anyhow!("cannot write {what}: {e}")))?;
    Ok(Exit::Success)
}

/// An import: the run, then what it tells. Without `-q`: the reason it stopped, the summary
/// line and, after a signal, the command that continues it as the last line. With `-q`: nothing
/// on exit 0, else the summary line alone. The metrics file is written in every case but a
/// dry run, also when the run could not start.
fn import(settings: Settings, given: &[OsString]) -> Result<Exit, Fatal> {
    init_tracing(settings.quiet, settings.verbose);
    crate::messages::set_quiet(settings.quiet);
    let json = settings.json;
    let quiet = settings.quiet;
    let metrics = (!settings.dry_run())
        .then(|| settings.metrics_file.clone())
        .flatten()
        .map(|path| (path, settings.provider.name(), settings.profile.clone()));
    let dry_run = settings.dry_run();
    if let Some(line) = crate::rerun::command(given, &settings.out_dir, &settings.input.path) {
        crate::rerun::set(line);
    }
    let result = match import_runtime()?.block_on(run::import(settings)) {
        Ok(r) => r,
        Err(f) => {
            if let Some((path, provider, profile)) = &metrics {
                let m = (*provider, profile.as_deref());
                write_metrics(path, m, &Summary::default(), f.exit);
            }
            return Err(f);
        }
    };
    if let Some((path, provider, profile)) = &metrics {
        let m = (*provider, profile.as_deref());
        write_metrics(path, m, &result.summary, result.exit);
    }
    let signalled = matches!(result.exit, Exit::Interrupted | Exit::Terminated);
    let resume = crate::rerun::line().filter(|_| signalled && !dry_run);
    if quiet {
        if result.exit != Exit::Success {
            crate::messages::always(quiet_line(&result, resume));
        }
    } else {
        if let Some(msg) = &result.stopped {
            crate::messages::error(msg);
        }
        crate::messages::note(summary_line(&result.summary));
        if let Some(line) = resume {
            crate::messages::note("custimport: continue the run with:");
            crate::messages::note(line);
        }
    }
    if json {
        let mut text = serde_json::to_vec(&result.summary).unwrap_or_default();
        text.push(b'\n');
        let _ = crate::messages::stdout(&text);
    }
    Ok(result.exit)
}

/// `-q`'s one line for a run that did not end with exit 0: the summary line, with why the run
/// stopped and the command that continues it, if any.
fn quiet_line(result: &run::RunResult, resume: Option<&str>) -> String {
    let mut line = summary_body(&result.summary);
    if let Some(why) = &result.stopped {
        line.push_str("; stopped: ");
        line.push_str(&why.replace(['\n', '\r'], " "));
    }
    if let Some(cmd) = resume {
        line.push_str("; continue with: ");
        line.push_str(cmd);
    }
    line.push_str(&format!("; reports in {}", result.summary.out_dir));
    line
}

/// The metrics file (`--metrics-file`); failing to write it is said even with `-q`, since
/// nothing else would tell.
/// `labels`: the provider, and the profile when one was chosen.
fn write_metrics(
    path: &std::path::Path,
    (provider, profile): (&str, Option<&str>),
    s: &Summary,
    exit: Exit,
) {
    let ended = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    let m = crate::metrics::RunMetrics {
        provider,
        profile,
        rows: [
            s.succeeded,
            s.rejected,
            s.failed,
            s.unknown,
            s.pending,
            s.unchanged,
        ],
        requests: s.requests,
        retries: s.retries,
        duration_secs: s.elapsed_secs,
        exit_code: exit.code(),
        ended,
    };
    if let Err(e) = m.write(path) {
        crate::messages::error(format_args!(
            "cannot write the metrics file {}: {e}",
            path.display()
        ));
    }
}

/// The final one-line summary on stderr.
pub(crate) fn summary_line(s: &Summary) -> String {
    format!("{}; reports in {}", summary_body(s), s.out_dir)
}

/// The summary line up to the report directory: the counts, the requests and the most frequent
/// codes.
fn summary_body(s: &Summary) -> String {
    // With --skip-unchanged, "N unchanged" follows the rows that were (or would be) sent.
    let unchanged = if s.unchanged > 0 {
        format!(", {} unchanged", s.unchanged)
    } else {
        String::new()
    };
    let mut line = if s.dry_run {
        format!(
            "custimport: dry run of {} rows: {} valid{unchanged}, {} rejected; would send {}{} request{}",
            s.total,
            s.valid.unwrap_or_default(),
            s.rejected,
            if s.unchanged > 0 {
                format!("{} rows in ", s.valid.unwrap_or_default())
            } else {
                String::new()
            },
            s.planned_requests.unwrap_or_default(),
            if s.planned_requests == Some(1) {
                ""
            } else {
                "s"
            }
        )
    } else {
        format!(
            "custimport: {} rows: {} succeeded{unchanged}, {} rejected, {} failed, {} unknown, {} pending; {} request{} ({} retries) in {:.1} s",
            s.total, s.succeeded, s.rejected, s.failed, s.unknown, s.pending, s.requests, if s.requests == 1 { "" } else { "s" }, s.retries, s.elapsed_secs
        )
    };
    let top = s.by_code.top(3);
    if !top.is_empty() {
        let codes: Vec<String> = top
            .iter()
            .map(|(code, n)| format!("{} {n}", crate::provider::answer::escape_control(code)))
            .collect();
        line.push_str("; most frequent codes: ");
        line.push_str(&codes.join(", "));
    }
    line
}

fn init_tracing(quiet: bool, verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "custimport=info",
        (false, 2) => "custimport=debug",
        _ => "custimport=trace,reqwest=debug",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .try_init();
}
