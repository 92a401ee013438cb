//! The API's limits as a client meets them, through the router in process
//! on both backends: text PostgreSQL cannot store is the same named 400 on
//! every field, rate limits are named 429s with `Retry-After`, live streams
//! are capped and share one poller per group, a crash shows the member an
//! incident id (never the app's internals), the bearer scheme is
//! case-insensitive, and currencies are ISO 4217 codes.

mod server_common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use qun_host::AppState;
use qun_host::http::HttpConfig;
use qun_host::http::rate::RateConfig;
use qun_tests::{Backend, World, backend_tests, unique};
use serde_json::{Value, json};
use server_common::{SseReader, call, code, json};
use tower::ServiceExt;

backend_tests!(
    nul_and_control_characters_are_a_named_400_on_every_text_field,
    rate_limits_are_named_429s_with_retry_after,
    one_member_cannot_use_up_an_apps_message_quota,
    live_streams_are_capped_and_share_one_poller,
    a_crash_shows_the_member_an_incident_id_and_the_developer_the_text,
    the_bearer_scheme_is_case_insensitive,
    currencies_must_be_iso_4217_codes,
    text_an_app_makes_is_held_to_the_same_rule,
    requests_past_the_in_flight_cap_are_shed_with_a_named_503,
);

struct Setup {
    w: World,
    state: AppState,
    app: axum::Router,
    gid: String,
    inst: String,
    owner: (String, String),
    member: (String, String),
    admin: String,
}

/// A user with a known token: (id, token).
async fn user(w: &World, name: &str, admin: bool) -> (String, String) {
    let token = unique("token");
    let user = w
        .store()
        .create_user(&unique(name), &token, admin, false)
        .await
        .expect("user");
    (user.id, token)
}

/// A group (owner + one member) with the probe app installed, served with `config`.
async fn setup(backend: Backend, config: HttpConfig) -> Option<Setup> {
    let w = World::new(backend).await?;
    let owner = user(&w, "owner", false).await;
    let member = user(&w, "member", false).await;
    let (_, admin) = user(&w, "admin", true).await;
    let group = w
        .store()
        .create_group(&unique("group"), &owner.0)
        .await
        .expect("group");
    w.store()
        .add_member(&group.id, &member.0, qun_host::store::Role::Member)
        .await
        .expect("member");
    let inst = w
        .install(
            qun_components::PROBE,
            &group.id,
            &["messaging", "storage", "payments"],
        )
        .await;
    let state = AppState::new(w.runtime.clone(), config);
    let app = qun_host::app(state.clone());
    Some(Setup {
        w,
        state,
        app,
        gid: group.id,
        inst,
        owner,
        member,
        admin,
    })
}

/// A request with raw headers; (status, headers, body).
async fn raw(
    app: &axum::Router,
    request: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, Value) {
    let response = app.clone().oneshot(request).await.expect("response");
    let (parts, body) = response.into_parts();
    let bytes = http_body_util::BodyExt::collect(body)
        .await
        .expect("body")
        .to_bytes();
    let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (parts.status, parts.headers, value)
}

