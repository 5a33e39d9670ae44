//! A secret value (an access secret, an api secret): usable through [`Secret::expose`], never
//! printed. Its own module so that the providers, which sign with it, need nothing of the
//! configuration that reads it.
//!
//! Invariant: `Debug` and `Display` are redacted, so no log line, error or panic message can
//! show a secret by formatting a value that holds one.

use std::fmt;

use serde::{Deserialize, Deserializer};

/// A secret value: usable through [`Secret::expose`], never printed.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

#[cfg(test)]
mod tests;
