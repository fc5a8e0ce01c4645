//! Schedules across daylight-saving changes, driven by a hand-set clock through the changed
//! hours: the timer and the catch-up after a restart run exactly the ticks the rules name, each
//! once, however many schedulers share the store. On SQLite, and PostgreSQL when
//! `SWITCHYARD_TEST_POSTGRES` is set.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use switchyard::engine::cache::RecipeCache;
use switchyard::outbound::client::{OutboundPolicy, build_client};
use switchyard::provision::import_source;
use switchyard::recipe::parse_cron;
use switchyard::schedule::clock::{Clock, ManualClock};
use switchyard::schedule::tick::TickSchedule;
use switchyard::schedule::{Scheduler, TickContext};
use switchyard::script::{ScriptEngine, ScriptLimits};
use switchyard::store::{Store, SyncMode};
use tempfile::TempDir;
use tokio::sync::Notify;

use super::ticks;
use crate::store_contract::PgDatabase;

/// A store of either backend, kept alive with what it lives in.
pub(super) struct Backend {
    pub(super) store: Arc<dyn Store>,
    _dir: TempDir,
    _pg: Option<PgDatabase>,
}

pub(super) async fn sqlite() -> Backend {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = switchyard::store::open(None, dir.path(), SyncMode::Normal)
        .await
        .expect("store opens");
    Backend {
        store,
        _dir: dir,
        _pg: None,
    }
}

pub(super) async fn postgres() -> Option<Backend> {
    let pg = PgDatabase::create().await?;
    let dir = tempfile::tempdir().expect("temp dir");
    let store = switchyard::store::open(Some(&pg.url), dir.path(), SyncMode::Normal)
        .await
        .expect("store opens");
    Some(Backend {
        store,
        _dir: dir,
        _pg: Some(pg),
    })
}

pub(super) fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// One scheduler process on `store`, reading `clock`, with the default 10 s lease.
fn scheduler(store: &Arc<dyn Store>, clock: &Arc<ManualClock>, name: &str) -> Scheduler {
    scheduler_leased(store, clock, name, std::time::Duration::from_secs(10))
}

/// One scheduler process whose tick claims hold for `lease`, renewed every quarter of it.
pub(super) fn scheduler_leased(
    store: &Arc<dyn Store>,
    clock: &Arc<ManualClock>,
    name: &str,
    lease: std::time::Duration,
) -> Scheduler {
    let policy = OutboundPolicy {
        allow_private_targets: true,
        allow: Default::default(),
        lookup: None,
    };
    Scheduler::new(TickContext {
        store: store.clone(),
        cache: Arc::new(RecipeCache::new(ScriptEngine::new(ScriptLimits::default()))),
        client: build_client(&policy),
        policy,
        owner: name.into(),
        events_ready: Arc::new(Notify::new()),
        lease,
        heartbeat: lease / 4,
    })
    .with_clock(clock.clone())
}

pub(super) async fn import(store: &dyn Store, id: &str, cron: &str, zone: &str) {
    import_toml(
        store,
        &format!(
            r#"id = "{id}"
name = "{id}"
[trigger.schedule]
cron = "{cron}"
timezone = "{zone}"
[[action]]
name = "notify"
url = "http://127.0.0.1:9/unused"
"#
        ),
    )
    .await;
}

/// Imports a recipe file's text; panics with the error when it does not import.
pub(super) async fn import_toml(store: &dyn Store, toml: &str) {
    let scripts = ScriptEngine::new(ScriptLimits::default());
    import_source(store, &scripts, toml, None, "test")
        .await
        .unwrap_or_else(|e| panic!("recipe imports: {e}"));
}

/// Steps the clock by `step` from its time to `until`, each step running every scheduler once
/// (which one goes first alternates, as two processes would race). Returns ticks run per name.
async fn drive(
    schedulers: &mut [(&str, Scheduler)],
    clock: &ManualClock,
    step: Duration,
    until: DateTime<Utc>,
) -> BTreeMap<String, usize> {
    let mut ran = BTreeMap::new();
    while clock.now() <= until {
        schedulers.rotate_left(1);
        for (name, scheduler) in schedulers.iter_mut() {
            let fired = scheduler.run_once().await.expect("store");
            *ran.entry(name.to_string()).or_default() += fired.len();
        }
        clock.advance(step);
    }
    ran
}

