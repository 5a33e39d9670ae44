//! Retrying, as pure code in two parts: `classify` reads what one attempt's reply means for
//! its (sub-)batch (rows, a refusal, a retryable failure, a stop), and [`RetryPolicy`] decides
//! what follows a retryable failure (wait and go again, give up, or stop the run). The sender
//! (`send/attempt.rs`) only waits, signs, posts and carries out what these return.

mod classify;
mod policy;

pub(crate) use classify::{classify, Cause, Retry, Step};
pub(crate) use policy::{Attempts, Decision, Facts, RetryPolicy};
