//! Outbound delivery: render an action into a request, sign it, send it through the guarded
//! client, record the attempt, and retry on the action's schedule until delivered or dead.

mod cidr;
pub mod client;
mod fair_share;
mod guard;
mod heartbeat;
mod pipeline;
mod redact;
pub mod request;
pub mod retry;
pub mod sign;
pub mod worker;
