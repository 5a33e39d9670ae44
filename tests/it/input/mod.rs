//! Reading inputs: workbooks and their bombs, encodings, regional exports, files that try to fool
//! the run, what is printed of their text.

mod bombs;
mod encodings;
mod error_names;
mod hostile;
mod inputs_hardening;
mod jsonl_reports;
mod ods_tables;
mod printing;
mod regional;
mod sheets;
mod xlsb_bombs;
