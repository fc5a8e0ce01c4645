//! Group commit: concurrent webhooks wait together for one transaction (one disk sync) instead
//! of one sync each. A caller is answered only after the batch holding its event committed.

use std::sync::Arc;

use tokio::sync::{Notify, mpsc, oneshot};

use crate::store::{Inserted, NewEvent, SenderDelivery, SplitInserted, Store, StoreError};

const MAX_BATCH: usize = 256;
const QUEUE_DEPTH: usize = 4096;

type Reply = oneshot::Sender<Result<Inserted, Arc<StoreError>>>;
type Queued = (NewEvent, Option<SenderDelivery>, Reply);

#[derive(Clone)]
pub struct GroupCommitter {
    queue: mpsc::Sender<Queued>,
    store: Arc<dyn Store>,
    committed: Arc<Notify>,
}

impl GroupCommitter {
    /// Starts the committing task. `committed` is notified after every batch.
    pub fn start(store: Arc<dyn Store>, committed: Arc<Notify>) -> Self {
        let (queue, receiver) = mpsc::channel(QUEUE_DEPTH);
        tokio::spawn(commit_loop(store.clone(), receiver, committed.clone()));
        Self {
            queue,
            store,
            committed,
        }
    }

    /// A split request and its element events, in a transaction of their own (one sync for
    /// the whole list, however long), then the workers are woken as after a batch.
    pub async fn commit_split(
        &self,
        parent: &NewEvent,
        sender: Option<SenderDelivery>,
        children: &[NewEvent],
    ) -> Result<SplitInserted, StoreError> {
        let inserted = self.store.insert_split(parent, sender, children).await?;
        if inserted == SplitInserted::Stored && !children.is_empty() {
            self.committed.notify_waiters();
            self.committed.notify_one();
        }
        Ok(inserted)
    }

    /// Returns once the event is durably committed, or with the reason it was not.
    pub async fn commit(&self, event: NewEvent) -> Result<(), Arc<StoreError>> {
        self.commit_once(event, None).await.map(|_| ())
    }

    /// Like `commit`; with the sender's delivery id, a retry of a delivery already stored is
    /// not stored again and answers `Duplicate` with the first event's id.
    pub async fn commit_once(
        &self,
        event: NewEvent,
        sender: Option<SenderDelivery>,
    ) -> Result<Inserted, Arc<StoreError>> {
        let (reply, answer) = oneshot::channel();
        let closed = || {
            Arc::new(StoreError::Unsupported(
                "the event writer has stopped".into(),
            ))
        };
        self.queue
            .send((event, sender, reply))
            .await
            .map_err(|_| closed())?;
        answer.await.map_err(|_| closed())?
    }
}

async fn commit_loop(
    store: Arc<dyn Store>,
    mut receiver: mpsc::Receiver<Queued>,
    committed: Arc<Notify>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    // recv_many waits for the first event, then takes whatever else is already queued.
    while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let (events, replies): (Vec<_>, Vec<_>) = batch
            .drain(..)
            .map(|(event, sender, reply)| ((event, sender), reply))
            .unzip();
        match store.insert_events_once(&events).await {
            Ok(results) => {
                committed.notify_waiters();
                committed.notify_one();
                for (reply, result) in replies.into_iter().zip(results) {
                    let _ = reply.send(Ok(result));
                }
            }
            Err(error) => {
                let error = Arc::new(error);
                for reply in replies {
                    let _ = reply.send(Err(error.clone()));
                }
            }
        }
    }
}
