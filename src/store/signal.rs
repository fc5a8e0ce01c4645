//! Work signals between processes sharing one PostgreSQL store. A transaction that makes work
//! due (new events, new or put-back deliveries) sends `NOTIFY` on the work's channel inside the
//! transaction, so PostgreSQL delivers it at commit and never for a rollback; every `serve`
//! process LISTENs on both channels and wakes its own worker. Without this, work accepted by one
//! process waited for another's idle poll. SQLite sends nothing (its processes share no signal;
//! the idle poll stays their only cross-process wake-up).

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::{PgListener, PgPoolOptions};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::StoreError;
use super::ledger::{On, Stmt};

/// How long one connect of the listener may take before it counts as failed.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The pause between reconnects while PostgreSQL cannot be reached.
const RECONNECT_PAUSE: Duration = Duration::from_secs(1);

/// A kind of work the workers wait for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Work {
    /// Events whose run is due (the engine worker).
    Events,
    /// Deliveries whose attempt is due (the delivery worker).
    Deliveries,
}

impl Work {
    /// The PostgreSQL notification channel.
    pub(crate) const fn channel(self) -> &'static str {
        match self {
            Work::Events => "switchyard_events",
            Work::Deliveries => "switchyard_deliveries",
        }
    }
}

/// The in-process wake-ups of one `serve` process's workers (what `EngineWorker::run` and
/// `DeliveryWorker::run` wait on besides their idle poll).
#[derive(Clone)]
pub struct Wakers {
    /// Woken when events may be due.
    pub events: Arc<Notify>,
    /// Woken when deliveries may be due.
    pub deliveries: Arc<Notify>,
}

impl Wakers {
    /// Each `Notify` has one waiter (the process's engine loop, its delivery loop): a wake-up
    /// that finds it busy is kept as a permit, so its next wait returns at once.
    fn wake(&self, work: Work) {
        match work {
            Work::Events => self.events.notify_one(),
            Work::Deliveries => self.deliveries.notify_one(),
        }
    }

    fn wake_all(&self) {
        self.wake(Work::Events);
        self.wake(Work::Deliveries);
    }
}

/// Tells other processes that `count` items of `work` became due when the statement's
/// transaction commits (`on` a transaction), or at once (`on` a pool, autocommit). Nothing when
/// `count` is 0, and nothing on SQLite. One statement; PostgreSQL folds identical notifications
/// of one transaction into one, so a second call in the same transaction costs no wake-up.
/// Cost to know: PostgreSQL serialises the commits of notifying transactions (a lock on its
/// notification queue, held until the commit is done), hence one call per transaction.
/// Errors: in a transaction, the statement's (the transaction fails with it). On a pool the
/// change announced is committed already, so a failed notification is only logged: the other
/// processes find the work at their idle poll.
pub(crate) async fn announce(on: On<'_>, work: Work, count: usize) -> Result<(), StoreError> {
    if count == 0 || matches!(on, On::Sqlite(_) | On::SqlitePool(_)) {
        return Ok(());
    }
    let committed = matches!(on, On::PgPool(_));
    let sent = Stmt::new("SELECT pg_notify($1, '')")
        .bind(work.channel())
        .execute(on)
        .await;
    match sent {
        Err(error) if committed => {
            tracing::warn!(%error, channel = work.channel(), "could not tell other processes about committed work; they find it at their idle poll");
            Ok(())
        }
        sent => sent.map(drop),
    }
}

/// Starts listening on both channels through a connection of its own (not one of `pool`'s:
/// it is held for the process's life) and returns the task that wakes `wakers` on each
/// notification until `shutdown`. The first `LISTEN` is in place when this returns, unless
/// PostgreSQL could not be reached: then the task keeps trying (once a second) and the workers
/// rely on their idle poll meanwhile; the same after a lost connection, logged once per loss.
/// Notifications sent while the connection was down are lost, so each reconnect wakes both
/// workers once to look for what was announced meanwhile.
pub(crate) async fn listen(
    pool: &PgPool,
    wakers: Wakers,
    shutdown: CancellationToken,
) -> JoinHandle<()> {
    let own = PgPoolOptions::new()
        .max_connections(1)
        .max_lifetime(None)
        .idle_timeout(None)
        .acquire_timeout(CONNECT_TIMEOUT)
        .connect_lazy_with((*pool.connect_options()).clone());
    let first = subscribe(&own).await;
    if let Err(error) = &first {
        tracing::warn!(%error, "cannot listen for other processes' work yet; workers use their idle poll until then");
    }
    tokio::spawn(run(own, first.ok(), wakers, shutdown))
}

async fn subscribe(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.ignore_pool_close_event(true);
    listener
        .listen_all([Work::Events.channel(), Work::Deliveries.channel()])
        .await?;
    Ok(listener)
}

async fn run(
    pool: PgPool,
    mut listener: Option<PgListener>,
    wakers: Wakers,
    shutdown: CancellationToken,
) {
    loop {
        let Some(active) = listener.as_mut() else {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(RECONNECT_PAUSE) => {}
            }
            if let Ok(back) = subscribe(&pool).await {
                tracing::info!("listening for other processes' work again");
                listener = Some(back);
                wakers.wake_all();
            }
            continue;
        };
        let received = tokio::select! {
            _ = shutdown.cancelled() => return,
            received = active.try_recv() => received,
        };
        match received {
            Ok(Some(notification)) => match notification.channel() {
                channel if channel == Work::Events.channel() => wakers.wake(Work::Events),
                channel if channel == Work::Deliveries.channel() => wakers.wake(Work::Deliveries),
                _ => {}
            },
            // Lost, and listening again on a new connection already.
            Ok(None) => {
                tracing::warn!(
                    "the connection listening for other processes' work was lost and is back; \
                     waking the workers for work announced meanwhile"
                );
                wakers.wake_all();
            }
            Err(error) => {
                tracing::warn!(%error, "lost the connection listening for other processes' work; workers use their idle poll until it is back");
                listener = None;
            }
        }
    }
}
