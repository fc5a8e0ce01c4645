//! A real HTTP receiver on 127.0.0.1 that holds every call open until the test releases it (a
//! receiver that hangs), counting arrivals and how many calls it held at once.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpResponse, HttpServer, web};
use tokio::sync::watch;

#[derive(Default)]
struct Counts {
    /// Request bodies in arrival order.
    bodies: Mutex<Vec<Vec<u8>>>,
    holding: AtomicUsize,
    max_holding: AtomicUsize,
}

#[derive(Clone)]
pub struct HeldReceiver {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    counts: Arc<Counts>,
    release: Arc<watch::Sender<bool>>,
}

impl HeldReceiver {
    pub async fn start() -> HeldReceiver {
        let counts = Arc::new(Counts::default());
        let (release, released) = watch::channel(false);
        let c = counts.clone();
        let server = HttpServer::new(move || {
            let (c, released) = (c.clone(), released.clone());
            App::new().default_service(web::to(move |body: web::Bytes| {
                let (c, mut released) = (c.clone(), released.clone());
                async move {
                    c.bodies.lock().unwrap().push(body.to_vec());
                    let now = c.holding.fetch_add(1, Ordering::SeqCst) + 1;
                    c.max_holding.fetch_max(now, Ordering::SeqCst);
                    let _ = released.wait_for(|open| *open).await;
                    c.holding.fetch_sub(1, Ordering::SeqCst);
                    HttpResponse::Ok().body("released")
                }
            }))
        })
        .workers(1)
        .max_connections(10_000)
        .bind("127.0.0.1:0")
        .expect("held receiver binds");
        let port = server.addrs()[0].port();
        tokio::spawn(server.run());
        HeldReceiver {
            base: format!("http://127.0.0.1:{port}"),
            counts,
            release: Arc::new(release),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Answers every held call, and every later one at once.
    pub fn release(&self) {
        self.release.send_replace(true);
    }

    pub fn arrivals(&self) -> usize {
        self.counts.bodies.lock().unwrap().len()
    }

    pub fn bodies(&self) -> Vec<serde_json::Value> {
        let bodies = self.counts.bodies.lock().unwrap();
        bodies
            .iter()
            .map(|b| serde_json::from_slice(b).expect("JSON body"))
            .collect()
    }

    /// The most calls held open at one time.
    pub fn max_held(&self) -> usize {
        self.counts.max_holding.load(Ordering::SeqCst)
    }

    /// Waits until at least `n` calls arrived; panics after `timeout`.
    pub async fn wait_for(&self, n: usize, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while self.arrivals() < n {
            assert!(
                Instant::now() < deadline,
                "held receiver got {} calls, expected {n} within {timeout:?}",
                self.arrivals()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
