//! SIGTERM with a call in flight to a receiver that hangs: the process exits within the
//! shutdown grace, and the abandoned delivery is released (its attempt not counted), so the
//! next process sends it at once instead of after the lease.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use switchyard::store::{EventStatus, SyncMode};

use crate::binary::{Cli, Server, http};
use crate::held::HeldReceiver;

const GRACE: Duration = Duration::from_secs(3);
/// Process start and teardown on a small shared machine, on top of the grace.
const SLACK: Duration = Duration::from_secs(3);
/// Far longer than any wait below: a delivery retried only after it would fail the test.
const LEASE: &str = "60s";

fn recipe(url: &str) -> String {
    format!(
        r#"id = "hang"
name = "Hanging receiver"
[trigger.webhook]
[[action]]
name = "notify"
url = "{url}"
timeout = "60s"
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_with_a_hanging_call_exits_within_the_grace_and_the_next_process_sends_it_at_once()
{
    let receiver = HeldReceiver::start().await;
    let cli = Cli::new()
        .with_env("SWITCHYARD_ALLOW_PRIVATE_TARGETS", "true")
        .with_env("SWITCHYARD_IDLE_POLL", "50ms")
        .with_env("SWITCHYARD_LEASE", LEASE)
        .with_env("SWITCHYARD_SHUTDOWN_GRACE", "3s");
    let mut server = Server::start(&cli, &[]).await;
    let file = cli.write("hang.toml", &recipe(&receiver.url("/hang")));
    let (_, _, url) = cli
        .with_env("SWITCHYARD_BIND", &server.bind)
        .import(&file)
        .remove(0);
    let answer: Value = http()
        .post(server.hook_url(&url))
        .json(&json!({ "n": 1 }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let event_id = answer["event_id"].as_str().unwrap().to_owned();
    receiver.wait_for(1, Duration::from_secs(30)).await;

    let signalled = Instant::now();
    server.terminate();
    let status = server.wait_exit(GRACE + SLACK).await;
    let exited = signalled.elapsed();
    assert_eq!(status.code(), Some(0), "{status}:\n{}", server.log());
    assert!(
        server.log().contains("abandoning unfinished calls"),
        "{}",
        server.log()
    );

    receiver.release();
    let restarted_at = Instant::now();
    let _restarted = Server::start(&cli, &[]).await;
    receiver.wait_for(2, Duration::from_secs(30)).await;
    let resent = restarted_at.elapsed();

    let store = switchyard::store::open(None, &cli.data_dir, SyncMode::Normal)
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let detail = loop {
        let detail = store.get_event(&event_id).await.unwrap().unwrap();
        if detail.event.status != EventStatus::Done || Instant::now() > deadline {
            break detail;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(detail.event.status, EventStatus::Delivered, "{detail:#?}");
    let delivery = &detail.deliveries[0];
    assert_eq!(
        delivery.attempt_count, 1,
        "the abandoned call is not an attempt: {delivery:#?}"
    );
    eprintln!(
        "shutdown: exited {exited:?} after SIGTERM (grace {GRACE:?}); the next process sent the \
         abandoned delivery {resent:?} after its start (lease {LEASE})"
    );
}