/// Each tick of the recipe: (scheduled_for, missed_ticks_skipped), asserting none ran twice.
async fn ran(store: &dyn Store, recipe: &str) -> Vec<(DateTime<Utc>, u64)> {
    let ticks = ticks(store, recipe).await;
    let list: Vec<_> = ticks
        .iter()
        .map(|t| {
            let skipped = t.payload.get("missed_ticks_skipped");
            (
                t.scheduled_for,
                skipped.and_then(|s| s.as_u64()).unwrap_or(0),
            )
        })
        .collect();
    let mut times: Vec<_> = list.iter().map(|(t, _)| *t).collect();
    times.dedup();
    assert_eq!(
        times.len(),
        list.len(),
        "{recipe}: a tick ran twice: {list:?}"
    );
    list
}

fn plain(list: &[&str]) -> Vec<(DateTime<Utc>, u64)> {
    list.iter().map(|s| (at(s), 0)).collect()
}

/// Berlin, 2026-10-25 (clocks go back at 01:00Z): two processes run from 21:50Z to 01:10Z (in
/// the second pass of 02:xx), both die, one restarts at 01:40Z and runs to 03:00Z.
async fn berlin_autumn_with_a_restart_in_the_repeated_hour(backend: Backend) {
    let store = &backend.store;
    let zone = "Europe/Berlin";
    import(store.as_ref(), "half-hourly", "0 */30 * * * *", zone).await;
    import(store.as_ref(), "hourly", "0 0 * * * *", zone).await;
    import(store.as_ref(), "daily-0230", "0 30 2 * * *", zone).await;
    import(store.as_ref(), "minutely", "0 * * * * *", zone).await;

    let clock = Arc::new(ManualClock::new(at("2026-10-24T21:50:00.250Z")));
    let mut pair = [
        ("a", scheduler(store, &clock, "a")),
        ("b", scheduler(store, &clock, "b")),
    ];
    let before = drive(
        &mut pair,
        &clock,
        Duration::minutes(1),
        at("2026-10-25T01:10:00.250Z"),
    )
    .await;
    drop(pair);
    assert!(
        before.values().all(|n| *n > 0),
        "both processes ran ticks: {before:?}"
    );

    clock.set(at("2026-10-25T01:40:00.250Z"));
    let mut restarted = [("c", scheduler(store, &clock, "c"))];
    drive(
        &mut restarted,
        &clock,
        Duration::minutes(1),
        at("2026-10-25T03:00:00.250Z"),
    )
    .await;

    let store = store.as_ref();
    assert_eq!(
        ran(store, "half-hourly").await,
        plain(&[
            "2026-10-24T22:00:00Z",
            "2026-10-24T22:30:00Z",
            "2026-10-24T23:00:00Z",
            "2026-10-24T23:30:00Z",
            "2026-10-25T00:00:00Z", // 02:00 CEST
            "2026-10-25T00:30:00Z", // 02:30 CEST
            "2026-10-25T01:00:00Z", // 02:00 CET
            "2026-10-25T01:30:00Z", // 02:30 CET, missed while down: the catch-up tick
            "2026-10-25T02:00:00Z",
            "2026-10-25T02:30:00Z",
            "2026-10-25T03:00:00Z",
        ])
    );
    assert_eq!(
        ran(store, "hourly").await,
        plain(&[
            "2026-10-24T22:00:00Z",
            "2026-10-24T23:00:00Z",
            "2026-10-25T00:00:00Z",
            "2026-10-25T01:00:00Z",
            "2026-10-25T02:00:00Z",
            "2026-10-25T03:00:00Z",
        ])
    );
    assert_eq!(
        ran(store, "daily-0230").await,
        plain(&["2026-10-25T00:30:00Z"]),
        "02:30 runs once, in the first pass; the restart does not run it again"
    );
    let minutely = ran(store, "minutely").await;
    let mut expected: Vec<_> = (51..=250)
        .map(|m| (at("2026-10-24T21:00:00Z") + Duration::minutes(m), 0))
        .collect();
    // Down from 01:10:00.25 to 01:40:00.25: 01:11..01:39 are skipped, 01:40 runs and says so.
    expected.push((at("2026-10-25T01:40:00Z"), 29));
    expected.extend((41..=120).map(|m| (at("2026-10-25T01:00:00Z") + Duration::minutes(m), 0)));
    assert_eq!(minutely, expected);
}

#[tokio::test]
async fn berlin_autumn_ticks_run_once_through_both_passes_and_a_restart_on_sqlite() {
    berlin_autumn_with_a_restart_in_the_repeated_hour(sqlite().await).await;
}

#[tokio::test]
async fn berlin_autumn_ticks_run_once_through_both_passes_and_a_restart_on_postgres() {
    if let Some(backend) = postgres().await {
        berlin_autumn_with_a_restart_in_the_repeated_hour(backend).await;
    }
}

