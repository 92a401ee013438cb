//! The live group stream: resumable, live-only by default, fed by other
//! hosts sharing the database, and closed for members who leave.

mod server_common;

use axum::http::{Method, StatusCode};
use qun_host::Store;
use qun_host::http::HttpConfig;
use qun_tests::{Backend, backend_tests};
use serde_json::json;
use server_common::{SseReader, call, json, router, router_over};

backend_tests!(
    a_stream_carries_messages_from_every_host_sharing_the_database,
    posts_made_at_once_through_two_hosts_are_each_stored_once,
);

/// Two hosts over one database, and a group (made through host A) of
/// `owner-token`'s user and `member-token`'s. Keep it whole to the end of
/// the test: dropping it drops the database.
struct Hosts {
    _db: qun_tests::TestDb,
    _states: (qun_host::http::AppState, qun_host::http::AppState),
    host_a: axum::Router,
    host_b: axum::Router,
    gid: String,
    owner: qun_host::store::User,
    member: qun_host::store::User,
}

async fn two_hosts(backend: Backend) -> Option<Hosts> {
    let (db, state_a, host_a) = router(backend, HttpConfig::default()).await?;
    // A second host: its own pool, runtime and notifier over the same database.
    let (_state_b, host_b) = router_over(
        Store::connect(&db.url).await.expect("second store"),
        HttpConfig::default(),
    );

    let owner = db
        .store
        .create_user("owner", "owner-token", false, false)
        .await
        .expect("owner");
    let member = db
        .store
        .create_user("member", "member-token", false, false)
        .await
        .expect("member");
    let (_, group) = call(
        &host_a,
        Method::POST,
        "/v1/groups",
        Some("owner-token"),
        json(json!({"name": "g"})),
    )
    .await;
    let gid = group["id"].as_str().expect("gid").to_string();
    let (status, _) = call(
        &host_a,
        Method::POST,
        &format!("/v1/groups/{gid}/members"),
        Some("owner-token"),
        json(json!({"user_id": member.id})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    Some(Hosts {
        _db: db,
        _states: (state_a, _state_b),
        host_a,
        host_b,
        gid,
        owner,
        member,
    })
}

async fn a_stream_carries_messages_from_every_host_sharing_the_database(backend: Backend) {
    let Some(hosts) = two_hosts(backend).await else {
        return;
    };
    let Hosts {
        host_a,
        host_b,
        gid,
        owner,
        member,
        ..
    } = &hosts;
    let post = |text: &str| json(json!({"text": text}));
    let messages = format!("/v1/groups/{gid}/messages");
    let (_, before) = call(
        &host_a,
        Method::POST,
        &messages,
        Some("owner-token"),
        post("before anyone listened"),
    )
    .await;
    let before_id = before["messages"][0]["id"].as_i64().expect("id");

    // Without Last-Event-ID a stream is live only; host B's stream sees host A's post.
    let stream = format!("/v1/groups/{gid}/stream");
    let mut live = SseReader::open(&host_b, &stream, "member-token", &[]).await;
    // Already waiting when host A posts: host B learns of it from the database.
    let waiting = tokio::spawn(async move {
        let event = live.next().await;
        (event, live)
    });
    tokio::task::yield_now().await;
    call(
        &host_a,
        Method::POST,
        &messages,
        Some("owner-token"),
        post("hello from host A"),
    )
    .await;
    let (event, mut live) = waiting.await.expect("reader task");
    let (live_id, message) = event.expect("an event");
    assert_eq!(message["text"], json!("hello from host A"));
    assert_eq!(message["user_id"], json!(owner.id));
    assert!(live_id > before_id);

    // Last-Event-ID replays what came after it, then goes live.
    let mut resumed =
        SseReader::open(&host_a, &stream, "member-token", &[("last-event-id", "0")]).await;
    assert_eq!(resumed.next().await.map(|e| e.0), Some(before_id));
    assert_eq!(resumed.next().await.map(|e| e.0), Some(live_id));
    call(
        &host_b,
        Method::POST,
        &messages,
        Some("member-token"),
        post("hello from host B"),
    )
    .await;
    let (_, from_b) = resumed.next().await.expect("the live tail");
    assert_eq!(from_b["text"], json!("hello from host B"));
    let (_, from_b_on_b) = live.next().await.expect("host B's own post");
    assert_eq!(from_b_on_b["text"], json!("hello from host B"));

    // A bad Last-Event-ID is a clear 400.
    let bad = axum::http::Request::get(&stream)
        .header("authorization", "Bearer member-token")
        .header("last-event-id", "yesterday")
        .body(axum::body::Body::empty())
        .expect("request");
    let response = tower::ServiceExt::oneshot(host_a.clone(), bad)
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    // A member who leaves stops receiving the group.
    let (status, _) = call(
        &host_a,
        Method::DELETE,
        &format!("/v1/groups/{gid}/members/{}", member.id),
        Some("owner-token"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    call(
        &host_a,
        Method::POST,
        &messages,
        Some("owner-token"),
        post("after the member left"),
    )
    .await;
    assert!(
        live.next().await.is_none(),
        "the stream ended when its member left the group"
    );
}

/// Members post at once through two hosts: every post is stored exactly
/// once, under the id its poster was answered with, and the group reads them
/// in id order (on PostgreSQL the posts queued behind a group's commit are
/// committed together, `store::post_batch`).
async fn posts_made_at_once_through_two_hosts_are_each_stored_once(backend: Backend) {
    let Some(hosts) = two_hosts(backend).await else {
        return;
    };
    let Hosts {
        host_a,
        host_b,
        gid,
        ..
    } = &hosts;

    let messages = format!("/v1/groups/{gid}/messages");
    let posts = (0..60).map(|i| {
        let host = if i % 2 == 0 { &host_a } else { &host_b };
        let token = if i % 3 == 0 {
            "owner-token"
        } else {
            "member-token"
        };
        let messages = messages.clone();
        async move {
            let text = format!("post {i}");
            let (status, body) = call(
                host,
                Method::POST,
                &messages,
                Some(token),
                json(json!({"text": text})),
            )
            .await;
            assert!(status.is_success(), "{text}: {status} {body}");
            (body["messages"][0]["id"].as_i64().expect("id"), text)
        }
    });
    let mut answered = futures::future::join_all(posts).await;
    answered.sort_unstable();

    let (status, page) = call(
        &host_b,
        Method::GET,
        &format!("{messages}?limit=500"),
        Some("member-token"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let stored: Vec<(i64, String)> = page
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| {
            (
                m["id"].as_i64().expect("id"),
                m["text"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(stored, answered, "each post once, in id order, as answered");
}
