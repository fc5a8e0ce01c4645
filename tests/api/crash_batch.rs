//! kill -9 in the middle of large group-committed batches: the server is killed while webhooks
//! still arrive by the hundred, so batches are being committed (and answered) when it dies.
//! Every webhook answered 202 must be delivered after the restart; the unanswered ones are the
//! sender's to retry.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::json;
use tokio::sync::Mutex;

use crate::binary::http;
use crate::crash::{restart_and_expect_all, start_with};
use crate::receiver::Receiver;

/// Posts in flight at once, and in all: enough for full batches while the kill lands.
const CONCURRENCY: usize = 64;
const TOTAL: usize = 3000;
/// The kill lands once this many were answered 202.
const KILL_AFTER: usize = 400;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_202_of_a_large_batch_survives_kill_9_mid_commit() {
    let receiver = Receiver::start().await;
    // No busy work here: the batches are large because the webhooks are many.
    let recipe =
        crate::crash::recipe(&receiver.url("/crash")).replace("for i in 0..20000 { n += i; }", "");
    let (cli, mut server, url) = start_with(&recipe).await;
    let accepted = Arc::new(Mutex::new(BTreeSet::new()));
    let next = Arc::new(AtomicUsize::new(0));
    let answered = Arc::new(tokio::sync::Notify::new());
    let senders: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (http, url) = (http(), url.clone());
            let (accepted, next, answered) = (accepted.clone(), next.clone(), answered.clone());
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= TOTAL {
                        return;
                    }
                    let id = format!("crash-{i:04}");
                    match http.post(&url).json(&json!({ "id": id })).send().await {
                        Ok(r) if r.status() == 202 => {
                            let mut accepted = accepted.lock().await;
                            accepted.insert(id);
                            if accepted.len() >= KILL_AFTER {
                                answered.notify_one();
                            }
                        }
                        // Refused or cut off by the kill: never acknowledged.
                        Ok(_) | Err(_) => {}
                    }
                }
            })
        })
        .collect();
    answered.notified().await;
    server.kill9();
    for sender in senders {
        sender.await.expect("sender task");
    }
    let accepted = accepted.lock().await.clone();
    assert!(accepted.len() >= KILL_AFTER);
    assert!(
        accepted.len() < TOTAL,
        "the kill landed after every webhook was answered: nothing was in flight"
    );
    let took = restart_and_expect_all(&cli, &receiver, &accepted).await;
    eprintln!(
        "crash_batch: {} of {TOTAL} answered 202 before kill -9; all delivered {took:?} after restart",
        accepted.len()
    );
}
