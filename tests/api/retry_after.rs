//! A receiver's `Retry-After` (RFC 9110 §10.2.3) in any of its forms sets the next attempt:
//! delta-seconds and the three HTTP-date forms (IMF-fixdate, RFC 850, asctime; §5.6.7). A value
//! that is not understood falls back to the retry schedule and says so in the attempt.

use std::sync::Arc;

use actix_web::{App, HttpResponse, HttpServer, web};
use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use switchyard::store::DeliveryView;

use crate::helpers::{TestApp, spawn_app};

/// Answers `503` with `Retry-After: values[i]` on `/{i}`.
async fn busy_receiver(values: Vec<String>) -> String {
    let values = Arc::new(values);
    let server = HttpServer::new(move || {
        let values = values.clone();
        App::new().route(
            "/{i}",
            web::post().to(move |i: web::Path<usize>| {
                let value = values[*i].clone();
                async move {
                    HttpResponse::ServiceUnavailable()
                        .insert_header(("Retry-After", value))
                        .finish()
                }
            }),
        )
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let base = format!("http://127.0.0.1:{}", server.addrs()[0].port());
    tokio::spawn(server.run());
    base
}

async fn first_attempt(app: &TestApp, id: &str, url: &str) -> DeliveryView {
    let source = format!(
        r#"
id = "{id}"
name = "{id}"
[trigger.webhook]
[[action]]
name = "busy"
url = "{url}"
retry = {{ schedule = ["0s", "5s", "5m"] }}
"#
    );
    let recipe = app.import(&source).await;
    let event = app.send_event(&recipe, &json!({ "n": 1 })).await;
    let detail = app
        .wait_for_event(&event, |d| {
            d.deliveries.first().is_some_and(|x| !x.attempts.is_empty())
        })
        .await;
    detail.deliveries[0].clone()
}

fn wait_after_attempt(delivery: &DeliveryView) -> Duration {
    let next: DateTime<Utc> = delivery.next_attempt_at.expect("a retry is scheduled");
    next - delivery.attempts[0].started_at
}

#[tokio::test]
async fn retry_after_in_every_http_date_form_and_in_seconds_delays_the_retry() {
    let in_two_hours = Utc::now() + Duration::hours(2);
    let forms = [
        ("seconds", "7200".to_owned()),
        (
            "imf",
            in_two_hours.format("%a, %d %b %Y %H:%M:%S GMT").to_string(),
        ),
        (
            "rfc850",
            in_two_hours.format("%A, %d-%b-%y %H:%M:%S GMT").to_string(),
        ),
        (
            "asctime",
            in_two_hours.format("%a %b %e %H:%M:%S %Y").to_string(),
        ),
    ];
    let base = busy_receiver(forms.iter().map(|(_, v)| v.clone()).collect()).await;
    let app = spawn_app().await;
    for (i, (form, value)) in forms.iter().enumerate() {
        let delivery = first_attempt(&app, form, &format!("{base}/{i}")).await;
        let wait = wait_after_attempt(&delivery);
        assert!(
            wait > Duration::minutes(118) && wait <= Duration::minutes(121),
            "{form} ({value:?}): next attempt after {wait}"
        );
        assert_eq!(delivery.attempts[0].status_code, Some(503));
        assert_eq!(delivery.attempts[0].error, None, "{form}: understood");
    }
}

#[tokio::test]
async fn an_unparseable_retry_after_falls_back_to_the_schedule_and_is_noted_in_the_attempt() {
    let base = busy_receiver(vec!["soon".into()]).await;
    let app = spawn_app().await;
    let delivery = first_attempt(&app, "soon", &format!("{base}/0")).await;
    let wait = wait_after_attempt(&delivery);
    // The schedule's 5 s, with its ±20% jitter.
    assert!(wait <= Duration::seconds(7), "next attempt after {wait}");
    assert_eq!(
        delivery.attempts[0].error.as_deref(),
        Some("Retry-After \"soon\" not understood; retrying on the schedule")
    );
}
