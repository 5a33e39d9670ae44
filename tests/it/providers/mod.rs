//! Each provider end to end: payloads, reports, outcomes, local validation and its parity with the
//! sandbox, phone numbers.

mod itnio;
mod nxlink;
mod parity;
mod phones;
mod validation;
