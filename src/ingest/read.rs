//! Reading a webhook body within the body limit and the body timeout.

use actix_web::{HttpRequest, web};
use futures_util::StreamExt;

use super::error::IngestError;

/// Reads the body, refusing it as soon as it passes `limit` (declared or actual length) or
/// when it has not fully arrived within `timeout` (zero: no deadline).
pub async fn read_limited(
    body: web::Payload,
    req: &HttpRequest,
    limit: usize,
    timeout: std::time::Duration,
) -> Result<Vec<u8>, IngestError> {
    let read = read_body(body, req, limit);
    if timeout.is_zero() {
        return read.await;
    }
    tokio::time::timeout(timeout, read)
        .await
        .map_err(|_| IngestError::BodyTimeout(timeout))?
}

async fn read_body(
    mut body: web::Payload,
    req: &HttpRequest,
    limit: usize,
) -> Result<Vec<u8>, IngestError> {
    let declared = req
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(IngestError::TooLarge { limit });
    }
    let mut bytes = Vec::with_capacity(declared.unwrap_or(0));
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| IngestError::BodyRead(e.to_string()))?;
        if bytes.len() + chunk.len() > limit {
            return Err(IngestError::TooLarge { limit });
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}