async fn nul_and_control_characters_are_a_named_400_on_every_text_field(backend: Backend) {
    let Some(s) = setup(backend, HttpConfig::default()).await else {
        return;
    };
    let gid = &s.gid;
    let owner = s.owner.1.as_str();
    let messages = format!("/v1/groups/{gid}/messages");
    let before = s.w.messages(gid).await.len();
    // (method, path, token, body, the field the answer must name)
    let cases: Vec<(Method, String, &str, Option<Value>, &str)> = vec![
        (
            Method::POST,
            messages.clone(),
            owner,
            Some(json!({"text": "hi\u{0}there"})),
            "text",
        ),
        (
            Method::POST,
            messages.clone(),
            owner,
            Some(json!({"text": "/probe a\u{0}b"})),
            "text",
        ),
        (
            Method::POST,
            messages.clone(),
            owner,
            Some(json!({"text": "red \u{1b}[31m"})),
            "text",
        ),
        (
            Method::POST,
            messages.clone(),
            owner,
            Some(json!({"text": "c1 \u{85}"})),
            "text",
        ),
        (
            Method::POST,
            "/v1/groups".into(),
            owner,
            Some(json!({"name": "Class\u{0}3"})),
            "name",
        ),
        (
            Method::POST,
            "/v1/users".into(),
            &s.admin,
            Some(json!({"name": "li\u{0}wei"})),
            "name",
        ),
        (
            Method::POST,
            format!("/v1/groups/{gid}/members"),
            owner,
            Some(json!({"user_id": "u\u{0}"})),
            "user_id",
        ),
        (
            Method::POST,
            "/v1/admin/apps/probe/suspend".into(),
            &s.admin,
            Some(json!({"reason": "spam\u{0}"})),
            "reason",
        ),
        (
            Method::POST,
            format!("/v1/groups/{gid}/apps/probe/actions/post"),
            owner,
            Some(json!({"text": "x\u{0}"})),
            "text",
        ),
        (
            Method::POST,
            format!("/v1/groups/{gid}/apps/probe/actions/set"),
            owner,
            Some(json!({"card": {"fields": [{"label": "ok"}, {"label": "\u{7}"}]}})),
            "card.fields[1].label",
        ),
        (Method::GET, "/v1/groups/g%00x".into(), owner, None, "gid"),
        (
            Method::GET,
            format!("{messages}?after=%00"),
            owner,
            None,
            "after",
        ),
        (
            Method::GET,
            "/v1/admin/audit?app=probe%00".into(),
            &s.admin,
            None,
            "app",
        ),
        (
            Method::GET,
            "/v1/apps/probe%01/logs".into(),
            owner,
            None,
            "slug",
        ),
        (
            Method::POST,
            format!("/v1/groups/{gid}/apps/probe/actions/po%00st"),
            owner,
            Some(json!({})),
            "action",
        ),
    ];
    for (method, path, token, body, field) in cases {
        let (status, answer) = call(
            &s.app,
            method.clone(),
            &path,
            Some(token),
            body.map(|b| ("application/json", b.to_string().into_bytes())),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{method} {path}: {answer}");
        assert_eq!(code(&answer), "invalid_text", "{method} {path}: {answer}");
        let message = answer["error"]["message"].as_str().unwrap_or("");
        assert!(
            message.contains(&format!("`{field}`")),
            "{method} {path} should name `{field}`: {message}"
        );
    }
    // Nothing was stored: no message, no group, no user.
    assert_eq!(s.w.messages(gid).await.len(), before);
    let (_, me) = call(&s.app, Method::GET, "/v1/me", Some(owner), None).await;
    assert_eq!(me["groups"].as_array().map(Vec::len), Some(1), "{me}");
    // Text with line breaks and tabs, and any script, is fine.
    let (status, body) = call(
        &s.app,
        Method::POST,
        &messages,
        Some(owner),
        json(json!({"text": "第一行\n\tsecond line 🎉"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

async fn rate_limits_are_named_429s_with_retry_after(backend: Backend) {
    let config = HttpConfig {
        rate: Some(RateConfig {
            token_per_sec: 1,
            token_burst: 5,
            posts_per_member_minute: 3,
            ..RateConfig::default()
        }),
        ..HttpConfig::default()
    };
    let Some(s) = setup(backend, config).await else {
        return;
    };
    // Per token: a burst of 5 passes, then a named 429 saying when to retry.
    let me = || {
        Request::get("/v1/me")
            .header("authorization", format!("Bearer {}", s.owner.1))
            .body(Body::empty())
            .expect("request")
    };
    let mut refused = None;
    for i in 0..20 {
        let (status, headers, body) = raw(&s.app, me()).await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            refused = Some((i, headers, body));
            break;
        }
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (i, headers, body) = refused.expect("the token was rate limited");
    assert!(i >= 5, "the burst of 5 passed first (refused at {i})");
    assert_eq!(code(&body), "rate_limited", "{body}");
    let retry: u64 = headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in seconds");
    assert!(retry >= 1);
    // Another user's token has its own budget.
    let (status, _) = call(&s.app, Method::GET, "/v1/me", Some(&s.admin), None).await;
    assert_eq!(status, StatusCode::OK);

    // Per member posting: the 4th message in a minute is refused, nothing stored.
    let messages = format!("/v1/groups/{}/messages", s.gid);
    let before = s.w.messages(&s.gid).await.len();
    for n in 0..3 {
        let (status, body) = call(
            &s.app,
            Method::POST,
            &messages,
            Some(&s.member.1),
            json(json!({"text": format!("message {n}")})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let (status, body) = call(
        &s.app,
        Method::POST,
        &messages,
        Some(&s.member.1),
        json(json!({"text": "one too many"})),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(code(&body), "posting_too_fast");
    assert_eq!(s.w.messages(&s.gid).await.len(), before + 3);
}

async fn one_member_cannot_use_up_an_apps_message_quota(backend: Backend) {
    let config = HttpConfig {
        rate: Some(RateConfig {
            member_share_percent: 10,
            ..RateConfig::default()
        }),
        ..HttpConfig::default()
    };
    let Some(s) = setup(backend, config).await else {
        return;
    };
    // The app may post 60 messages a minute; one member's actions get it to post 6.
    let post = format!("/v1/groups/{}/apps/probe/actions/post", s.gid);
    let mut refused = None;
    for i in 0..20 {
        let (status, body) = call(
            &s.app,
            Method::POST,
            &post,
            Some(&s.member.1),
            json(json!({"text": format!("flood {i}")})),
        )
        .await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            refused = Some((i, body));
            break;
        }
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (i, body) = refused.expect("the member's share ran out");
    assert_eq!(i, 6, "{body}");
    assert_eq!(code(&body), "member_share_exceeded", "{body}");
    // The next member still gets the app to post.
    let (status, body) = call(
        &s.app,
        Method::POST,
        &post,
        Some(&s.owner.1),
        json(json!({"text": "my turn"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let _ = &s.inst;
}

async fn live_streams_are_capped_and_share_one_poller(backend: Backend) {
    let config = HttpConfig {
        streams_per_user: 2,
        streams_per_group: 3,
        ..HttpConfig::default()
    };
    let Some(s) = setup(backend, config).await else {
        return;
    };
    let stream = format!("/v1/groups/{}/stream", s.gid);
    let open = |token: &str| {
        Request::get(&stream)
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .expect("request")
    };
    let first = SseReader::open(&s.app, &stream, &s.member.1, &[]).await;
    let _second = SseReader::open(&s.app, &stream, &s.member.1, &[]).await;
    // A third stream of the same user: a named 429.
    let (status, headers, body) = raw(&s.app, open(&s.member.1)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(code(&body), "too_many_streams");
    assert!(headers.contains_key("retry-after"));
    // The group's cap (3) holds against other users too.
    let _third = SseReader::open(&s.app, &stream, &s.owner.1, &[]).await;
    let (status, _, body) = raw(&s.app, open(&s.owner.1)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(code(&body), "too_many_streams");
    // Three streams, one database poller for the group.
    assert_eq!(s.state.notifier.streams(), 3);
    assert_eq!(s.state.notifier.pollers(), 1);
    // A closed stream frees its place.
    drop(first);
    let mut again = SseReader::open(&s.app, &stream, &s.member.1, &[]).await;
    // And streams still carry what is posted.
    let (status, _) = call(
        &s.app,
        Method::POST,
        &format!("/v1/groups/{}/messages", s.gid),
        Some(&s.owner.1),
        json(json!({"text": "to every stream"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, message) = again.next().await.expect("an event");
    assert_eq!(message["text"], json!("to every stream"));
}

async fn a_crash_shows_the_member_an_incident_id_and_the_developer_the_text(backend: Backend) {
    let Some(s) = setup(backend, HttpConfig::default()).await else {
        return;
    };
    let (status, body) = call(
        &s.app,
        Method::POST,
        &format!("/v1/groups/{}/apps/probe/actions/set-post-trap", s.gid),
        Some(&s.member.1),
        json(json!({"key": "k", "value": "v", "text": "never posted"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert_eq!(code(&body), "trap");
    let message = body["error"]["message"].as_str().unwrap_or("");
    assert!(
        !message.contains("probe trap"),
        "no app internals: {message}"
    );
    assert!(!message.contains("wasm"), "no backtrace: {message}");
    assert!(!message.contains("unreachable"), "no trap text: {message}");
    assert!(message.len() < 200, "short: {message}");
    let incident = message
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .find(|w| w.starts_with("inc_"))
        .expect("an incident id in the message")
        .to_string();
    // The developer finds the incident, with the crash's text, in the app's logs.
    let logs = s.w.store().logs_of("probe", 50).await.expect("logs");
    let line = logs
        .iter()
        .find(|l| {
            l.fields
                .iter()
                .any(|(k, v)| k == "incident" && *v == incident)
        })
        .expect("the incident in the developer's log");
    assert!(line.message.contains("the app crashed"), "{}", line.message);
}

async fn the_bearer_scheme_is_case_insensitive(backend: Backend) {
    let Some(s) = setup(backend, HttpConfig::default()).await else {
        return;
    };
    for scheme in ["bearer", "BEARER", "Bearer"] {
        let request = Request::get("/v1/me")
            .header("authorization", format!("{scheme} {}", s.owner.1))
            .body(Body::empty())
            .expect("request");
        let (status, _, body) = raw(&s.app, request).await;
        assert_eq!(status, StatusCode::OK, "{scheme}: {body}");
    }
    let request = Request::get("/v1/me")
        .header("authorization", format!("Basic {}", s.owner.1))
        .body(Body::empty())
        .expect("request");
    let (status, _, _) = raw(&s.app, request).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn currencies_must_be_iso_4217_codes(backend: Backend) {
    let Some(s) = setup(backend, HttpConfig::default()).await else {
        return;
    };
    let credit = format!("/v1/admin/wallets/{}/credit", s.member.0);
    for currency in ["ABC", "XXX", "QQQ"] {
        let (status, body) = call(
            &s.app,
            Method::POST,
            &credit,
            Some(&s.admin),
            json(json!({"amount": 100, "currency": currency})),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{currency}: {body}");
        assert_eq!(code(&body), "invalid_currency");
    }
    let (status, body) = call(
        &s.app,
        Method::POST,
        &credit,
        Some(&s.admin),
        json(json!({"amount": 100, "currency": "EUR"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, wallet) = call(
        &s.app,
        Method::GET,
        "/v1/me/wallet",
        Some(&s.member.1),
        None,
    )
    .await;
    assert_eq!(
        wallet["balances"].as_array().map(Vec::len),
        Some(1),
        "{wallet}"
    );
}

async fn text_an_app_makes_is_held_to_the_same_rule(backend: Backend) {
    let Some(s) = setup(backend, HttpConfig::default()).await else {
        return;
    };
    let actor = s.member.0.as_str();
    let before = s.w.messages(&s.gid).await.len();
    // What an app posts, keys it writes, payments it asks for: refused by name.
    for (action, payload, field) in [
        ("post", json!({"text": "a\u{0}b"}), "text"),
        ("set", json!({"key": "k\u{0}", "value": "v"}), "storage key"),
        (
            "pay",
            json!({"payer": actor, "amount": 5, "currency": "CNY", "memo": "m\u{1b}", "key": "k1"}),
            "memo",
        ),
    ] {
        let err =
            s.w.action(&s.inst, actor, action, payload)
                .await
                .expect_err(action);
        let text = err.to_string();
        assert!(
            matches!(err, qun_host::InvokeError::App(_)) && text.contains(&format!("`{field}`")),
            "{action}: {text}"
        );
    }
    assert_eq!(s.w.messages(&s.gid).await.len(), before, "nothing posted");
    // What it prints is kept for its developer, with the NUL replaced.
    s.w.action(&s.inst, actor, "print", json!({"text": "x\u{0}y"}))
        .await
        .expect("printing works on both backends");
    let logs = s.w.store().logs_of("probe", 20).await.expect("logs");
    assert!(
        logs.iter()
            .any(|l| l.level == "stdout" && l.message.contains("x\u{FFFD}y")),
        "{logs:?}"
    );
}

async fn requests_past_the_in_flight_cap_are_shed_with_a_named_503(backend: Backend) {
    let config = HttpConfig {
        max_in_flight: 2,
        ..HttpConfig::default()
    };
    let Some(s) = setup(backend, config).await else {
        return;
    };
    // Two requests whose bodies never finish arriving hold both places (one
    // that was itself shed while a probe below was in flight is sent again).
    let hold = || {
        let body = Body::from_stream(futures::stream::pending::<Result<Vec<u8>, std::io::Error>>());
        let request = Request::post(format!("/v1/groups/{}/messages", s.gid))
            .header("authorization", format!("Bearer {}", s.owner.1))
            .header("content-type", "application/json")
            .body(body)
            .expect("request");
        tokio::spawn(s.app.clone().oneshot(request))
    };
    let mut held = vec![hold(), hold()];
    // The next request is shed at once with a named 503.
    let mut shed = None;
    for _ in 0..500 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        for task in held.iter_mut() {
            if task.is_finished() {
                *task = hold();
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        let request = Request::get("/healthz")
            .body(Body::empty())
            .expect("request");
        let (status, headers, body) = raw(&s.app, request).await;
        if status == StatusCode::SERVICE_UNAVAILABLE {
            shed = Some((headers, body));
            break;
        }
    }
    let (headers, body) = shed.expect("a request past the cap was shed");
    assert_eq!(code(&body), "overloaded", "{body}");
    assert!(headers.contains_key("retry-after"));
    // Once they are gone, requests are served again.
    for task in &held {
        task.abort();
    }
    for task in held {
        let _ = task.await;
    }
    let (status, _) = call(&s.app, Method::GET, "/healthz", None, None).await;
    assert_eq!(status, StatusCode::OK);
}
