//! Sending: the defaults against hidden limits, throttling, transport rules, hostile servers,
//! faults and retries, refused seats.

mod adaptive;
mod hostile_server;
mod reliability;
mod retry_policy;
mod seats;
mod throttle;
mod transport;
