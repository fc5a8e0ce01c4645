//! One integration-test binary (builds once): modules by capability, shared helpers.

/// Runs each named `async fn name(app)` test twice: `mod sqlite` with a fresh SQLite store and
/// `mod postgres` with a fresh database on `SWITCHYARD_TEST_POSTGRES` (returning at once, after
/// `PgDatabase::create` said it is skipped, when unset). The calling module defines
/// `async fn spawn(database_url: Option<String>) -> App`.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::spawn(None).await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = crate::store_contract::PgDatabase::create().await else {
                        return;
                    };
                    super::$name(super::spawn(Some(db.url.clone())).await).await;
                }
            )*
        }
    };
}

mod allow_from;
mod api;
mod binary;
mod browser;
mod cli;
mod conditions;
mod conditions_order;
mod crash;
mod crash_batch;
mod dedupe;
mod delivery;
mod fairness;
mod flow;
mod hardening;
mod held;
mod helpers;
mod ingest;
mod leases;
mod limits;
mod mapping;
mod metrics;
mod modules;
mod pages;
mod pause;
mod presets;
mod read_snapshot;
mod receiver;
mod respond;
mod retention;
mod retry_after;
mod schedule;
mod scripts;
mod security;
mod shutdown;
mod store_contract;
mod store_faults;
mod templates;
mod throttle;
mod ui;
mod verify;
mod wakeups;
