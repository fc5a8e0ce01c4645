//! Outbound delivery: render an action into a request, sign it, send it through the guarded
//! client, record the attempt, and retry on the action's schedule until delivered or dead.

mod actions;
mod fair_share;
mod heartbeat;
mod pipeline;
pub mod request;
pub mod retry;
mod secrets;
pub mod sign;
pub mod worker;
