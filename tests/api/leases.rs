//! Short leases with a heartbeat: a call that outlasts the lease keeps its claim (it is not
//! taken again and sent twice), because the worker renews the claims it holds.

use std::time::Duration;

use serde_json::json;
use switchyard::store::EventStatus;

use crate::held::HeldReceiver;
use crate::helpers::{WAIT, spawn_app_with};

const LEASE: Duration = Duration::from_secs(1);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_call_outlasting_the_lease_keeps_its_claim_and_is_sent_once() {
    let app = spawn_app_with(|s| s.workers.lease = LEASE).await;
    let receiver = HeldReceiver::start().await;
    let recipe = app
        .import(&format!(
            r#"
id = "long-call"
name = "Long call"
[trigger.webhook]
[[action]]
name = "notify"
url = "{}"
timeout = "60s"
"#,
            receiver.url("/long")
        ))
        .await;
    let event_id = app.send_event(&recipe, &json!({ "n": 1 })).await;
    receiver.wait_for(1, WAIT).await;

    // Four leases long: without renewal the claim expires and the idle worker takes it again.
    tokio::time::sleep(LEASE * 4).await;
    assert_eq!(receiver.arrivals(), 1, "the call in flight was sent again");

    receiver.release();
    let detail = app.wait_for_deliveries(&event_id).await;
    assert_eq!(detail.event.status, EventStatus::Delivered, "{detail:#?}");
    assert_eq!(detail.deliveries[0].attempt_count, 1, "{detail:#?}");
    assert_eq!(receiver.arrivals(), 1);
}

#[test]
fn serve_refuses_a_lease_too_short_for_its_heartbeat_and_a_zero_destination_share() {
    let cli = crate::binary::Cli::new();
    let short = cli.run(&["serve", "--bind", "127.0.0.1:0", "--lease", "100ms"]);
    assert_ne!(short.code, Some(0), "{short:#?}");
    assert!(
        short.stderr.contains("100ms is too short: at least 400ms"),
        "{short:#?}"
    );
    let zero = cli
        .with_env("SWITCHYARD_DESTINATION_CONCURRENCY", "0")
        .run(&["serve", "--bind", "127.0.0.1:0"]);
    assert_ne!(zero.code, Some(0), "{zero:#?}");
    assert!(
        zero.stderr.contains("--destination-concurrency"),
        "{zero:#?}"
    );
}
