//! Switchyard: durable webhooks in, filtered and transformed by Rhai scripts, retried signed
//! HTTP actions out. Modules follow the pipeline: ingest → store → engine (scripts) → deliver.

pub mod cli;
pub mod config;
pub mod deliver;
pub mod engine;
pub mod ids;
pub mod ingest;
pub mod manage;
pub mod outbound;
pub mod provision;
pub mod recipe;
pub mod retention;
pub mod schedule;
pub mod script;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod web;
