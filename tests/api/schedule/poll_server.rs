//! A poll endpoint on 127.0.0.1 whose answers the test delays one by one (a slow or hanging
//! provider API). Every hit is recorded with the tick it polls for (`?tick=` in the recipe's
//! poll URL) and answered `{"data": [{"id": "hit-N"}]}`, N counting from 1.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use chrono::{DateTime, Utc};
use serde_json::json;

/// Long enough to outlast any test: a poll that never answers.
pub const HANG: Duration = Duration::from_secs(3600);

#[derive(Clone, Debug)]
pub struct Hit {
    /// 1-based, in arrival order; the id of the item this hit answers with.
    pub n: usize,
    pub tick: DateTime<Utc>,
    pub at: Instant,
}

#[derive(Default)]
struct State {
    hits: Vec<Hit>,
    delays: VecDeque<Duration>,
}

#[derive(Clone)]
pub struct PollServer {
    base: String,
    state: Arc<Mutex<State>>,
}

impl PollServer {
    /// Answers the first hits after `delays`, in order; later hits at once.
    pub async fn start(delays: &[Duration]) -> PollServer {
        let state = Arc::new(Mutex::new(State {
            hits: Vec::new(),
            delays: delays.iter().copied().collect(),
        }));
        let shared = state.clone();
        let server = HttpServer::new(move || {
            let state = shared.clone();
            App::new().default_service(web::to(move |req: HttpRequest| {
                let state = state.clone();
                async move {
                    let (n, delay) = record(&state, &req);
                    tokio::time::sleep(delay).await;
                    HttpResponse::Ok().json(json!({ "data": [{ "id": format!("hit-{n}") }] }))
                }
            }))
        })
        .workers(1)
        .bind("127.0.0.1:0")
        .expect("poll server binds");
        let port = server.addrs()[0].port();
        tokio::spawn(server.run());
        PollServer {
            base: format!("http://127.0.0.1:{port}"),
            state,
        }
    }

    /// The poll URL for a recipe: names the tick polled for.
    pub fn url(&self) -> String {
        format!("{}/items?tick={{{{ event.scheduled_for }}}}", self.base)
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.state.lock().unwrap().hits.clone()
    }

    /// Waits until `n` hits arrived; panics with what it has after `timeout`.
    pub async fn wait_hits(&self, n: usize, timeout: Duration) -> Vec<Hit> {
        let deadline = Instant::now() + timeout;
        loop {
            let hits = self.hits();
            if hits.len() >= n {
                return hits;
            }
            assert!(Instant::now() < deadline, "{n} polls never came: {hits:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn record(state: &Mutex<State>, req: &HttpRequest) -> (usize, Duration) {
    let query = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .expect("a query string");
    let tick = query
        .iter()
        .find(|(name, _)| name == "tick")
        // The template leaves `+` (of `+00:00`) as is; form decoding read it as a space.
        .map(|(_, value)| DateTime::parse_from_rfc3339(&value.replace(' ', "+")))
        .map(|tick| tick.unwrap_or_else(|e| panic!("{}: {e}", req.query_string())))
        .expect("the poll URL names its tick")
        .to_utc();
    let mut state = state.lock().unwrap();
    let n = state.hits.len() + 1;
    state.hits.push(Hit {
        n,
        tick,
        at: Instant::now(),
    });
    (n, state.delays.pop_front().unwrap_or_default())
}
