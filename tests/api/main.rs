//! One integration-test binary (builds once): modules by capability, shared helpers.

mod api;
mod binary;
mod browser;
mod cli;
mod crash;
mod dedupe;
mod delivery;
mod helpers;
mod ingest;
mod pages;
mod receiver;
mod schedule;
mod scripts;
mod security;
mod ui;
mod verify;
