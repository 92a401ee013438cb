//! `GET /v1/groups/{gid}/stream`: a group's messages as server-sent events.
//!
//! Each `message` event's `id:` is the message id, so a client that
//! reconnects with `Last-Event-ID` gets what it missed, replayed from the
//! database, then the live tail. Several hosts may share one PostgreSQL
//! database, so the tail is read from the database too, by ONE poller per
//! group on this host however many streams are open on it: every
//! `stream_poll` (a few hundred ms), and at once when this host posts to
//! the group (the in-process [`Notifier`]). The poller broadcasts what it
//! reads to the group's streams and stops when the last one closes.
//!
//! Besides new messages (`message`), a stream carries `message-updated` (an
//! app replaced a message; the whole message again), `message-deleted`
//! (`{"id", "group_id"}`) and `direct-message` (an app of this group wrote
//! to the stream's member). Each stream gets exactly what its member may
//! see: a private reply only on its member's streams, a direct message only
//! on its recipient's. Those three events repeat the `id:` of the last
//! `message` sent, so resuming stays where the timeline was (they are not
//! replayed: a client that reconnects reads messages afresh, and direct
//! messages from `/v1/me/direct-messages`).
//!
//! An app's message id is given out when it posts and the row is written
//! when its invocation commits, so a lower id can become visible after a
//! higher one: the poller re-reads the ids of the last [`LOOKBACK`] and
//! sends what it had not seen, and every stream drops what it already sent.
//!
//! Streams are capped per user and per group (429 `too_many_streams`).

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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
use super::messages::DirectView;
use super::render;
use super::views::MessageView;
use crate::store::now_ms;

/// How often an idle stream re-checks that its user is still a member (a
/// stream with messages to send checks before sending them).
const IDLE_MEMBERSHIP_CHECK: Duration = Duration::from_secs(30);

/// Items a stream may fall behind its group's poller before it catches
/// up from the database instead.
const FEED_BUFFER: usize = 256;

/// How far back (in time) a poller re-reads ids for messages committed
/// after higher ids (an invocation's id is given out before its commit).
pub const LOOKBACK: Duration = Duration::from_secs(10);

/// How far back (ms) a poller re-reads changes, for clocks of hosts that
/// share the database and disagree a little.
const CHANGE_SLACK_MS: i64 = 5_000;

/// Message ids a stream remembers having sent (to drop repeats).
const SENT_MEMORY: usize = 2_048;

/// A message and who may see it.
#[derive(Debug)]
struct Shown {
    view: MessageView,
    /// The one member who sees it; `None`: everyone.
    visible_to: Option<String>,
}

impl Shown {
    fn for_member(&self, member: &str) -> bool {
        self.visible_to.as_deref().is_none_or(|m| m == member)
    }
}

