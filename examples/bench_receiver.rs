//! A fast local HTTP receiver for `bench/run.sh`: answers 200 to everything and reports how
//! many requests it got at `GET /count`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use actix_web::{App, HttpResponse, HttpServer, web};

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let bind = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9999".into());
    let count = Arc::new(AtomicU64::new(0));
    HttpServer::new(move || {
        let count = count.clone();
        App::new()
            .app_data(web::Data::from(count))
            .route("/count", web::get().to(report))
            .default_service(web::to(receive))
    })
    .workers(1)
    .bind(bind)?
    .run()
    .await
}

async fn receive(count: web::Data<AtomicU64>, _body: web::Bytes) -> HttpResponse {
    count.fetch_add(1, Ordering::Relaxed);
    HttpResponse::Ok().finish()
}

async fn report(count: web::Data<AtomicU64>) -> HttpResponse {
    HttpResponse::Ok().body(count.load(Ordering::Relaxed).to_string())
}
