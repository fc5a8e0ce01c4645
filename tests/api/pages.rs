//! A real HTTP server on 127.0.0.1 serving poll pages: each path answers with a status and body
//! the test sets (and may change while the server runs), and every hit is counted.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::Value;

#[derive(Clone)]
struct Page {
    status: u16,
    body: String,
}

#[derive(Default)]
struct State {
    pages: HashMap<String, Page>,
    hits: HashMap<String, usize>,
}

#[derive(Clone)]
pub struct Pages {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    state: Arc<Mutex<State>>,
}

impl Pages {
    pub async fn start() -> Pages {
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let server = HttpServer::new(move || {
            let state = shared.clone();
            App::new().default_service(web::to(move |req: HttpRequest| {
                let state = state.clone();
                async move { serve(&state, &req) }
            }))
        })
        .workers(1)
        .bind("127.0.0.1:0")
        .expect("pages server binds");
        let port = server.addrs()[0].port();
        tokio::spawn(server.run());
        Pages {
            base: format!("http://127.0.0.1:{port}"),
            state,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// From now on `path` answers 200 with this JSON.
    pub fn set_json(&self, path: &str, body: &Value) {
        self.set(path, 200, &body.to_string());
    }

    /// From now on `path` answers `status` with this raw body.
    pub fn set(&self, path: &str, status: u16, body: &str) {
        let page = Page {
            status,
            body: body.to_owned(),
        };
        self.state
            .lock()
            .unwrap()
            .pages
            .insert(path.to_owned(), page);
    }

    /// How many requests `path` got so far.
    pub fn hits(&self, path: &str) -> usize {
        self.state
            .lock()
            .unwrap()
            .hits
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    /// Waits until `path` got at least `n` requests.
    pub async fn wait_hits(&self, path: &str, n: usize, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while self.hits(path) < n {
            assert!(
                Instant::now() < deadline,
                "{path} got {} requests, expected {n} within {timeout:?}",
                self.hits(path)
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn serve(state: &Mutex<State>, req: &HttpRequest) -> HttpResponse {
    let path = req.uri().path().to_owned();
    let mut state = state.lock().unwrap();
    *state.hits.entry(path.clone()).or_default() += 1;
    let page = state.pages.get(&path).cloned().unwrap_or(Page {
        status: 404,
        body: "no such page".into(),
    });
    HttpResponse::build(actix_web::http::StatusCode::from_u16(page.status).unwrap())
        .content_type("application/json")
        .body(page.body)
}
