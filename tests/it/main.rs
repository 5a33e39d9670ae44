//! Integration tests: the `custimport` binary against the sandbox emulator on port 0.

mod env;

mod cli;
mod hardening;
mod hostile;
mod hostile_server;
mod incremental;
mod inputs_hardening;
mod itnio;
mod nxlink;
mod parity;
mod phones;
mod props;
mod regional;
mod reliability;
mod resume;
mod sheets;
mod transport;
