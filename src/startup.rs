//! Builds the whole process: store, workers and HTTP server, bound to its own listener.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::Settings;
use crate::deliver::worker::DeliveryWorker;
use crate::engine::cache::RecipeCache;
use crate::engine::worker::EngineWorker;
use crate::ingest::HookState;
use crate::ingest::commit::GroupCommitter;
use crate::outbound::client::{OutboundPolicy, build_client};
use crate::retention::Pruner;
use crate::schedule::{Scheduler, TickContext};
use crate::script::ScriptEngine;
use crate::store::crypto::SecretKey;
use crate::store::{Store, Wakers};
use crate::web::state::AppState;

pub struct Application {
    port: u16,
    public_base: String,
    server: Server,
    setup_url: Option<String>,
    store: Arc<dyn Store>,
    shutdown: CancellationToken,
    shutdown_grace: Duration,
    workers: Vec<JoinHandle<()>>,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        crate::telemetry::install_crypto_provider();
        let secret_key = SecretKey::resolve(settings.secret_key.as_deref(), &settings.data_dir)?;
        let store = crate::store::open_with_key(
            settings.database_url.as_deref(),
            &settings.data_dir,
            settings.sqlite_sync,
            secret_key,
        )
        .await
        .context("cannot open the store")?;
        let scripts = ScriptEngine::new(settings.script_limits.clone());
        if let Some(dir) = &settings.recipes_dir {
            let provisioned = crate::provision::provision_dir(store.as_ref(), &scripts, dir)
                .await
                .with_context(|| format!("cannot provision recipes from {}", dir.display()))?;
            tracing::info!(count = provisioned.len(), dir = %dir.display(), "recipes provisioned");
        }

        let listener = TcpListener::bind(&settings.bind)
            .with_context(|| format!("cannot bind {}", settings.bind))?;
        let address = listener.local_addr()?;
        let public_base = settings.public_base(&address.to_string());

        let setup_token = setup_link(store.as_ref(), &public_base).await?;
        let setup_url = setup_token
            .as_ref()
            .map(|token| format!("{public_base}/setup?token={token}"));
        let shutdown = CancellationToken::new();
        let events_ready = Arc::new(Notify::new());
        let deliveries_ready = Arc::new(Notify::new());
        let cache = Arc::new(RecipeCache::new(scripts));
        let committer = GroupCommitter::start(store.clone(), events_ready.clone());
        let metrics = Arc::new(crate::telemetry::metrics::Metrics::new());

        let engine = EngineWorker::new(
            store.clone(),
            cache.clone(),
            settings.workers.clone(),
            deliveries_ready.clone(),
        )
        .with_metrics(metrics.clone());
        let policy = OutboundPolicy {
            allow_private_targets: settings.allow_private_targets,
            allow: settings.outbound_allow.clone(),
            lookup: None,
        };
        let deliverer =
            DeliveryWorker::new(store.clone(), policy.clone(), settings.workers.clone())
                .with_metrics(metrics.clone());
        let scheduler = Scheduler::new(TickContext {
            store: store.clone(),
            cache: cache.clone(),
            client: build_client(&policy),
            policy,
            owner: format!("scheduler-{}", crate::ids::new_id()),
            events_ready: events_ready.clone(),
            lease: settings.workers.lease,
            heartbeat: settings.workers.heartbeat(),
        });
        // Work committed by other processes on the same store wakes these workers too.
        let wakers = Wakers {
            events: events_ready.clone(),
            deliveries: deliveries_ready.clone(),
        };
        let wake_task = store.wake_on_commits(wakers, shutdown.clone()).await;
        let mut workers = vec![
            tokio::spawn(engine.run(events_ready.clone(), shutdown.clone())),
            tokio::spawn(deliverer.run(deliveries_ready.clone(), shutdown.clone())),
            tokio::spawn(scheduler.run(settings.workers.schedule_refresh, shutdown.clone())),
            tokio::spawn(
                Pruner::new(store.clone(), cache.clone(), settings.retention).run(shutdown.clone()),
            ),
        ];
        workers.extend(wake_task);

