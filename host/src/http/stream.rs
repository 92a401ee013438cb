//! `GET /v1/groups/{gid}/stream`: a group's messages as server-sent events.
//!
//! Each event's `id:` is the message id, so a client that reconnects with
//! `Last-Event-ID` gets what it missed, replayed from the database, then the
//! live tail. Several hosts may share one PostgreSQL database, so the tail is
//! read from the database too, by ONE poller per group on this host however
//! many streams are open on it: every `stream_poll` (a few hundred ms), and
//! at once when this host posts to the group (the in-process [`Notifier`]).
//! The poller broadcasts what it reads to the group's streams and stops when
//! the last one closes. Message ids of one group become visible in
//! increasing order (inserts into a group are serialised), so "everything
//! after the last id sent" never skips a message.
//!
//! Streams are capped per user and per group (429 `too_many_streams`).

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use serde::Deserialize;
use tokio::sync::{Notify, broadcast, watch};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::Auth;
use super::error::{ApiError, ErrorBody};
use super::views::MessageView;
use crate::store::StoredMessage;

/// How often an idle stream re-checks that its user is still a member (a
/// stream with messages to send checks before sending them).
const IDLE_MEMBERSHIP_CHECK: Duration = Duration::from_secs(30);

/// Messages a stream may fall behind its group's poller before it catches
/// up from the database instead.
const FEED_BUFFER: usize = 256;

/// Wakes this host's group pollers when it posts, keeps one poller per
/// streamed group, counts streams, and ends them at shutdown.
#[derive(Clone)]
pub struct Notifier {
    closing: Arc<watch::Sender<bool>>,
    hub: Arc<Mutex<Hub>>,
}

#[derive(Default)]
struct Hub {
    feeds: HashMap<String, Arc<Feed>>,
    per_user: HashMap<String, usize>,
    per_group: HashMap<String, usize>,
}

/// One group's live tail on this host, fed by one poller.
struct Feed {
    messages: broadcast::Sender<Arc<StoredMessage>>,
    wake: Notify,
}

impl Default for Notifier {
    fn default() -> Self {
        Notifier {
            closing: Arc::new(watch::channel(false).0),
            hub: Arc::default(),
        }
    }
}

fn lock(hub: &Mutex<Hub>) -> std::sync::MutexGuard<'_, Hub> {
    hub.lock().unwrap_or_else(|p| p.into_inner())
}

impl Notifier {
    /// Something was posted to `group_id`.
    pub fn notify(&self, group_id: &str) {
        if let Some(feed) = lock(&self.hub).feeds.get(group_id) {
            feed.wake.notify_one();
        }
    }

    /// End every stream (graceful shutdown waits for open connections).
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Groups with a poller running on this host.
    pub fn pollers(&self) -> usize {
        lock(&self.hub).feeds.len()
    }

    /// Live streams open on this host.
    pub fn streams(&self) -> usize {
        lock(&self.hub).per_user.values().sum()
    }

    /// Count a new stream of `user_id` on `group_id` (refused past a cap)
    /// and subscribe it to the group's feed, starting the group's poller at
    /// `head` (the latest message id, read before this call) if none runs.
    fn open(
        &self,
        state: &AppState,
        gid: &str,
        user_id: &str,
        head: i64,
    ) -> Result<(Slot, broadcast::Receiver<Arc<StoredMessage>>), ApiError> {
        let mut hub = lock(&self.hub);
        let (max_user, max_group) = (
            state.config.streams_per_user,
            state.config.streams_per_group,
        );
        let user_open = hub.per_user.get(user_id).copied().unwrap_or(0);
        if user_open >= max_user {
            return Err(too_many(format!(
                "you have {user_open} live streams open; the limit is {max_user}: close one first"
            )));
        }
        let group_open = hub.per_group.get(gid).copied().unwrap_or(0);
        if group_open >= max_group {
            return Err(too_many(format!(
                "this group has {group_open} live streams open; the limit is {max_group}"
            )));
        }
        *hub.per_user.entry(user_id.to_string()).or_insert(0) += 1;
        *hub.per_group.entry(gid.to_string()).or_insert(0) += 1;
        let feed = match hub.feeds.get(gid) {
            Some(feed) => feed.clone(),
            None => {
                let feed = Arc::new(Feed {
                    messages: broadcast::channel(FEED_BUFFER).0,
                    wake: Notify::new(),
                });
                hub.feeds.insert(gid.to_string(), feed.clone());
                tokio::spawn(poll_group(
                    state.clone(),
                    gid.to_string(),
                    feed.clone(),
                    head,
                ));
                feed
            }
        };
        let live = feed.messages.subscribe();
        let slot = Slot {
            hub: self.hub.clone(),
            gid: gid.to_string(),
            user_id: user_id.to_string(),
        };
        Ok((slot, live))
    }
}

fn too_many(message: String) -> ApiError {
    ApiError::RateLimited {
        code: "too_many_streams",
        message,
        retry_after: 5,
    }
}

