//! The command line: usage errors, credentials, config files and saved jobs, check, secrets and the
//! report directory.

mod check;
mod cli;
mod config_show;
mod hardening;
mod profiles;
