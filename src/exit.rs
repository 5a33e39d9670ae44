//! The process exit codes of the contract, as one small enum, and the error type that carries
//! one of them from deep inside the engine to `main`.

use std::fmt;

/// Exit codes documented in the README and `--help`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    /// Every row succeeded (dry run: every row valid).
    Success = 0,
    /// The run completed, and some rows were rejected, failed or unknown.
    Incomplete = 1,
    /// Usage, config or input error found before anything was sent.
    Usage = 2,
    /// The run stopped early (credentials refused, clock skew, --max-failures, locked reports, ...).
    Stopped = 3,
    /// Interrupted by SIGINT.
    Interrupted = 130,
    /// Terminated by SIGTERM.
    Terminated = 143,
}

impl Exit {
    pub(crate) fn code(self) -> i32 {
        self as i32
    }
}

/// A run-fatal error: printed once (with its cause chain) and turned into an exit code.
#[derive(Debug)]
pub(crate) struct Fatal {
    pub exit: Exit,
    pub error: anyhow::Error,
}

impl Fatal {
    pub(crate) fn usage(error: impl Into<anyhow::Error>) -> Fatal {
        Fatal {
            exit: Exit::Usage,
            error: error.into(),
        }
    }
    pub(crate) fn stopped(error: impl Into<anyhow::Error>) -> Fatal {
        Fatal {
            exit: Exit::Stopped,
            error: error.into(),
        }
    }
}

impl fmt::Display for Fatal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#}", self.error)
    }
}

impl std::error::Error for Fatal {}

/// Shorthand: turn any error into a usage error (exit 2).
pub(crate) trait UsageContext<T> {
    fn usage(self) -> Result<T, Fatal>;
}

impl<T, E: Into<anyhow::Error>> UsageContext<T> for Result<T, E> {
    fn usage(self) -> Result<T, Fatal> {
        self.map_err(Fatal::usage)
    }
}

#[cfg(test)]
mod tests;
