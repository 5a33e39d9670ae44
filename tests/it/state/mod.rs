//! Incremental imports and the state database: what each run sends, the file opened safely, a state
//! another process holds.

mod incremental;
mod state_file;
mod state_lock;