/// What a group's poller hands its streams.
#[derive(Debug, Clone)]
enum FeedItem {
    /// A new message.
    Posted(Arc<Shown>),
    /// A message its app replaced.
    Updated(Arc<Shown>),
    /// A message its app deleted.
    Deleted { id: i64, visible_to: Option<String> },
    /// A direct message to one member.
    Direct {
        recipient: String,
        view: Arc<DirectView>,
    },
}

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
    items: broadcast::Sender<FeedItem>,
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
    /// Something was posted to, changed in, or sent from `group_id`.
    pub fn notify(&self, group_id: &str) {
        if let Some(feed) = lock(&self.hub).feeds.get(group_id) {
            feed.wake.notify_one();
        }
    }

    /// End every stream (graceful shutdown waits for open connections).
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Resolves once shutdown has begun (requests that would wait, such as
    /// an upload waiting for its compile, answer at once instead).
    pub async fn closing(&self) {
        let mut closing = self.closing.subscribe();
        let _ = closing.wait_for(|closing| *closing).await;
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
        head: Heads,
    ) -> Result<(Slot, broadcast::Receiver<FeedItem>), ApiError> {
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
                    items: broadcast::channel(FEED_BUFFER).0,
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
        let live = feed.items.subscribe();
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

/// Where a poller starts: the newest message and direct message ids.
#[derive(Debug, Clone, Copy)]
struct Heads {
    message: i64,
    direct: i64,
}

/// Ids read in increasing order, some of which may show up late (below
/// the newest one seen): re-read from a floor a [`LOOKBACK`] behind,
/// skipping the ids already seen.
struct IdCursor {
    /// The newest id seen.
    newest: i64,
    /// (when, newest then), oldest first: the floor is the newest of the
    /// entries older than the lookback.
    history: VecDeque<(Instant, i64)>,
    floor: i64,
    seen: BTreeSet<i64>,
}

impl IdCursor {
    fn new(start: i64) -> IdCursor {
        IdCursor {
            newest: start,
            history: VecDeque::new(),
            floor: start,
            seen: BTreeSet::new(),
        }
    }

    /// Record the newest id now, move the floor up, forget ids below it.
    fn tick(&mut self) {
        let now = Instant::now();
        if self.history.back().is_none_or(|(_, n)| *n != self.newest) {
            self.history.push_back((now, self.newest));
        }
        while let Some((when, newest)) = self.history.front().copied() {
            if now.duration_since(when) < LOOKBACK {
                break;
            }
            self.floor = self.floor.max(newest);
            self.history.pop_front();
        }
        let floor = self.floor;
        self.seen.retain(|id| *id > floor);
    }

    /// Whether `id` is new (and remember it).
    fn first_sight(&mut self, id: i64) -> bool {
        if id <= self.floor || !self.seen.insert(id) {
            return false;
        }
        self.newest = self.newest.max(id);
        true
    }
}

/// The one poller of a group: reads what was posted, changed and sent
/// after its cursors and broadcasts it, until no stream listens.
async fn poll_group(state: AppState, gid: String, feed: Arc<Feed>, head: Heads) {
    let notifier = state.notifier.clone();
    let mut closing = notifier.closing.subscribe();
    let mut messages = IdCursor::new(head.message);
    let mut directs = IdCursor::new(head.direct);
    // Changes: (id -> the change's time) already sent, and where to read from.
    let mut changes: HashMap<i64, i64> = HashMap::new();
    let mut since = now_ms();
    loop {
        {
            let mut hub = lock(&notifier.hub);
            if feed.items.receiver_count() == 0 || *closing.borrow() {
                if hub.feeds.get(&gid).is_some_and(|f| Arc::ptr_eq(f, &feed)) {
                    hub.feeds.remove(&gid);
                }
                return;
            }
        }
        if let Err(e) = poll_once(
            &state,
            &gid,
            &feed,
            &mut messages,
            &mut directs,
            &mut changes,
            &mut since,
        )
        .await
        {
            tracing::warn!(group = %gid, "stream poll failed: {e}");
        }
        tokio::select! {
            _ = tokio::time::sleep(state.config.stream_poll) => {}
            _ = feed.wake.notified() => {}
            _ = closing.changed() => {}
        }
    }
}

/// One round of a poller: new messages, changes and direct messages.
async fn poll_once(
    state: &AppState,
    gid: &str,
    feed: &Feed,
    messages: &mut IdCursor,
    directs: &mut IdCursor,
    changes: &mut HashMap<i64, i64>,
    since: &mut i64,
) -> Result<(), crate::store::StoreError> {
    const PAGE: u32 = 100;
    let store = state.store();
    messages.tick();
    // Page through everything above the floor (ids seen before are skipped).
    let mut from = messages.floor;
    loop {
        // Every message, private replies included (each stream filters).
        let batch = store.messages(gid, from, PAGE).await?;
        let Some(newest) = batch.last().map(|m| m.id) else {
            break;
        };
        let full = batch.len() == PAGE as usize;
        let fresh: Vec<_> = batch
            .into_iter()
            .filter(|m| messages.first_sight(m.id))
            .filter(|m| m.deleted_at.is_none())
            .collect();
        let visible: Vec<Option<String>> = fresh.iter().map(|m| m.visible_to.clone()).collect();
        for (view, visible_to) in render::views(store, fresh).await?.into_iter().zip(visible) {
            // No receiver just means every stream left meanwhile.
            let _ = feed
                .items
                .send(FeedItem::Posted(Arc::new(Shown { view, visible_to })));
        }
        if !full {
            break;
        }
        from = newest;
    }

    let changed = store
        .group_changes_since(gid, *since - CHANGE_SLACK_MS, 1_000)
        .await?;
    let mut updated = Vec::new();
    for m in changed {
        let at = m.deleted_at.or(m.updated_at).unwrap_or(0);
        *since = (*since).max(at);
        if changes.get(&m.id) == Some(&at) {
            continue;
        }
        changes.insert(m.id, at);
        if m.id > messages.newest {
            // Not posted on the streams yet: it goes out as it is then.
            continue;
        }
        if m.deleted_at.is_some() {
            let _ = feed.items.send(FeedItem::Deleted {
                id: m.id,
                visible_to: m.visible_to.clone(),
            });
        } else {
            updated.push(m);
        }
    }
    let visible: Vec<Option<String>> = updated.iter().map(|m| m.visible_to.clone()).collect();
    for (view, visible_to) in render::views(store, updated)
        .await?
        .into_iter()
        .zip(visible)
    {
        let _ = feed
            .items
            .send(FeedItem::Updated(Arc::new(Shown { view, visible_to })));
    }
    let horizon = *since - 2 * CHANGE_SLACK_MS;
    changes.retain(|_, at| *at >= horizon);

    directs.tick();
    let mut from = directs.floor;
    loop {
        let batch = store.group_directs(gid, from, PAGE).await?;
        let Some(newest) = batch.last().map(|d| d.id) else {
            break;
        };
        let full = batch.len() == PAGE as usize;
        let fresh: Vec<_> = batch
            .into_iter()
            .filter(|d| directs.first_sight(d.id))
            .collect();
        let recipients: Vec<String> = fresh.iter().map(|d| d.recipient_id.clone()).collect();
        let views = super::messages::direct_views(store, fresh).await?;
        for (recipient, view) in recipients.into_iter().zip(views) {
            let _ = feed.items.send(FeedItem::Direct {
                recipient,
                view: Arc::new(view),
            });
        }
        if !full {
            break;
        }
        from = newest;
    }
    Ok(())
}

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(stream))
}

