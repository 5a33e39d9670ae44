//! custimport: bulk-import customer lists into nxlink and itnio, with per-row reports.
//!
//! The engine is this library; `main.rs` only calls [`main`]. The flow of a row:
//! input → mapping → provider.prepare → batch → send (sign, retry) → provider.interpret →
//! journal and reports. Every input record ends in exactly one outcome.

#![warn(unreachable_pub)]

mod app;
mod check;
mod cli;
mod config;
mod embedded;
mod exit;
#[cfg(test)]
mod fixtures;
mod help;
mod http;
mod journal;
mod mapping;
mod messages;
mod metrics;
mod outcome;
mod pipeline;
mod private_file;
mod progress;
mod report;
mod rerun;
mod resume;
mod run;
mod secret;
mod sign;
mod state;
mod stop;

/// The command line's entry point: parse the arguments, run the command, return its exit
/// code. `main.rs` calls only this.
pub use app::main;

/// Reading the input files (CSV, TSV, JSONL, spreadsheets) into records.
pub mod input;

/// The two providers as pure code: fields, validation, request bodies, signatures, answers.
pub mod provider;

/// What the benchmarks (`benches/provider.rs`) time, from modules that are otherwise private:
/// the mapping plan, the success report and the journal. Not an interface to build on.
#[doc(hidden)]
pub mod bench {
    pub use crate::journal::{Header, Journal, VERSION};
    pub use crate::mapping::{parse_maps, Plan, Schema};
    pub use crate::outcome::Outcome;
    pub use crate::report::SuccessWriter;
}
