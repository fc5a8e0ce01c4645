//! Secret values the delivery worker has read, kept while the store's secrets generation stands
//! still. Every secret set or deleted moves the generation on in the same transaction, in any
//! process or node, and every claim reads it: an attempt observes its claim's generation before
//! it looks a secret up, so a change committed before the claim is never served from here.
//! Only values are kept: a missing secret is read again by every attempt that needs it.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::store::{SecretStore, StoreError};

#[derive(Default)]
pub(super) struct SecretCache {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// The latest generation observed; nothing is kept before the first.
    generation: Option<i64>,
    values: HashMap<String, String>,
}

impl SecretCache {
    /// Drops every value when `generation` (a claim's) is newer than the values'. It only moves
    /// forward: an attempt from an older claim finishing late cannot bring old values back.
    pub(super) fn observe(&self, generation: i64) {
        let mut inner = self.inner.lock().expect("secret cache lock");
        if inner.generation.is_none_or(|seen| generation > seen) {
            inner.generation = Some(generation);
            inner.values.clear();
        }
    }

    /// The secret's value, from here or else from the store (then kept, unless the generation
    /// moved while it was read: the value read may be the one just replaced). The store's
    /// errors are returned as they are (`SecretUnreadable` for a value sealed with another key).
    pub(super) async fn get(
        &self,
        store: &(dyn SecretStore + Send + Sync),
        name: &str,
    ) -> Result<Option<String>, StoreError> {
        let generation = {
            let inner = self.inner.lock().expect("secret cache lock");
            if let Some(value) = inner.values.get(name) {
                return Ok(Some(value.clone()));
            }
            inner.generation
        };
        let value = store.get_secret(name).await?;
        if let (Some(value), Some(generation)) = (&value, generation) {
            let mut inner = self.inner.lock().expect("secret cache lock");
            if inner.generation == Some(generation) {
                inner.values.insert(name.to_owned(), value.clone());
            }
        }
        Ok(value)
    }
}
