//! Per-destination throttling and ordering (issue 11, item 4): `concurrency = 1` keeps a key's
//! calls in order through slow answers and a 429; `rate` holds per key on one process and for
//! two processes on one PostgreSQL; a 429 pauses its key only; `check` refuses bad values.

mod cluster;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpResponse, HttpServer, web};
use serde_json::{Value, json};

use crate::binary::Cli;
use crate::helpers::{TestApp, spawn_app, spawn_app_with};
use crate::store_contract::PgDatabase;

/// One call the receiver saw: the event's `n`, its path, when it started and ended.
#[derive(Debug, Clone)]
pub struct Call {
    pub n: i64,
    pub path: String,
    pub start: Instant,
    pub end: Instant,
}

/// A receiver that answers after `delay`; the calls whose (path, `n`) is in `busy` are
/// answered once with `429` and `Retry-After: SECONDS`.
#[derive(Clone)]
pub struct Recorder {
    pub base: String,
    calls: Arc<Mutex<Vec<Call>>>,
}

impl Recorder {
    pub async fn start(delay: Duration, busy: Vec<(String, i64, u32)>) -> Recorder {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let busy = Arc::new(Mutex::new(busy));
        let (c, b) = (calls.clone(), busy.clone());
        let server = HttpServer::new(move || {
            let (c, b) = (c.clone(), b.clone());
            App::new().default_service(web::to(
                move |req: actix_web::HttpRequest, body: web::Json<Value>| {
                    let (c, b) = (c.clone(), b.clone());
                    async move {
                        let start = Instant::now();
                        tokio::time::sleep(delay).await;
                        let n = body["n"].as_i64().unwrap_or(-1);
                        let path = req.path().to_owned();
                        c.lock().unwrap().push(Call {
                            n,
                            path: path.clone(),
                            start,
                            end: Instant::now(),
                        });
                        let mut busy = b.lock().unwrap();
                        match busy.iter().position(|(p, m, _)| *p == path && *m == n) {
                            Some(i) => {
                                let (_, _, seconds) = busy.remove(i);
                                HttpResponse::TooManyRequests()
                                    .insert_header(("Retry-After", seconds.to_string()))
                                    .finish()
                            }
                            None => HttpResponse::Ok().finish(),
                        }
                    }
                },
            ))
        })
        .workers(2)
        .bind("127.0.0.1:0")
        .unwrap();
        let base = format!("http://127.0.0.1:{}", server.addrs()[0].port());
        tokio::spawn(server.run());
        Recorder { base, calls }
    }

    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }

    /// Waits until `done` holds for the calls, or fails after `timeout`.
    pub async fn wait(&self, timeout: Duration, done: impl Fn(&[Call]) -> bool) -> Vec<Call> {
        let deadline = Instant::now() + timeout;
        loop {
            let calls = self.calls();
            if done(&calls) {
                return calls;
            }
            assert!(
                Instant::now() < deadline,
                "timed out with {} calls: {:?}",
                calls.len(),
                calls
                    .iter()
                    .map(|c| (c.path.as_str(), c.n))
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A recipe whose one action posts `{"n": …, "k": …}` to `url` with the given limit keys.
pub fn throttled_recipe(id: &str, url: &str, limits: &str) -> String {
    format!(
        r#"
id = "{id}"
name = "Throttled {id}"
[trigger.webhook]
[[action]]
name = "send"
url = "{url}"
fields = {{ n = "{{{{ event.n }}}}" }}
retry = {{ schedule = ["0s", "1s", "1s", "1s"] }}
{limits}
"#
    )
}

/// The most calls started within any `window` (each call's start opens one).
pub fn most_in_window(starts: &[Instant], window: Duration) -> usize {
    starts
        .iter()
        .map(|s| {
            starts
                .iter()
                .filter(|t| **t >= *s && **t < *s + window)
                .count()
        })
        .max()
        .unwrap_or(0)
}

#[tokio::test]
async fn concurrency_one_keeps_order_for_fifty_events_through_slow_answers_and_a_429() {
    keeps_order(spawn_app().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_one_keeps_order_on_postgres() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let url = db.url.clone();
    keeps_order(spawn_app_with(|s| s.database_url = Some(url)).await).await;
}

async fn keeps_order(app: TestApp) {
    let receiver = Recorder::start(
        Duration::from_millis(40),
        vec![("/ordered".to_owned(), 10, 1)],
    )
    .await;
    let recipe = app
        .import(&throttled_recipe(
            "ordered",
            &receiver.url("/ordered"),
            "concurrency = 1",
        ))
        .await;
    for n in 0..50 {
        app.send_event(&recipe, &json!({ "n": n })).await;
    }
    let calls = receiver
        .wait(Duration::from_secs(90), |c| c.len() >= 51)
        .await;
    let order: Vec<i64> = calls.iter().map(|c| c.n).collect();
    let mut expected: Vec<i64> = (0..50).collect();
    expected.insert(11, 10); // the 429'd call, retried before anything after it
    assert_eq!(order, expected);
    for pair in calls.windows(2) {
        assert!(pair[1].start >= pair[0].end, "one call in flight at a time");
    }
    let wait = calls[11].start - calls[10].end;
    // Housekeeping keeps a key used within the hour (and its statement runs on both stores).
    assert_eq!(app.store.prune_orphans().await.unwrap(), 0);
    assert!(
        wait >= Duration::from_millis(900),
        "Retry-After: 1 kept the key waiting ({wait:?})"
    );
}

#[tokio::test]
async fn a_rate_of_five_per_second_holds_on_one_process() {
    let app = spawn_app().await;
    let receiver = Recorder::start(Duration::ZERO, Vec::new()).await;
    let recipe = app
        .import(&throttled_recipe(
            "rated",
            &receiver.url("/rated"),
            r#"rate = "5/s""#,
        ))
        .await;
    for n in 0..25 {
        app.send_event(&recipe, &json!({ "n": n })).await;
    }
    let calls = receiver
        .wait(Duration::from_secs(30), |c| c.len() >= 25)
        .await;
    let starts: Vec<Instant> = calls.iter().map(|c| c.start).collect();
    let busiest = most_in_window(&starts, Duration::from_secs(1));
    assert!(
        busiest <= 6,
        "at most 5 (+1 at a window's edge) per second, saw {busiest}"
    );
    let span = *starts.last().unwrap() - starts[0];
    assert!(
        span >= Duration::from_millis(4_000),
        "25 calls at 5/s take ≥ 4.0 s: {span:?}"
    );
    assert!(
        span <= Duration::from_secs(12),
        "and not much longer: {span:?}"
    );
}

#[tokio::test]
async fn a_429_on_one_key_pauses_that_key_while_another_keeps_flowing() {
    let app = spawn_app().await;
    let receiver = Recorder::start(Duration::ZERO, vec![("/a".to_owned(), 1, 30)]).await;
    let url = format!("{}/{{{{ event.k }}}}", receiver.base);
    let recipe = app
        .import(&throttled_recipe(
            "keyed",
            &url,
            "rate = \"100/s\"\nkey = \"{{ event.k }}\"",
        ))
        .await;
    app.send_event(&recipe, &json!({ "n": 1, "k": "a" })).await;
    receiver
        .wait(Duration::from_secs(10), |c| {
            c.iter().any(|c| c.path == "/a")
        })
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.send_event(&recipe, &json!({ "n": 2, "k": "a" })).await;
    for n in 3..8 {
        app.send_event(&recipe, &json!({ "n": n, "k": "b" })).await;
    }
    let calls = receiver
        .wait(Duration::from_secs(10), |c| {
            c.iter().filter(|c| c.path == "/b").count() >= 5
        })
        .await;
    // Long enough for a's second call to have gone out had the key not been paused.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let calls_to_a: Vec<i64> = receiver
        .calls()
        .iter()
        .filter(|c| c.path == "/a")
        .map(|c| c.n)
        .collect();
    assert_eq!(calls_to_a, [1], "key a waits out its Retry-After: 30");
    assert!(calls.iter().filter(|c| c.path == "/b").count() >= 5);
}

#[test]
fn check_refuses_bad_rates_concurrency_and_secret_keys_naming_file_and_key() {
    let cli = Cli::without_store();
    let file = cli.write(
        "limits.toml",
        r#"
id = "limits"
name = "Limits"
[trigger.webhook]
[[action]]
name = "fast"
url = "https://example.com/a"
rate = "fast"
[[action]]
name = "none"
url = "https://example.com/b"
concurrency = 0
[[action]]
name = "secret"
url = "https://example.com/c"
concurrency = 1
key = "{{ secrets.API_TOKEN }}"
[[action]]
name = "hidden"
url = "{{ secrets.HOOK_URL }}"
rate = "5/s"
"#,
    );
    let text = cli.run(&[Path::new("check"), &file]).fails().to_owned();
    for expected in [
        "limits.toml: action[0].rate: `fast` is not a rate",
        "limits.toml: action[1].concurrency: `0` is not a positive whole number",
        "limits.toml: action[2].key: reads a secret",
        "limits.toml: action[3].key: is needed",
    ] {
        assert!(text.contains(expected), "{expected}\n{text}");
    }
}

impl Recorder {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

#[tokio::test]
async fn a_throttled_delivery_retried_while_its_recipe_is_paused_is_held_until_resume() {
    let app = spawn_app().await;
    // Four 429s: the schedule's four attempts, then dead.
    let busy = (0..4).map(|_| ("/held".to_owned(), 1, 0)).collect();
    let receiver = Recorder::start(Duration::ZERO, busy).await;
    let recipe = app
        .import(&throttled_recipe(
            "heldkey",
            &receiver.url("/held"),
            "concurrency = 1",
        ))
        .await;
    let event = app.send_event(&recipe, &json!({ "n": 1 })).await;
    let detail = app.wait_for_deliveries(&event).await;
    assert_eq!(detail.deliveries[0].status, "dead", "{detail:#?}");
    app.store.pause_recipe("heldkey").await.unwrap();
    assert!(
        app.store
            .retry_delivery(&detail.deliveries[0].id)
            .await
            .unwrap()
    );
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(receiver.calls().len(), 4, "nothing is sent while paused");
    app.store.resume_recipe("heldkey").await.unwrap();
    receiver
        .wait(Duration::from_secs(10), |c| c.len() >= 5)
        .await;
}

/// A receiver that answers 500 to `n` below `failing` and 200 to the rest, recording each `n`.
async fn failing_receiver(failing: i64) -> (String, Arc<Mutex<Vec<i64>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let server = HttpServer::new(move || {
        let s = s.clone();
        App::new().default_service(web::to(move |body: web::Json<Value>| {
            let s = s.clone();
            async move {
                let n = body["n"].as_i64().unwrap_or(-1);
                s.lock().unwrap().push(n);
                if n < failing {
                    HttpResponse::InternalServerError().finish()
                } else {
                    HttpResponse::Ok().finish()
                }
            }
        }))
    })
    .workers(2)
    .bind("127.0.0.1:0")
    .unwrap();
    let url = format!("http://127.0.0.1:{}/r", server.addrs()[0].port());
    tokio::spawn(server.run());
    (url, seen)
}

#[tokio::test]
async fn a_rate_only_key_is_not_starved_by_hundreds_of_deliveries_waiting_to_retry() {
    let app = spawn_app().await;
    let (url, seen) = failing_receiver(300).await;
    let recipe = app
        .import(&format!(
            r#"
id = "ratedkey"
name = "Rated key"
[trigger.webhook]
[[action]]
name = "send"
url = "{url}"
fields = {{ n = "{{{{ event.n }}}}" }}
retry = {{ schedule = ["0s", "1h"] }}
rate = "1000/s"
key = "one"
"#
        ))
        .await;
    // More failing deliveries than a claim's window over a key (256), each then waiting an hour.
    for n in 0..300 {
        app.send_event(&recipe, &json!({ "n": n })).await;
    }
    app.send_event(&recipe, &json!({ "n": 1000 })).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = seen.lock().unwrap().clone();
        if got.len() >= 301 {
            assert!(got.contains(&1000), "{got:?}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} of 301 calls: later deliveries wait behind the retrying ones",
            got.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[test]
fn a_rate_is_spaced_rounded_up_so_a_period_never_holds_more_calls_than_it_says() {
    use switchyard::recipe::flow::throttle::parse_rate;
    for (rate, count, period_ms) in [
        ("3/s", 3, 1_000),
        ("7/s", 7, 1_000),
        ("600/s", 600, 1_000),
        ("400/s", 400, 1_000),
        ("7/m", 7, 60_000),
    ] {
        let every = parse_rate(rate).unwrap().as_millis();
        // Calls at 0, every, 2·every, …: those starting within one period.
        let starts = (period_ms - 1) / every + 1;
        assert!(starts <= count, "{rate}: every {every} ms starts {starts}");
    }
    assert_eq!(parse_rate("5/s").unwrap(), Duration::from_millis(200));
}
