//! A real HTTP receiver on 127.0.0.1 that records every request and answers with scripted
//! statuses (then a default), standing in for Slack, an email API or a customer's endpoint.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// Lower-case names.
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
    pub at: Instant,
}

impl Recorded {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("receiver got a JSON body")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

#[derive(Default)]
struct Script {
    queued: VecDeque<u16>,
    default_status: u16,
    /// How long to wait before answering (a slow receiver).
    delay: Duration,
    /// A JSON body for 2xx answers, instead of the default text.
    json_body: Option<String>,
}

#[derive(Clone)]
pub struct Receiver {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
    script: Arc<Mutex<Script>>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(Script {
            queued: VecDeque::new(),
            default_status: 200,
            delay: Duration::ZERO,
            json_body: None,
        }));
        let (r, s) = (requests.clone(), script.clone());
        let server = HttpServer::new(move || {
            let (r, s) = (r.clone(), s.clone());
            App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
                let (r, s) = (r.clone(), s.clone());
                async move {
                    let (response, delay) = record(&r, &s, req, body);
                    tokio::time::sleep(delay).await;
                    response
                }
            }))
        })
        .workers(1)
        .bind("127.0.0.1:0")
        .expect("receiver binds");
        let port = server.addrs()[0].port();
        tokio::spawn(server.run());
        Receiver {
            base: format!("http://127.0.0.1:{port}"),
            requests,
            script,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The next requests get these statuses, in order; later ones get the default.
    pub fn respond_with(&self, statuses: &[u16]) {
        self.script.lock().unwrap().queued.extend(statuses);
    }

    /// Every later request is recorded at once but answered only after `delay`.
    pub fn delay_responses(&self, delay: Duration) {
        self.script.lock().unwrap().delay = delay;
    }

    /// Every later 2xx answer carries this JSON body (`content-type: application/json`).
    pub fn answer_json(&self, body: &serde_json::Value) {
        self.script.lock().unwrap().json_body = Some(body.to_string());
    }

    pub fn always(&self, status: u16) {
        self.script.lock().unwrap().default_status = status;
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    /// Waits until at least `n` requests arrived; panics with what it has after `timeout`.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Recorded> {
        let deadline = Instant::now() + timeout;
        loop {
            let got = self.requests();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "receiver got {} requests, expected {n} within {timeout:?}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

fn record(
    requests: &Mutex<Vec<Recorded>>,
    script: &Mutex<Script>,
    req: HttpRequest,
    body: web::Bytes,
) -> (HttpResponse, Duration) {
    let headers = req
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    requests.lock().unwrap().push(Recorded {
        method: req.method().to_string(),
        path: req.uri().path().to_owned(),
        headers,
        body: body.to_vec(),
        at: Instant::now(),
    });
    let (status, delay, json_body) = {
        let mut script = script.lock().unwrap();
        let default = script.default_status;
        let status = script.queued.pop_front().unwrap_or(default);
        (status, script.delay, script.json_body.clone())
    };
    let mut response = HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap());
    let response = match json_body.filter(|_| (200..300).contains(&status)) {
        Some(body) => response.content_type("application/json").body(body),
        None => response.body(format!("receiver says {status}")),
    };
    (response, delay)
}
