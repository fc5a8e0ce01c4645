//! Two real `serve` processes on one PostgreSQL database, both with an idle poll of a minute:
//! a webhook accepted by the first is delivered by the second well before that poll.

use std::time::Duration;

use crate::api::recipe_toml;
use crate::binary::{Cli, Server, http};
use crate::receiver::Receiver;
use crate::store_contract::PgDatabase;

/// Longer than the whole test: a process only finds work through its idle poll if the poll
/// never comes first.
const IDLE_POLL: &str = "60s";
/// Half the idle poll: a delivery before it came through a wake-up, not the second process's
/// first poll (its loop starts waiting when it starts, just before the webhook is sent).
const DELIVERED_WITHIN: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_accepted_by_one_process_is_delivered_by_another_before_its_idle_poll() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let receiver = Receiver::start().await;
    let cli = Cli::new()
        .with_env("DATABASE_URL", &db.url)
        .with_env("SWITCHYARD_ALLOW_PRIVATE_TARGETS", "true")
        .with_env("SWITCHYARD_IDLE_POLL", IDLE_POLL);
    // The accepting process sends nothing itself: no delivery slots. Its engine runs the event
    // and commits the delivery; only the other process can make the call.
    let accepting = Server::start(&cli.with_env("SWITCHYARD_DELIVERY_CONCURRENCY", "0"), &[]).await;
    let file = cli.write(
        "relay.toml",
        &recipe_toml("relay", &receiver.url("/relay"), "event", r#"["0s"]"#),
    );
    let imported = cli.import(&file);
    let delivering = Server::start(&cli, &[]).await;

    let accepted = http()
        .post(accepting.hook_url(&imported[0].2))
        .json(&serde_json::json!({ "n": 1 }))
        .send()
        .await
        .expect("webhook sent");
    assert_eq!(accepted.status(), 202, "{}", accepting.log());

    let got = receiver.wait_for(1, DELIVERED_WITHIN).await;
    assert_eq!(got[0].json(), serde_json::json!({ "n": 1 }));
    // The receiver answers before the process logs the attempt: wait for the line (bounded).
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !delivering.log().contains("delivered") && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        delivering.log().contains("delivered"),
        "the second process made the call:\n{}",
        delivering.log()
    );
}