/// A per-second schedule across the end of the first pass into the second, then a restart half
/// an hour into the second pass: every second once, then one catch-up tick counting the rest.
#[tokio::test]
async fn a_per_second_schedule_runs_every_second_across_the_change_and_catches_up_once() {
    let backend = sqlite().await;
    let store = &backend.store;
    import(
        store.as_ref(),
        "every-second",
        "* * * * * *",
        "Europe/Berlin",
    )
    .await;
    let clock = Arc::new(ManualClock::new(at("2026-10-25T00:59:50.500Z")));
    let mut pair = [
        ("a", scheduler(store, &clock, "a")),
        ("b", scheduler(store, &clock, "b")),
    ];
    drive(
        &mut pair,
        &clock,
        Duration::seconds(1),
        at("2026-10-25T01:00:10.500Z"),
    )
    .await;
    drop(pair);
    clock.set(at("2026-10-25T01:30:00.500Z"));
    let mut restarted = [("c", scheduler(store, &clock, "c"))];
    drive(
        &mut restarted,
        &clock,
        Duration::seconds(1),
        at("2026-10-25T01:30:03.500Z"),
    )
    .await;

    let mut expected: Vec<_> = (51..=70)
        .map(|s| (at("2026-10-25T00:59:00Z") + Duration::seconds(s), 0))
        .collect();
    expected.push((at("2026-10-25T01:30:00Z"), 30 * 60 - 11));
    expected.extend((1..=3).map(|s| (at("2026-10-25T01:30:00Z") + Duration::seconds(s), 0)));
    assert_eq!(ran(store.as_ref(), "every-second").await, expected);
}

/// The other zones of the table (New York, Lord Howe's 30-minute shift, Santiago's change at
/// midnight, Berlin's spring gap): the timer runs exactly the ticks of the schedule function
/// (checked against hand tables and a brute force in `schedule::tick`), each once, with a
/// restart inside the changed hour.
#[tokio::test]
async fn every_zone_and_shape_runs_the_rule_ticks_once_across_a_restart_in_the_changed_hour() {
    let cases = [
        ("Europe/Berlin", "2026-03-29T01:00:00Z"),
        ("America/New_York", "2026-03-08T07:00:00Z"),
        ("America/New_York", "2026-11-01T06:00:00Z"),
        ("Australia/Lord_Howe", "2026-04-04T15:00:00Z"),
        ("Australia/Lord_Howe", "2026-10-03T15:30:00Z"),
        ("America/Santiago", "2026-04-05T03:00:00Z"),
        ("America/Santiago", "2026-09-06T04:00:00Z"),
    ];
    let shapes = [
        ("half-hourly", "0 */30 * * * *"),
        ("hourly", "0 0 * * * *"),
        ("daily-0230", "0 30 2 * * *"),
        ("daily-0145", "0 45 1 * * *"),
        ("daily-0215", "0 15 2 * * *"),
        ("daily-2330", "0 30 23 * * *"),
        ("midnight", "0 0 0 * * *"),
    ];
    for (zone, change) in cases {
        let backend = sqlite().await;
        let store = &backend.store;
        for (id, cron) in shapes {
            import(store.as_ref(), id, cron, zone).await;
        }
        let change = at(change);
        let (start, down, up, end) = (
            change - Duration::hours(3),
            change + Duration::minutes(10),
            change + Duration::minutes(50),
            change + Duration::hours(3),
        );
        let offset = Duration::milliseconds(250);
        let clock = Arc::new(ManualClock::new(start + offset));
        let mut pair = [
            ("a", scheduler(store, &clock, "a")),
            ("b", scheduler(store, &clock, "b")),
        ];
        drive(&mut pair, &clock, Duration::minutes(5), down + offset).await;
        drop(pair);
        clock.set(up + offset);
        let mut restarted = [("c", scheduler(store, &clock, "c"))];
        drive(&mut restarted, &clock, Duration::minutes(5), end + offset).await;

        for (id, cron) in shapes {
            let schedule = TickSchedule::new(parse_cron(cron).unwrap(), zone.parse().unwrap());
            let mut expected: Vec<_> = schedule
                .ticks_after(start + offset)
                .take_while(|t| *t <= down + offset)
                .map(|t| (t, 0))
                .collect();
            // Catch-up starts from the recipe's latest tick; one that never ran has none.
            if let Some((last, _)) = expected.last().copied() {
                let missed = schedule.span(last, up + offset);
                expected.extend(missed.latest.map(|t| (t, missed.count - 1)));
            }
            expected.extend(
                schedule
                    .ticks_after(up + offset)
                    .take_while(|t| *t <= end + offset)
                    .map(|t| (t, 0)),
            );
            assert_eq!(ran(store.as_ref(), id).await, expected, "{id} in {zone}");
        }
    }
}
