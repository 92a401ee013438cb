//! Members' plain posts to one group on PostgreSQL, committed together
//! (issue 12 item 3).
//!
//! A group's messages take its message order lock until they commit, so
//! their ids become visible in order; the commit waits for its WAL flush
//! (`synchronous_commit = on`) inside that lock. One post at a time, a group
//! took at most one post per statement-plus-flush (about 3,700 a second on
//! the 2-core bench machine, however many connections). So posts to a group
//! queue here while its batch is under way, and the next batch commits them
//! all in one transaction: one lock, one flush, ids in queue order. A post
//! that arrives when nothing is under way goes at once, alone (one round
//! trip, as before). If a batch fails, each of its posts is tried alone, so
//! one post's failure is nobody else's.
//!
//! The batches of a group run in a task of their own, not in any request's
//! future: a client that goes away cannot strand the posts queued behind
//! its own.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::sync::oneshot;

use super::messages::insert_at_once;
use super::{NewMessage, Store, StoreError};

/// At most this many posts per transaction.
const BATCH_MAX: usize = 64;

type Answer = oneshot::Sender<Result<Option<i64>, StoreError>>;
/// A post waiting for its batch: the message, when it was posted, its answer.
type Waiting = (NewMessage, i64, Answer);
/// Group id → its posts waiting.
type Queues = HashMap<String, Vec<Waiting>>;

/// Group id → posts waiting for the batch under way (an entry exists while
/// the group's task runs).
#[derive(Default)]
pub(crate) struct PostBatch {
    waiting: Mutex<Queues>,
}

impl PostBatch {
    fn lock(&self) -> std::sync::MutexGuard<'_, Queues> {
        self.waiting.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Removes the group's entry if its task ends early (a panic): the posts
/// still queued are then answered with an error, never left waiting.
struct Running<'a> {
    batch: &'a PostBatch,
    group: &'a str,
    /// Cleared when the task removed the entry itself.
    armed: bool,
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.batch.lock().remove(self.group);
        }
    }
}

impl Store {
    /// Store a message that fits one statement (no files), committed with
    /// whatever other posts to its group wait with it; its id (`None`: it
    /// does not fit one statement).
    pub(super) async fn post_batched(
        &self,
        message: &NewMessage,
        now: i64,
    ) -> Result<Option<i64>, StoreError> {
        let (answer, answered) = oneshot::channel();
        let first = {
            let mut waiting = self.posts.lock();
            match waiting.get_mut(&message.group_id) {
                Some(queue) => {
                    queue.push((message.clone(), now, answer));
                    None
                }
                None => {
                    waiting.insert(message.group_id.clone(), Vec::new());
                    Some(answer)
                }
            }
        };
        if let Some(answer) = first {
            let store = self.clone();
            let message = message.clone();
            tokio::spawn(async move {
                let group = message.group_id.clone();
                let mut running = Running {
                    batch: &store.posts,
                    group: &group,
                    armed: true,
                };
                store.commit_posts(vec![(message, now, answer)]).await;
                loop {
                    let batch: Vec<_> = {
                        let mut waiting = store.posts.lock();
                        let Some(queue) = waiting.get_mut(&group) else {
                            running.armed = false;
                            return;
                        };
                        if queue.is_empty() {
                            waiting.remove(&group);
                            running.armed = false;
                            return;
                        }
                        let n = queue.len().min(BATCH_MAX);
                        queue.drain(..n).collect()
                    };
                    store.commit_posts(batch).await;
                }
            });
        }
        answered
            .await
            .unwrap_or(Err(StoreError::Database(sqlx::Error::WorkerCrashed)))
    }

    /// Commit `batch` (one transaction when there are several) and answer
    /// each post.
    async fn commit_posts(&self, batch: Vec<Waiting>) {
        if batch.len() > 1 {
            let together = async {
                let mut tx = self.begin_write().await?;
                let mut ids = Vec::with_capacity(batch.len());
                for (message, now, _) in &batch {
                    ids.push(insert_at_once(&mut *tx.tx, message, *now).await?);
                }
                tx.commit().await?;
                Ok::<_, StoreError>(ids)
            };
            if let Ok(ids) = together.await {
                for ((_, _, answer), id) in batch.into_iter().zip(ids) {
                    let _ = answer.send(Ok(id));
                }
                return;
            }
        }
        for (message, now, answer) in batch {
            let alone = async {
                let mut conn = self.conn().await?;
                insert_at_once(&mut *conn, &message, now).await
            };
            let _ = answer.send(alone.await);
        }
    }
}