        let hooks = web::Data::new(HookState {
            store: store.clone(),
            cache: cache.clone(),
            committer: committer.clone(),
            metrics: metrics.clone(),
            deliveries_ready: deliveries_ready.clone(),
            body_limit: settings.body_limit,
            body_timeout: settings.body_timeout,
            trusted_proxies: settings.trusted_proxies.clone(),
        });
        let state = web::Data::new(AppState {
            settings,
            store: store.clone(),
            cache,
            committer,
            public_base: public_base.clone(),
            events_ready,
            deliveries_ready,
            setup_token: std::sync::Mutex::new(setup_token),
            metrics,
            login_throttle: Default::default(),
        });
        // Abuse limits: a rate per recipe's webhook, deadlines for a request's head (here)
        // and a webhook's body (in the handler); heads over 128 KiB get 431 from actix-http.
        let hook_limiter = web::Data::new(crate::ingest::rate_limit::HookLimiter::new(
            state.settings.hook_rate,
            state.settings.hook_burst,
        ));
        let header_timeout = state.settings.header_timeout;
        let shutdown_grace = state.settings.workers.shutdown_grace;
        let server = HttpServer::new(move || {
            App::new()
                .wrap(crate::web::security_headers())
                .wrap(tracing_actix_logger())
                .app_data(state.clone())
                .app_data(hooks.clone())
                .app_data(hook_limiter.clone())
                .configure(crate::web::routes)
                .default_service(web::to(crate::web::not_found))
        })
        .client_request_timeout(header_timeout)
        .client_disconnect_timeout(std::time::Duration::from_secs(1))
        .listen(listener)?
        // Signals are ours (`run_until_stopped`): HTTP and workers stop together, in the grace.
        .disable_signals()
        .shutdown_timeout(shutdown_grace.as_secs())
        .run();

        tracing::info!(%address, %public_base, "switchyard listening");
        Ok(Application {
            port: address.port(),
            public_base,
            server,
            setup_url,
            store,
            shutdown,
            shutdown_grace,
            workers,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The base third parties call: `SWITCHYARD_PUBLIC_URL` or the bound address.
    pub fn public_base(&self) -> &str {
        &self.public_base
    }

    /// The one-time setup link printed at start, while no admin account exists.
    pub fn setup_url(&self) -> Option<&str> {
        self.setup_url.as_deref()
    }

    pub fn store(&self) -> Arc<dyn Store> {
        self.store.clone()
    }

    /// Serves until SIGINT/SIGTERM (or the server stops), then stops within the shutdown
    /// grace: the HTTP server finishes the requests it has, workers finish or abandon what is in
    /// flight and give back their claims (`WorkerSettings::shutdown_grace`).
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let handle = self.server.handle();
        let mut server = tokio::spawn(self.server);
        let signalled = tokio::select! {
            _ = &mut server => false,
            signal = stop_signal() => {
                tracing::info!(signal, grace = ?self.shutdown_grace, "stopping");
                true
            }
        };
        self.shutdown.cancel();
        let stopped = async {
            if signalled {
                handle.stop(true).await;
            }
            let served = (&mut server).await;
            for worker in self.workers {
                let _ = worker.await;
            }
            served
        };
        match tokio::time::timeout(self.shutdown_grace, stopped).await {
            Ok(served) => {
                tracing::info!("switchyard stopped");
                Ok(served??)
            }
            Err(_) => {
                tracing::warn!(grace = ?self.shutdown_grace, "not stopped within the shutdown grace; exiting anyway");
                Ok(())
            }
        }
    }
}

/// The first SIGTERM or SIGINT, by name.
async fn stop_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => tokio::select! {
                _ = terminate.recv() => "SIGTERM",
                _ = tokio::signal::ctrl_c() => "SIGINT",
            },
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                let _ = tokio::signal::ctrl_c().await;
                "SIGINT"
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "SIGINT"
    }
}

fn tracing_actix_logger() -> actix_web::middleware::Logger {
    actix_web::middleware::Logger::new("%r %s %Dms").exclude("/healthz")
}

/// With no admin account yet, prints a one-time link that sets the admin password.
async fn setup_link(store: &dyn Store, public_base: &str) -> anyhow::Result<Option<String>> {
    if store.admin_exists().await? {
        return Ok(None);
    }
    let token = crate::ids::new_webhook_token();
    tracing::warn!(
        "no admin account yet: open {public_base}/setup?token={token} to set the admin password (the link works once)"
    );
    Ok(Some(token))
}