/// Where to start when the client sends no `Last-Event-ID`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// Replay messages with an id greater than this first (default: only new messages).
    after: Option<i64>,
}

/// Live messages of a group (server-sent events, resumable).
///
/// Events: `message` (a new message you may see; `id:` is its id),
/// `message-updated` (a message its app replaced, whole), `message-deleted`
/// (`{"id", "group_id"}`), `direct-message` (an app of this group wrote to
/// you). Private replies reach only their member's streams.
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
        (status = 200, description = "`text/event-stream`; `message` and `message-updated` events carry a message, `message-deleted` `{\"id\", \"group_id\"}`, `direct-message` a direct message", body = MessageView, content_type = "text/event-stream"),
        (status = 400, body = ErrorBody),
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
    let head = Heads {
        message: state.store().latest_message_id(&gid).await?,
        direct: state.store().latest_group_direct_id(&gid).await?,
    };
    let last = resume.or(query.after).unwrap_or(head.message);
    let (slot, live) = state.notifier.open(&state, &gid, &user.id, head)?;
    let tail = Tail {
        closing: state.notifier.closing.subscribe(),
        state,
        gid,
        user_id: user.id,
        last,
        read_from: last,
        sent: BTreeSet::new(),
        buffer: VecDeque::new(),
        live,
        catching_up: true,
        _slot: slot,
    };
    let events = futures::stream::unfold(tail, |mut tail| async move {
        let event = tail.next().await?;
        Some((Ok(event), tail))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

/// One event for a client: what it is and its data.
enum Outgoing {
    Message(MessageView),
    Updated(MessageView),
    Deleted { id: i64, group_id: String },
    Direct(Arc<DirectView>),
}

fn event(outgoing: &Outgoing, last: i64) -> Event {
    let (name, data) = match outgoing {
        Outgoing::Message(view) => ("message", serde_json::to_value(view)),
        Outgoing::Updated(view) => ("message-updated", serde_json::to_value(view)),
        Outgoing::Deleted { id, group_id } => (
            "message-deleted",
            Ok(serde_json::json!({"id": id, "group_id": group_id})),
        ),
        Outgoing::Direct(view) => ("direct-message", serde_json::to_value(view.as_ref())),
    };
    match data {
        Ok(data) => Event::default()
            .id(last.to_string())
            .event(name)
            .json_data(data)
            .unwrap_or_else(|e| Event::default().comment(format!("unencodable event: {e}"))),
        Err(e) => Event::default().comment(format!("unencodable event: {e}")),
    }
}

/// What a waiting stream woke up for.
enum Woke {
    Feed(Result<FeedItem, broadcast::error::RecvError>),
    Idle,
    Closing,
}

/// One client's position in a group's timeline.
struct Tail {
    state: AppState,
    gid: String,
    user_id: String,
    /// The id of the newest message sent (every event's `id:`).
    last: i64,
    /// Where reading the database to catch up continues.
    read_from: i64,
    /// Ids of messages sent lately (a late one may come below `last`).
    sent: BTreeSet<i64>,
    buffer: VecDeque<Outgoing>,
    /// The group's feed (shared poller).
    live: broadcast::Receiver<FeedItem>,
    /// Reading from the database until nothing is left, then from `live`.
    catching_up: bool,
    closing: watch::Receiver<bool>,
    _slot: Slot,
}

impl Tail {
    /// The next event, waiting for one; `None` ends the stream (shutdown,
    /// or the caller left the group).
    async fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(outgoing) = self.buffer.pop_front() {
                if let Outgoing::Message(view) = &outgoing {
                    self.last = self.last.max(view.id);
                }
                return Some(event(&outgoing, self.last));
            }
            if *self.closing.borrow() {
                return None;
            }
            if self.catching_up {
                if !self.still_member().await {
                    return None;
                }
                match self.catch_up().await {
                    Ok(true) => {}
                    Ok(false) => self.catching_up = false,
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
                Woke::Feed(Ok(item)) => {
                    self.take(item);
                    self.drain();
                    if !self.buffer.is_empty() && !self.still_member().await {
                        return None;
                    }
                }
                Woke::Feed(Err(broadcast::error::RecvError::Lagged(_))) => self.lagged(),
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

    /// Read what the member may see after `last` from the database; false
    /// when nothing was left.
    async fn catch_up(&mut self) -> Result<bool, crate::store::StoreError> {
        let store = self.state.store();
        let batch = store
            .messages_visible(&self.gid, &self.user_id, self.read_from, 100)
            .await?;
        let Some(newest) = batch.last().map(|m| m.id) else {
            return Ok(false);
        };
        let fresh: Vec<_> = batch
            .into_iter()
            .filter(|m| m.deleted_at.is_none() && !self.sent.contains(&m.id))
            .collect();
        for view in render::views(store, fresh).await? {
            self.remember(view.id);
            self.buffer.push_back(Outgoing::Message(view));
        }
        self.read_from = self.read_from.max(newest);
        Ok(true)
    }

    /// The feed moved on without this stream: read messages from the
    /// database again (changes and direct messages meanwhile are lost).
    fn lagged(&mut self) {
        self.catching_up = true;
        self.read_from = self.last;
    }

    fn remember(&mut self, id: i64) {
        self.sent.insert(id);
        while self.sent.len() > SENT_MEMORY {
            self.sent.pop_first();
        }
    }

    /// Buffer what the member may see of `item`, once.
    fn take(&mut self, item: FeedItem) {
        let me = self.user_id.as_str();
        match item {
            FeedItem::Posted(shown) => {
                if shown.for_member(me) && !self.sent.contains(&shown.view.id) {
                    self.remember(shown.view.id);
                    self.buffer.push_back(Outgoing::Message(shown.view.clone()));
                }
            }
            FeedItem::Updated(shown) => {
                if shown.for_member(me) {
                    self.buffer.push_back(Outgoing::Updated(shown.view.clone()));
                }
            }
            FeedItem::Deleted { id, visible_to } => {
                if visible_to.as_deref().is_none_or(|m| m == me) {
                    self.buffer.push_back(Outgoing::Deleted {
                        id,
                        group_id: self.gid.clone(),
                    });
                }
            }
            FeedItem::Direct { recipient, view } => {
                if recipient == me {
                    self.buffer.push_back(Outgoing::Direct(view));
                }
            }
        }
    }

    /// Take whatever else the feed already holds.
    fn drain(&mut self) {
        loop {
            match self.live.try_recv() {
                Ok(item) => self.take(item),
                Err(broadcast::error::TryRecvError::Lagged(_)) => {
                    self.lagged();
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
