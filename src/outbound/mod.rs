//! Outbound HTTP shared by the delivery worker and the schedule's polls: the hardened client
//! (`client`) with its SSRF guard, `Retry-After` parsing, and redaction of secret values from
//! what an attempt or a poll records.

mod cidr;
pub mod client;
mod guard;
pub mod redact;
pub mod retry_after;

/// The `User-Agent` of every outbound call (actions and polls).
pub const USER_AGENT: &str = concat!("Switchyard/", env!("CARGO_PKG_VERSION"));
