//! Integration tests: the `custimport` binary against the sandbox emulator on port 0.

mod env;

mod cli;
mod itnio;
mod nxlink;
mod reliability;
mod resume;
