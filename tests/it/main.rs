//! Integration tests: the `custimport` binary against the sandbox emulator on port 0.

mod env;
mod fix_loop;

mod adaptive;
mod bombs;
mod check;
mod cli;
mod config_show;
mod cron;
mod encodings;
mod hardening;
mod hostile;
mod hostile_server;
mod incremental;
mod inputs_hardening;
mod itnio;
mod nxlink;
mod ods_tables;
mod parity;
mod phones;
mod printing;
mod profiles;
mod props;
mod regional;
mod reliability;
mod resume;
mod retry_policy;
mod seats;
mod sheets;
mod state_file;
mod state_lock;
mod throttle;
mod transport;
mod validation;
mod xlsb_bombs;