/// One open stream, counted until dropped.
struct Slot {
    hub: Arc<Mutex<Hub>>,
    gid: String,
    user_id: String,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut guard = lock(&self.hub);
        let hub = &mut *guard;
        for (map, key) in [
            (&mut hub.per_user, &self.user_id),
            (&mut hub.per_group, &self.gid),
        ] {
            if let Some(open) = map.get_mut(key) {
                *open = open.saturating_sub(1);
                if *open == 0 {
                    map.remove(key);
                }
            }
        }
    }
}

/// The one poller of a group: reads what was posted after `cursor` and
/// broadcasts it, until no stream listens.
async fn poll_group(state: AppState, gid: String, feed: Arc<Feed>, mut cursor: i64) {
    let notifier = state.notifier.clone();
    let mut closing = notifier.closing.subscribe();
    loop {
        {
            let mut hub = lock(&notifier.hub);
            if feed.messages.receiver_count() == 0 || *closing.borrow() {
                if hub.feeds.get(&gid).is_some_and(|f| Arc::ptr_eq(f, &feed)) {
                    hub.feeds.remove(&gid);
                }
                return;
            }
        }
        match state.store().messages(&gid, cursor, 100).await {
            Ok(batch) => {
                let full = batch.len() == 100;
                for message in batch {
                    cursor = message.id;
                    // No receiver just means every stream left meanwhile.
                    let _ = feed.messages.send(Arc::new(message));
                }
                if full {
                    continue;
                }
            }
            Err(e) => tracing::warn!(group = %gid, "stream poll failed: {e}"),
        }
        tokio::select! {
            _ = tokio::time::sleep(state.config.stream_poll) => {}
            _ = feed.wake.notified() => {}
            _ = closing.changed() => {}
        }
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
        (status = 429, description = "`too_many_streams`: the caller's or the group's cap of live streams", body = ErrorBody),
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
    let head = state.store().latest_message_id(&gid).await?;
    let last = resume.or(query.after).unwrap_or(head);
    let (slot, live) = state.notifier.open(&state, &gid, &user.id, head)?;
    let tail = Tail {
        closing: state.notifier.closing.subscribe(),
        state,
        gid,
        user_id: user.id,
        last,
        buffer: VecDeque::new(),
        live,
        catching_up: true,
        _slot: slot,
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

/// What a waiting stream woke up for.
enum Woke {
    Feed(Result<Arc<StoredMessage>, broadcast::error::RecvError>),
    Idle,
    Closing,
}

/// One client's position in a group's timeline.
struct Tail {
    state: AppState,
    gid: String,
    user_id: String,
    /// The id of the last message sent.
    last: i64,
    buffer: VecDeque<StoredMessage>,
    /// The group's feed (shared poller).
    live: broadcast::Receiver<Arc<StoredMessage>>,
    /// Reading from the database until nothing is left, then from `live`.
    catching_up: bool,
    closing: watch::Receiver<bool>,
    _slot: Slot,
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
            if self.catching_up {
                if !self.still_member().await {
                    return None;
                }
                match self.state.store().messages(&self.gid, self.last, 100).await {
                    Ok(batch) if batch.is_empty() => self.catching_up = false,
                    Ok(batch) => self.buffer.extend(batch),
                    Err(e) => {
                        tracing::warn!(group = %self.gid, "stream read failed: {e}");
                        self.pause().await;
                    }
                }
                continue;
            }
            let woke = tokio::select! {
                received = self.live.recv() => Woke::Feed(received),
                _ = tokio::time::sleep(IDLE_MEMBERSHIP_CHECK) => Woke::Idle,
                _ = self.closing.changed() => Woke::Closing,
            };
            match woke {
                Woke::Feed(Ok(message)) => {
                    self.take(&message);
                    self.drain();
                    if !self.buffer.is_empty() && !self.still_member().await {
                        return None;
                    }
                }
                Woke::Feed(Err(broadcast::error::RecvError::Lagged(_))) => self.catching_up = true,
                Woke::Feed(Err(broadcast::error::RecvError::Closed)) => return None,
                Woke::Idle => {
                    if !self.still_member().await {
                        return None;
                    }
                }
                Woke::Closing => {}
            }
        }
    }

    /// Buffer `message` unless it was already sent (or buffered).
    fn take(&mut self, message: &StoredMessage) {
        let newest = self.buffer.back().map_or(self.last, |m| m.id);
        if message.id > newest {
            self.buffer.push_back(message.clone());
        }
    }

    /// Take whatever else the feed already holds.
    fn drain(&mut self) {
        loop {
            match self.live.try_recv() {
                Ok(message) => self.take(&message),
                Err(broadcast::error::TryRecvError::Lagged(_)) => {
                    self.catching_up = true;
                    return;
                }
                Err(_) => return,
            }
        }
    }

    /// Whether the caller is still in the group; a failed check counts as
    /// still a member (it is checked again before the next message).
    async fn still_member(&mut self) -> bool {
        match self.state.store().member(&self.gid, &self.user_id).await {
            Ok(member) => member.is_some(),
            Err(e) => {
                tracing::warn!(group = %self.gid, "stream membership check failed: {e}");
                true
            }
        }
    }

    /// After a database error: wait a poll interval (or shutdown).
    async fn pause(&mut self) {
        tokio::select! {
            _ = tokio::time::sleep(self.state.config.stream_poll) => {}
            _ = self.closing.changed() => {}
        }
    }
}
