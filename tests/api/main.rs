//! One integration-test binary (builds once): modules by capability, shared helpers.

mod api;
mod binary;
mod browser;
mod cli;
mod crash;
mod dedupe;
mod delivery;
mod hardening;
mod helpers;
mod ingest;
mod limits;
mod metrics;
mod pages;
mod receiver;
mod retention;
mod schedule;
mod scripts;
mod security;
mod store_contract;
mod templates;
mod ui;
mod verify;
