//! Recording delivery attempts when the store refuses one. An attempt that cannot be recorded
//! leaves its delivery leased; once the lease expires the call is made again, and again, every
//! lease period without end. So a refused record is never the end of it: the attempt is kept
//! without the outside text the store refused, saying so.

use async_trait::async_trait;

use super::{DeliveryNext, NewAttempt, StoreError};

/// The backend's write of a batch of attempts, all in one transaction.
#[async_trait]
pub(crate) trait WriteAttempts {
    async fn write_attempts(
        &self,
        owner: &str,
        attempts: Vec<(NewAttempt, DeliveryNext)>,
    ) -> Result<(), StoreError>;
}

/// Writes the batch; when the store refuses it for its content ([`StoreError::Refused`]), writes
/// each attempt alone, and one refused again is written without its response snippet, its error
/// naming what the store refused. The delivery moves on as decided (delivered, retry, dead).
/// Other errors (store unreachable) are returned: the leases expire and the calls are retried.
pub(crate) async fn record_or_explain<S: WriteAttempts + Sync>(
    store: &S,
    owner: &str,
    attempts: Vec<(NewAttempt, DeliveryNext)>,
) -> Result<(), StoreError> {
    if attempts.is_empty() {
        return Ok(());
    }
    match store.write_attempts(owner, attempts.clone()).await {
        Err(StoreError::Refused(error)) => {
            tracing::warn!(%error, "the store refused a batch of attempts; recording them one by one");
        }
        done => return done,
    }
    for (attempt, next) in attempts {
        match store
            .write_attempts(owner, vec![(attempt.clone(), next)])
            .await
        {
            Err(StoreError::Refused(error)) => {
                tracing::error!(
                    delivery = %attempt.delivery_id,
                    %error,
                    "the store refused an attempt's record; kept without its response text"
                );
                let explained = explained(attempt, &error.to_string());
                match store.write_attempts(owner, vec![(explained, next)]).await {
                    // Refused even so (its delivery is gone, say): the others still count.
                    Err(StoreError::Refused(error)) => {
                        tracing::error!(%error, "the store refused an attempt's record altogether");
                    }
                    done => done?,
                }
            }
            done => done?,
        }
    }
    Ok(())
}

/// The attempt without its outside text, its error saying why.
fn explained(attempt: NewAttempt, refusal: &str) -> NewAttempt {
    let had = match (&attempt.response_snippet, &attempt.error) {
        (Some(_), Some(_)) => "response snippet and error",
        (Some(_), None) => "response snippet",
        _ => "error",
    };
    NewAttempt {
        response_snippet: None,
        response: None,
        error: Some(format!(
            "not recorded: the store refused this attempt's {had} ({refusal})"
        )),
        ..attempt
    }
}
