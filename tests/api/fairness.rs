//! Fair share per destination: a receiver that hangs holds only its share of the delivery
//! slots, so other recipes' receivers are still called at once.

use std::time::{Duration, Instant};

use serde_json::json;
use switchyard::store::EventStatus;

use crate::held::HeldReceiver;
use crate::helpers::{WAIT, spawn_app};
use crate::receiver::Receiver;

const SLOW_EVENTS: usize = 40;
/// Generous: the machine is small and shared; the rule is "not behind the slow receiver".
const PROMPT: Duration = Duration::from_secs(5);

fn recipe(id: &str, url: &str) -> String {
    format!(
        r#"
id = "{id}"
name = "{id}"
[trigger.webhook]
[transform]
script = '#{{ n: event.n }}'
[[action]]
name = "notify"
url = "{url}"
timeout = "60s"
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hanging_receiver_holds_only_its_share_and_another_recipe_is_delivered_at_once() {
    let app = spawn_app().await;
    let slow = HeldReceiver::start().await;
    let idle = Receiver::start().await;
    let slow_recipe = app.import(&recipe("slow", &slow.url("/slow"))).await;
    let idle_recipe = app.import(&recipe("idle", &idle.url("/idle"))).await;

    let mut slow_events = Vec::new();
    for n in 0..SLOW_EVENTS {
        slow_events.push(app.send_event(&slow_recipe, &json!({ "n": n })).await);
    }
    // Default: 32 slots, a quarter (8) per destination.
    slow.wait_for(8, WAIT).await;

    let sent = Instant::now();
    let idle_event = app.send_event(&idle_recipe, &json!({ "n": "idle" })).await;
    idle.wait_for(1, PROMPT).await;
    let took = sent.elapsed();
    let detail = app.wait_for_deliveries(&idle_event).await;
    assert_eq!(detail.event.status, EventStatus::Delivered, "{detail:#?}");
    assert_eq!(
        slow.max_held(),
        8,
        "the slow destination holds exactly its share of the slots"
    );
    eprintln!(
        "fairness: idle recipe delivered {took:?} after its webhook, slow receiver holding 8"
    );

    // Released: every slow event is delivered, each with one attempt (the deliveries handed
    // back while the destination was full did not use up an attempt).
    slow.release();
    for id in &slow_events {
        let detail = app.wait_for_deliveries(id).await;
        assert_eq!(detail.event.status, EventStatus::Delivered, "{detail:#?}");
        assert_eq!(detail.deliveries[0].attempt_count, 1, "{detail:#?}");
    }
    let mut delivered: Vec<i64> = slow
        .bodies()
        .iter()
        .map(|b| b["n"].as_i64().unwrap())
        .collect();
    delivered.sort();
    assert_eq!(
        delivered,
        (0..SLOW_EVENTS as i64).collect::<Vec<_>>(),
        "each sent once"
    );
}
