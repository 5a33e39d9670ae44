//! The command-line front: parse arguments, set up logging and the runtime, run the chosen
//! command, print the summary, and turn the outcome into the documented exit code.

use std::io::Write;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use crate::cli::{Cli, Command};
use crate::config::{self, Settings};
use crate::exit::{Exit, Fatal};
use crate::report::Summary;
use crate::run;

/// Entry point of the binary.
pub fn main() -> ExitCode {
    install_panic_hook();
    let cli = match Cli::try_parse() {
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
    let code = match execute(cli) {
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
        let resume = match crate::outdir::active_dir() {
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

fn execute(cli: Cli) -> Result<Exit, Fatal> {
    let env = config::process_env;
    match cli.command {
        Command::Completions { shell } => {
            let mut cmd = Cli::command();
            clap_complete::generate(shell, &mut cmd, "custimport", &mut std::io::stdout());
            Ok(Exit::Success)
        }
        Command::Man => {
            let man = clap_mangen::Man::new(Cli::command());
            let mut out = std::io::stdout();
            man.render(&mut out)
                .and_then(|()| out.flush())
                .map_err(|e| Fatal::usage(anyhow::anyhow!("cannot write the man page: {e}")))?;
            Ok(Exit::Success)
        }
        Command::Sandbox(a) => {
            init_tracing(false, 0);
            crate::embedded::serve(&a, &runtime()?)
        }
        Command::State(a) => {
            let (file, _) = config::load_file(cli.common.config.as_deref(), &env)?;
            let path =
                config::state_path(cli.common.state.as_deref(), file.state.as_deref(), &env)?;
            crate::state::command::run(a.action.as_ref(), &path, cli.common.json)
        }
        Command::Nxlink(a) => import(config::nxlink_settings(&a, &cli.common, &env)?),
        Command::Itnio(a) => import(config::itnio_settings(&a, &cli.common, &env)?),
    }
}

fn import(settings: Settings) -> Result<Exit, Fatal> {
    init_tracing(settings.quiet, settings.verbose);
    crate::messages::set_quiet(settings.quiet);
    let json = settings.json;
    let result = import_runtime()?.block_on(run::import(settings))?;
    if let Some(msg) = &result.stopped {
        crate::messages::error(msg);
    }
    crate::messages::note(summary_line(&result.summary));
    if json {
        let mut out = std::io::stdout().lock();
        let _ = serde_json::to_writer(&mut out, &result.summary);
        let _ = writeln!(out);
    }
    Ok(result.exit)
}

/// The final one-line summary on stderr.
pub fn summary_line(s: &Summary) -> String {
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
    line.push_str(&format!("; reports in {}", s.out_dir));
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
