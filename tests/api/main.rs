//! One integration-test binary (builds once): modules by capability, shared helpers.

mod api;
mod binary;
mod browser;
mod cli;
mod crash;
mod dedupe;
mod delivery;
mod fairness;
mod hardening;
mod held;
mod helpers;
mod ingest;
mod leases;
mod limits;
mod metrics;
mod pages;
mod receiver;
mod retention;
mod schedule;
mod scripts;
mod security;
mod shutdown;
mod store_contract;
mod ui;
mod verify;
