//! custimport: bulk-import customer lists into nxlink and itnio, with per-row reports.
//!
//! The engine is this library; `main.rs` only calls [`main`]. The flow of a row:
//! input → mapping → provider.prepare → batch → send (sign, retry) → provider.interpret →
//! journal and reports. Every input record ends in exactly one outcome.

pub mod cli;
pub mod config;
pub mod dry_run;
pub mod embedded;
pub mod exit;
pub mod http;
pub mod input;
pub mod journal;
pub mod mapping;
pub mod messages;
pub mod outcome;
pub mod outdir;
pub mod pipeline;
pub mod private_file;
pub mod progress;
pub mod provider;
pub mod report;
pub mod resume;
pub mod run;
#[cfg(feature = "sandbox")]
pub use custimport_sandbox as sandbox;
pub mod secret;
pub mod sign;
pub mod state;
pub mod stop;

mod app;

pub use app::main;
