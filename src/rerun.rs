//! The command that continues an interrupted run: the program and every option given on the
//! command line, as given (paths made absolute: `--config`, `--state`, `--metrics-file`), then
//! `--resume --out DIR INPUT` (absolute paths), shell-quoted, so that it can be pasted as is in
//! any directory. Printed as the last line after SIGINT/SIGTERM.
//!
//! Invariant: it holds only what was on the command line (secrets are never accepted there);
//! credentials still come from the environment or the config file.

use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::sync::OnceLock;

use clap::parser::ValueSource;
use clap::{ArgAction, ArgMatches, Command, ValueHint};

/// The line, once the run knows its report directory (for the second signal's exit).
static LINE: OnceLock<String> = OnceLock::new();

/// Options of the command line that `--resume --out DIR INPUT` replaces.
const REPLACED: [&str; 4] = ["input", "out", "resume", "dry_run"];

/// The program and the options given on the command line for subcommand `name` (`cmd` built),
/// without those the continuing command sets itself.
pub(crate) fn given_options(cmd: &Command, matches: &ArgMatches) -> Vec<OsString> {
    let mut words = vec![std::env::args_os()
        .next()
        .unwrap_or_else(|| OsString::from("custimport"))];
    let Some((name, sub)) = matches.subcommand() else {
        return words;
    };
    let Some(sc) = cmd.find_subcommand(name) else {
        return words;
    };
    words.push(OsString::from(name));
    for arg in sc.get_arguments() {
        let id = arg.get_id().as_str();
        let (Some(long), false) = (arg.get_long(), REPLACED.contains(&id)) else {
            continue;
        };
        if sub.value_source(id) != Some(ValueSource::CommandLine) {
            continue;
        }
        let flag = OsString::from(format!("--{long}"));
        match arg.get_action() {
            ArgAction::SetTrue => words.push(flag),
            ArgAction::Count => {
                let n = sub.get_count(id);
                words.extend((0..n).map(|_| flag.clone()));
            }
            ArgAction::Set | ArgAction::Append => {
                let path = matches!(
                    arg.get_value_hint(),
                    ValueHint::FilePath | ValueHint::DirPath | ValueHint::AnyPath
                );
                for value in sub.get_raw(id).into_iter().flatten() {
                    // A path is made absolute: the line works from any directory.
                    let absolute = path
                        .then(|| std::path::absolute(value).ok())
                        .flatten()
                        .map(OsString::from);
                    words.extend(option(long, absolute.as_deref().unwrap_or(value)));
                }
            }
            _ => {}
        }
    }
    words
}

/// `--long VALUE`, or `--long=VALUE` for a value that starts with `-`.
fn option(long: &str, value: &OsStr) -> Vec<OsString> {
    if value.as_encoded_bytes().first() == Some(&b'-') {
        let mut joined = OsString::from(format!("--{long}="));
        joined.push(value);
        vec![joined]
    } else {
        vec![OsString::from(format!("--{long}")), value.to_owned()]
    }
}

/// The whole command: `given` then `--resume --out DIR INPUT`, shell-quoted. `None` for a
/// stream (standard input cannot be resumed) or a word that cannot be quoted.
pub(crate) fn command(given: &[OsString], out: &Path, input: &Path) -> Option<String> {
    if crate::input::is_stream_path(input) {
        return None;
    }
    let out = std::path::absolute(out).ok()?;
    let input = std::path::absolute(input).ok()?;
    let mut words: Vec<&OsStr> = given.iter().map(OsString::as_os_str).collect();
    words.extend([
        OsStr::new("--resume"),
        OsStr::new("--out"),
        out.as_os_str(),
        input.as_os_str(),
    ]);
    let quoted = shlex::bytes::try_join(words.iter().map(|w| w.as_encoded_bytes())).ok()?;
    String::from_utf8(quoted).ok()
}

/// Remember the line for this run.
pub(crate) fn set(line: String) {
    let _ = LINE.set(line);
}

/// The line of this run, if known.
pub(crate) fn line() -> Option<&'static str> {
    LINE.get().map(String::as_str)
}

#[cfg(test)]
mod tests;
