//! `custimport state`: what the incremental-import state remembers per scope, `state path`,
//! and `state forget` of a scope or of an itnio job (confirmed on a terminal, or `--yes`).
//!
//! Invariant: nothing is forgotten without a confirmation: without a terminal to ask on and
//! without `--yes`, `forget` refuses (exit 2) and the state is left as it was.

use std::io::{BufRead, IsTerminal};
use std::path::Path;

use anyhow::anyhow;

use super::{ScopeInfo, State, StateError};
use crate::cli::{ForgetArgs, StateAction};
use crate::exit::{Exit, Fatal};
use crate::provider::itnio::ITNIO;
use crate::provider::spec_named;

fn fatal(e: StateError) -> Fatal {
    Fatal::usage(anyhow!("{e}"))
}

/// Run `custimport state [ACTION]` on the database at `path`.
pub(crate) fn run(action: Option<&StateAction>, path: &Path, json: bool) -> Result<Exit, Fatal> {
    match action {
        Some(StateAction::Path) => {
            crate::messages::stdout(format!("{}\n", path.display()).as_bytes())
                .map_err(|e| Fatal::usage(anyhow!("cannot write to standard output: {e}")))?;
            Ok(Exit::Success)
        }
        None => list(path, json),
        Some(StateAction::Forget(args)) => forget(path, args),
    }
}

fn list(path: &Path, json: bool) -> Result<Exit, Fatal> {
    let scopes = match State::open_existing(path).map_err(fatal)? {
        Some(mut state) => {
            // Fold in what runs recorded (a killed run's outcomes too), so counts are current;
            // a state another process holds is listed as it is, after a short wait.
            state.set_busy_timeout(std::time::Duration::from_secs(2));
            match state.merge() {
                Ok(_) => {}
                Err(e) if e.is_busy() => crate::messages::note(
                    "custimport: the state is locked by another process; rows of runs not merged into it yet are not counted",
                ),
                Err(e) => return Err(fatal(e)),
            }
            state.scopes().map_err(fatal)?
        }
        None => vec![],
    };
    let text = if json {
        let v = serde_json::json!({ "path": path.display().to_string(), "scopes": scopes });
        format!("{v}\n")
    } else {
        table(path, &scopes)
    };
    crate::messages::stdout(text.as_bytes())
        .map_err(|e| Fatal::usage(anyhow!("cannot write to standard output: {e}")))?;
    Ok(Exit::Success)
}

/// UTC `YYYY-MM-DD HH:MM:SS` of a unix time.
fn utc(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|d| {
            d.format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute]:[second]"
            ))
            .ok()
        })
        .unwrap_or_else(|| t.to_string())
}

/// Text from the database (or a path), with control characters escaped: whoever can write
/// the database cannot move the cursor or rewrite the terminal.
fn esc(s: &str) -> String {
    crate::provider::answer::escape_control(s).into_owned()
}

/// The human listing: one line per scope.
pub(crate) fn table(path: &Path, scopes: &[ScopeInfo]) -> String {
    let mut s = format!("state: {}\n", esc(&path.display().to_string()));
    if scopes.is_empty() {
        s.push_str("nothing remembered yet (runs with --skip-unchanged fill it)\n");
        return s;
    }
    let header = [
        "scope",
        "provider",
        "endpoint",
        "account",
        "tenant",
        "app",
        "job",
        "rows",
        "last run (UTC)",
    ];
    let opt = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    let lines: Vec<[String; 9]> = scopes
        .iter()
        .map(|x| {
            [
                x.id.to_string(),
                esc(&x.spec.provider),
                esc(&x.spec.endpoint),
                esc(&x.spec.account),
                opt(x.spec.tenant.map(|t| t.to_string())),
                esc(&x.spec.app),
                opt(x.spec.job.map(|j| j.to_string())),
                x.rows.to_string(),
                utc(x.last_run_at),
            ]
        })
        .collect();
    let mut width = header.map(|h| h.chars().count());
    for l in &lines {
        for (w, c) in width.iter_mut().zip(l) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut row = |cells: &[&str]| {
        let mut line = String::new();
        for (i, (c, w)) in cells.iter().zip(width).enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            // Numbers right-aligned, text left-aligned.
            if matches!(i, 0 | 7) {
                line.push_str(&format!("{c:>w$}"));
            } else {
                line.push_str(&format!("{c:<w$}"));
            }
        }
        s.push_str(line.trim_end());
        s.push('\n');
    };
    row(&header);
    for l in &lines {
        let cells: Vec<&str> = l.iter().map(String::as_str).collect();
        row(&cells);
    }
    s
}

fn forget(path: &Path, args: &ForgetArgs) -> Result<Exit, Fatal> {
    let Some(mut state) = State::open_existing(path).map_err(fatal)? else {
        return Err(Fatal::usage(anyhow!(
            "no state database at {}: nothing to forget",
            path.display()
        )));
    };
    state.merge().map_err(fatal)?;
    let all = state.scopes().map_err(fatal)?;
    let mut chosen: Vec<&ScopeInfo> = vec![];
    for id in &args.scopes {
        let Some(s) = all.iter().find(|s| s.id == *id) else {
            return Err(Fatal::usage(anyhow!(
                "no scope {id} in {} (see `custimport state`)",
                path.display()
            )));
        };
        chosen.push(s);
    }
    for job in &args.job {
        let of_job: Vec<&ScopeInfo> = all
            .iter()
            .filter(|s| spec_named(&s.spec.provider) == Some(&ITNIO) && s.spec.job == Some(*job))
            .collect();
        if of_job.is_empty() {
            return Err(Fatal::usage(anyhow!(
                "no {} scope of job {job} in {} (see `custimport state`)",
                ITNIO.name,
                path.display()
            )));
        }
        chosen.extend(of_job);
    }
    chosen.sort_by_key(|s| s.id);
    chosen.dedup_by_key(|s| s.id);
    let rows: u64 = chosen.iter().map(|s| s.rows).sum();
    let listing = table(
        path,
        &chosen.iter().map(|s| (*s).clone()).collect::<Vec<_>>(),
    );
    if !args.yes {
        if !std::io::stdin().is_terminal() {
            return Err(Fatal::usage(anyhow!(
                "not forgetting without confirmation: standard input is not a terminal; add --yes"
            )));
        }
        crate::messages::prompt(format_args!(
            "{listing}Forget these {} scope(s) and the {rows} row(s) they remember? The next --skip-unchanged run sends those rows again. [y/N] ",
            chosen.len()
        ));
        let mut answer = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut answer)
            .map_err(|e| Fatal::usage(anyhow!("cannot read the answer: {e}")))?;
        if !matches!(answer.trim().to_lowercase().as_str(), "y" | "yes") {
            crate::messages::always("nothing forgotten");
            return Ok(Exit::Incomplete);
        }
    }
    let ids: Vec<i64> = chosen.iter().map(|s| s.id).collect();
    let removed = state.forget(&ids).map_err(fatal)?;
    let names: Vec<String> = ids.iter().map(i64::to_string).collect();
    let said = format!(
        "forgot scope{} {} ({removed} row{})\n",
        if ids.len() == 1 { "" } else { "s" },
        names.join(", "),
        if removed == 1 { "" } else { "s" }
    );
    let _ = crate::messages::stdout(said.as_bytes());
    Ok(Exit::Success)
}
