//! A write the store refuses must not loop: an attempt it cannot record is kept without the
//! refused text, saying why, and its delivery moves on instead of being sent again every lease.

use chrono::Utc;
use std::sync::Arc;
use switchyard::store::{DeliveryNext, EventStatus, Store};

use super::Raw;
use super::contracts::{LEASE, attempt, done_with, event, run};

pub(super) async fn an_attempt_the_store_refuses_is_kept_without_its_text_and_its_delivery_moves_on(
    store: Arc<dyn Store>,
    raw: &Raw,
) {
    raw.refuse_poisoned_snippets().await;
    let ev = event("r", Utc::now());
    store
        .insert_events(std::slice::from_ref(&ev))
        .await
        .unwrap();
    store.claim_events("w", 1, LEASE).await.unwrap();
    store
        .complete_run("w", run(&ev.id, done_with(None, 2)))
        .await
        .unwrap();
    let claimed = store.claim_deliveries("w", 10, LEASE).await.unwrap();
    let id_of = |name: &str| {
        claimed
            .iter()
            .find(|d| d.action_name == name)
            .unwrap()
            .id
            .clone()
    };
    let (poisoned, fine) = (id_of("a0"), id_of("a1"));

    let mut refused = attempt(&poisoned, 1, 200);
    refused.response_snippet = Some("poison!".into());
    let retry_at = Utc::now() - chrono::Duration::seconds(1);
    store
        .record_attempts(
            "w",
            vec![
                (refused, DeliveryNext::Delivered),
                (attempt(&fine, 1, 503), DeliveryNext::RetryAt(retry_at)),
            ],
        )
        .await
        .expect("a refused attempt does not fail the batch");

    let detail = store.get_event(&ev.id).await.unwrap().unwrap();
    let delivery = |id: &str| detail.deliveries.iter().find(|d| d.id == id).unwrap();
    let kept = &delivery(&poisoned).attempts;
    assert_eq!(delivery(&poisoned).status, "delivered", "{detail:#?}");
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].status_code, Some(200));
    assert_eq!(kept[0].response_snippet, None);
    let error = kept[0].error.as_deref().unwrap_or_default();
    assert!(
        error.starts_with("not recorded: the store refused this attempt's response snippet"),
        "{error}"
    );
    assert_eq!(delivery(&fine).status, "pending");
    assert_eq!(
        delivery(&fine).attempts[0].response_snippet.as_deref(),
        Some("body")
    );
    assert_eq!(detail.event.status, EventStatus::Done);

    let again = store.claim_deliveries("w", 10, LEASE).await.unwrap();
    let ids: Vec<_> = again.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(
        ids,
        vec![fine.as_str()],
        "the refused one is not sent again"
    );
}
