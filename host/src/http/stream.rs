//! `GET /v1/groups/{gid}/stream`: a group's messages as server-sent events.
//!
//! Each event's `id:` is the message id, so a client that reconnects with
//! `Last-Event-ID` gets what it missed, replayed from the database, then the
//! live tail. Several hosts may share one PostgreSQL database, so the tail is
//! read from the database too: every `stream_poll` (a few hundred ms), and at
//! once when this host posts to the group (the in-process [`Notifier`]).
//! Message ids of one group become visible in increasing order (inserts into
//! a group are serialised), so "everything after the last id sent" never
//! skips a message.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use serde::Deserialize;
use tokio::sync::{broadcast, watch};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::Auth;
use super::error::{ApiError, ErrorBody};
use super::views::MessageView;
use crate::store::StoredMessage;

/// Wakes this host's live streams when it posts, and ends them at shutdown.
#[derive(Clone)]
pub struct Notifier {
    posted: broadcast::Sender<Arc<str>>,
    closing: Arc<watch::Sender<bool>>,
}

impl Default for Notifier {
    fn default() -> Self {
        Notifier {
            posted: broadcast::channel(1024).0,
            closing: Arc::new(watch::channel(false).0),
        }
    }
}

impl Notifier {
    /// Something was posted to `group_id`.
    pub fn notify(&self, group_id: &str) {
        // No receiver just means nobody is streaming.
        let _ = self.posted.send(Arc::from(group_id));
    }

    /// End every stream (graceful shutdown waits for open connections).
    pub fn close(&self) {
        self.closing.send_replace(true);
    }
}

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(stream))
}

/// Where to start when the client sends no `Last-Event-ID`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct StreamQuery {
    /// Replay messages with an id greater than this first (default: only new messages).
    after: Option<i64>,
}

/// Live messages of a group (server-sent events, resumable).
#[utoipa::path(
    get,
    path = "/v1/groups/{gid}/stream",
    tag = "messages",
    params(
        ("gid" = String, Path, description = "Group id"),
        ("Last-Event-ID" = Option<i64>, Header, description = "Resume after this message id"),
        StreamQuery,
    ),
    responses(
        (status = 200, description = "`text/event-stream`; each `message` event's data is a message, its id the message id", body = MessageView, content_type = "text/event-stream"),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
    )
)]
async fn stream(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path(gid): Path<String>,
    query: Result<Query<StreamQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let Query(query) = query?;
    state.member_of(&gid, &user).await?;
    let resume = match headers.get("last-event-id") {
        Some(value) => Some(
            value
                .to_str()
                .ok()
                .and_then(|v| v.trim().parse::<i64>().ok())
                .ok_or_else(|| {
                    ApiError::bad("bad_last_event_id", "Last-Event-ID must be a message id")
                })?,
        ),
        None => None,
    };
    let last = match resume.or(query.after) {
        Some(id) => id,
        None => state.store().latest_message_id(&gid).await?,
    };
    let tail = Tail {
        wake: state.notifier.posted.subscribe(),
        closing: state.notifier.closing.subscribe(),
        state,
        gid,
        user_id: user.id,
        last,
        buffer: VecDeque::new(),
    };
    let events = futures::stream::unfold(tail, |mut tail| async move {
        let message = tail.next().await?;
        Some((Ok(event(message)), tail))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

fn event(message: StoredMessage) -> Event {
    let id = message.id.to_string();
    Event::default()
        .id(id)
        .event("message")
        .json_data(MessageView::from(message))
        .unwrap_or_else(|e| Event::default().comment(format!("unencodable message: {e}")))
}

/// One client's position in a group's timeline.
struct Tail {
    state: AppState,
    gid: String,
    user_id: String,
    last: i64,
    buffer: VecDeque<StoredMessage>,
    wake: broadcast::Receiver<Arc<str>>,
    closing: watch::Receiver<bool>,
}

impl Tail {
    /// The next message, waiting for one; `None` ends the stream (shutdown,
    /// or the caller left the group).
    async fn next(&mut self) -> Option<StoredMessage> {
        loop {
            if let Some(message) = self.buffer.pop_front() {
                self.last = message.id;
                return Some(message);
            }
            if *self.closing.borrow() {
                return None;
            }
            let store = self.state.store();
            match store.member(&self.gid, &self.user_id).await {
                Ok(None) => return None,
                Ok(Some(_)) => match store.messages(&self.gid, self.last, 100).await {
                    Ok(batch) if !batch.is_empty() => {
                        self.buffer.extend(batch);
                        continue;
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(group = %self.gid, "stream read failed: {e}"),
                },
                Err(e) => tracing::warn!(group = %self.gid, "stream membership check failed: {e}"),
            }
            self.wait().await;
        }
    }

    /// Until this host posts to the group, the poll interval passes, or shutdown.
    async fn wait(&mut self) {
        let poll = tokio::time::sleep(self.state.config.stream_poll);
        let gid = self.gid.clone();
        let wake = &mut self.wake;
        let posted_here = async move {
            loop {
                match wake.recv().await {
                    Ok(group) if *group == *gid => return,
                    Ok(_) => continue,
                    Err(broadcast::error::RecvError::Lagged(_)) => return,
                    Err(broadcast::error::RecvError::Closed) => std::future::pending::<()>().await,
                }
            }
        };
        tokio::select! {
            _ = poll => {}
            _ = posted_here => {}
            _ = self.closing.changed() => {}
        }
    }
}
