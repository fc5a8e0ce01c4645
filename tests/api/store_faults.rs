//! The store under faults: a full disk, PostgreSQL backends killed mid-transaction, PostgreSQL
//! unreachable. Webhooks get 503 (quickly) while the store cannot commit, and the server recovers
//! by itself, webhooks and workers alike, once the cause is gone: no restart.

mod disk;
pub(crate) mod postgres;

use std::net::SocketAddr;
use std::sync::Mutex;

use serde_json::json;
use switchyard::store::{EventStatus, StoredRecipe};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::helpers::TestApp;
use crate::receiver::Receiver;

/// A recipe that sends every event's `n` to the receiver.
async fn import_forwarder(app: &TestApp, receiver: &Receiver) -> StoredRecipe {
    app.import(&format!(
        r#"
id = "forward"
name = "Forward"
[trigger.webhook]
[transform]
script = '#{{ n: event.n }}'
[[action]]
name = "notify"
url = "{}"
timeout = "2s"
"#,
        receiver.url("/notify")
    ))
    .await
}

/// Posts `{"n": n, "pad": ...}` and returns the status and, on 202, the event id.
async fn post(app: &TestApp, recipe: &StoredRecipe, n: usize, pad: usize) -> (u16, Option<String>) {
    let response = app
        .post_json(recipe, &json!({ "n": n, "pad": "p".repeat(pad) }))
        .await;
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    let id = body["event_id"].as_str().map(str::to_owned);
    (status, id.filter(|_| status == 202))
}

/// The event went all the way: run, delivered to the receiver.
async fn assert_delivered(app: &TestApp, event_id: &str) {
    let detail = app.wait_for_deliveries(event_id).await;
    assert_eq!(detail.event.status, EventStatus::Delivered, "{detail:#?}");
}

/// A TCP proxy in front of PostgreSQL that can be taken down: its port then refuses
/// connections and the open ones are cut, which is what a restarting server looks like.
struct Proxy {
    addr: SocketAddr,
    target: SocketAddr,
    accept: Mutex<Option<JoinHandle<()>>>,
    cut: watch::Sender<u64>,
}

impl Proxy {
    async fn start(target: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = Proxy {
            addr: listener.local_addr().unwrap(),
            target,
            accept: Mutex::new(None),
            cut: watch::channel(0).0,
        };
        proxy.serve(listener);
        proxy
    }

    fn serve(&self, listener: TcpListener) {
        let (target, cut) = (self.target, self.cut.clone());
        let task = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let mut cut = cut.subscribe();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        *self.accept.lock().unwrap() = Some(task);
    }

    /// Closes the port (connections are refused) and cuts every open connection.
    async fn down(&self) {
        let task = self.accept.lock().unwrap().take();
        if let Some(task) = task {
            task.abort();
            let _ = task.await; // the listener is dropped once this returns
        }
        self.cut.send_modify(|n| *n += 1);
    }

    /// Opens the same port again.
    async fn up(&self) {
        let listener = TcpListener::bind(self.addr)
            .await
            .expect("proxy port again");
        self.serve(listener);
    }
}
