//! Across runs: interrupted and killed runs resumed, the fix loop (fix failed.csv, import it
//! again), unattended runs.

mod cron;
mod fix_loop;
mod resume;
