//! Integration tests: the `custimport` binary against the sandbox emulator on port 0.

mod env;
mod props;

mod commands;
mod input;
mod providers;
mod runs;
mod send;
mod state;
