//! Group commit: concurrent webhooks wait together for one transaction (one disk sync) instead
//! of one sync each. A caller is answered only after the batch holding its event committed.

use std::sync::Arc;

use tokio::sync::{Notify, mpsc, oneshot};

use crate::store::{NewEvent, Store, StoreError};

const MAX_BATCH: usize = 256;
const QUEUE_DEPTH: usize = 4096;

type Reply = oneshot::Sender<Result<(), Arc<StoreError>>>;

#[derive(Clone)]
pub struct GroupCommitter {
    queue: mpsc::Sender<(NewEvent, Reply)>,
}

impl GroupCommitter {
    /// Starts the committing task. `committed` is notified after every batch.
    pub fn start(store: Arc<dyn Store>, committed: Arc<Notify>) -> Self {
        let (queue, receiver) = mpsc::channel(QUEUE_DEPTH);
        tokio::spawn(commit_loop(store, receiver, committed));
        Self { queue }
    }

    /// Returns once the event is durably committed, or with the reason it was not.
    pub async fn commit(&self, event: NewEvent) -> Result<(), Arc<StoreError>> {
        let (reply, answer) = oneshot::channel();
        let closed = || {
            Arc::new(StoreError::Unsupported(
                "the event writer has stopped".into(),
            ))
        };
        self.queue
            .send((event, reply))
            .await
            .map_err(|_| closed())?;
        answer.await.map_err(|_| closed())?
    }
}

async fn commit_loop(
    store: Arc<dyn Store>,
    mut receiver: mpsc::Receiver<(NewEvent, Reply)>,
    committed: Arc<Notify>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    // recv_many waits for the first event, then takes whatever else is already queued.
    while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let (events, replies): (Vec<_>, Vec<_>) = batch.drain(..).unzip();
        let result = store.insert_events(&events).await.map_err(Arc::new);
        if result.is_ok() {
            committed.notify_waiters();
            committed.notify_one();
        }
        for reply in replies {
            let _ = reply.send(result.clone());
        }
    }
}
