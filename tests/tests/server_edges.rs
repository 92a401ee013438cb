//! The API's edges, through the router in process: 401 without a token on
//! every `/v1` route, 404 for groups the caller is not in (indistinguishable
//! from groups that do not exist), 400 for malformed JSON, 413 for oversized
//! bodies, 422 with the reason for uploads that are not Qun apps.

mod server_common;

use axum::http::{Method, StatusCode};
use qun_host::http::HttpConfig;
use qun_tests::{Backend, backend_tests};
use serde_json::{Value, json};
use server_common::{call, code, fill, json, operations, router};

backend_tests!(
    every_v1_route_needs_a_token,
    groups_you_are_not_in_do_not_exist,
    malformed_and_oversized_bodies_are_refused_clearly,
    uploads_that_are_not_apps_are_refused_with_the_reason,
    uploads_compile_after_the_answer_and_are_followed,
    roles_decide_who_may_do_what,
);

/// A user created through the API by the admin; returns (id, token).
async fn user(app: &axum::Router, admin: &str, name: &str, developer: bool) -> (String, String) {
    let (status, body) = call(
        app,
        Method::POST,
        "/v1/users",
        Some(admin),
        json(json!({"name": name, "developer": developer})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    (
        body["id"].as_str().expect("id").into(),
        body["token"].as_str().expect("token").into(),
    )
}

/// Admin token of a router's database.
async fn admin(db: &qun_tests::TestDb) -> String {
    let token = qun_tests::unique("admin-token");
    db.store
        .create_user(&qun_tests::unique("admin"), &token, true, true)
        .await
        .expect("admin");
    token
}

async fn every_v1_route_needs_a_token(backend: Backend) {
    let Some((_db, _state, app)) = router(backend, HttpConfig::default()).await else {
        return;
    };
    let doc = serde_json::to_value(qun_host::http::openapi()).expect("doc");
    let params = [
        ("gid", "g_x"),
        ("uid", "u_x"),
        ("slug", "polls"),
        ("action", "vote"),
    ];
    let mut checked = 0;
    for (method, template) in operations(&doc)
        .into_iter()
        // The demo's users are public (on a demo server only): the sign-in page.
        .filter(|(_, p)| p.starts_with("/v1/") && p != "/v1/demo/users")
    {
        let path = fill(&template, &params);
        for token in [None, Some("not-a-real-token")] {
            let (status, body) = call(&app, method.clone(), &path, token, json(json!({}))).await;
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{method} {template} with {token:?}: {body}"
            );
            assert_eq!(code(&body), "unauthorized");
            assert!(
                body["error"]["message"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty())
            );
        }
        checked += 1;
    }
    assert!(checked >= 18, "only {checked} /v1 routes documented");
    // The operational routes are public.
    let (status, _) = call(&app, Method::GET, "/healthz", None, None).await;
    assert_eq!(status, StatusCode::OK);
}

async fn groups_you_are_not_in_do_not_exist(backend: Backend) {
    let Some((db, _state, app)) = router(backend, HttpConfig::default()).await else {
        return;
    };
    let admin = admin(&db).await;
    let (_, owner) = user(&app, &admin, "owner", false).await;
    let (stranger_id, stranger) = user(&app, &admin, "stranger", true).await;
    let (_, group) = call(
        &app,
        Method::POST,
        "/v1/groups",
        Some(&owner),
        json(json!({"name": "private"})),
    )
    .await;
    let gid = group["id"].as_str().expect("gid").to_string();

    let bodies: &[(&str, Value)] = &[
        ("/v1/groups/{gid}/members", json!({"user_id": stranger_id})),
        ("/v1/groups/{gid}/messages", json!({"text": "hello"})),
        (
            "/v1/groups/{gid}/apps",
            json!({"app": "polls", "grants": []}),
        ),
        (
            "/v1/groups/{gid}/apps/{slug}/actions/{action}",
            json!({"poll": "p"}),
        ),
    ];
    let doc = serde_json::to_value(qun_host::http::openapi()).expect("doc");
    let mut checked = 0;
    for (method, template) in operations(&doc)
        .into_iter()
        .filter(|(_, p)| p.contains("{gid}"))
    {
        let body = bodies
            .iter()
            .find(|(t, _)| *t == template)
            .map(|(_, b)| b.clone())
            .unwrap_or(json!({}));
        let mut answers = Vec::new();
        for group in [gid.as_str(), "g_does_not_exist"] {
            let path = fill(
                &template,
                &[
                    ("gid", group),
                    ("uid", &stranger_id),
                    ("slug", "polls"),
                    ("action", "vote"),
                ],
            );
            let (status, answer) = call(
                &app,
                method.clone(),
                &path,
                Some(&stranger),
                json(body.clone()),
            )
            .await;
            assert_eq!(
                status,
                StatusCode::NOT_FOUND,
                "{method} {template} as a stranger: {answer}"
            );
            answers.push(code(&answer).to_string());
        }
        assert_eq!(
            answers[0], answers[1],
            "{method} {template} reveals that the group exists"
        );
        assert_eq!(answers[0], "group_not_found");
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} group routes");

    // The owner sees it; the stranger's own view lists no groups.
    let (status, _) = call(
        &app,
        Method::GET,
        &format!("/v1/groups/{gid}"),
        Some(&owner),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, me) = call(&app, Method::GET, "/v1/me", Some(&stranger), None).await;
    assert_eq!(me["groups"], json!([]));
}

async fn malformed_and_oversized_bodies_are_refused_clearly(backend: Backend) {
    let config = HttpConfig {
        max_wasm_bytes: 4096,
        max_json_bytes: 2048,
        ..HttpConfig::default()
    };
    let Some((db, _state, app)) = router(backend, config).await else {
        return;
    };
    let admin = admin(&db).await;
    let (_, dev) = user(&app, &admin, "dev", true).await;

    for (body, what) in [
        (&b"{\"name\":"[..], "truncated"),
        (b"{\"name\": 5}", "wrong type"),
        (b"[]", "not an object"),
    ] {
        let (status, answer) = call(
            &app,
            Method::POST,
            "/v1/groups",
            Some(&dev),
            Some(("application/json", body.to_vec())),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {answer}");
        assert_eq!(code(&answer), "bad_json", "{what}");
        assert!(
            answer["error"]["message"]
                .as_str()
                .is_some_and(|m| m.len() > 10),
            "{what}: {answer}"
        );
    }
    let (status, answer) = call(
        &app,
        Method::POST,
        "/v1/groups",
        Some(&dev),
        Some(("text/plain", b"{\"name\":\"x\"}".to_vec())),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("application/json"))
    );

    let big = json!({"name": "x".repeat(4096)});
    let (status, answer) = call(&app, Method::POST, "/v1/groups", Some(&dev), json(big)).await;
    assert_eq!(
        (status, code(&answer)),
        (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
        "{answer}"
    );

    let (status, _) = call(
        &app,
        Method::POST,
        "/v1/apps",
        Some(&dev),
        json(json!({"slug": "big", "name": "Big"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let mut oversized = qun_components::COMPONENT_HEADER.to_vec();
    oversized.resize(4097, 0);
    let (status, answer) = call(
        &app,
        Method::POST,
        "/v1/apps/big/versions",
        Some(&dev),
        Some(("application/wasm", oversized)),
    )
    .await;
    assert_eq!(
        (status, code(&answer)),
        (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
        "{answer}"
    );
    assert!(
        answer["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("4096")),
        "{answer}"
    );
}

async fn uploads_that_are_not_apps_are_refused_with_the_reason(backend: Backend) {
    let Some((db, _state, app)) = router(backend, HttpConfig::default()).await else {
        return;
    };
    let admin = admin(&db).await;
    let (_, dev) = user(&app, &admin, "dev", true).await;
    let (status, _) = call(
        &app,
        Method::POST,
        "/v1/apps",
        Some(&dev),
        json(json!({"slug": "polls", "name": "Polls"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);

    let forbidden = qun_components::read(qun_components::FORBIDDEN);
    let cases: [(Vec<u8>, &str); 4] = [
        (b"hello, I am not wasm".to_vec(), "not a WebAssembly file"),
        (
            qun_components::CORE_MODULE.to_vec(),
            "core WebAssembly module",
        ),
        (Vec::new(), "empty"),
        (forbidden, "wasi:http/outgoing-handler"),
    ];
    for (bytes, reason) in cases {
        let (status, answer) = call(
            &app,
            Method::POST,
            "/v1/apps/polls/versions",
            Some(&dev),
            Some(("application/wasm", bytes)),
        )
        .await;
        assert_eq!(
            (status, code(&answer)),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_wasm"),
            "{reason}: {answer}"
        );
        let message = answer["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(reason),
            "expected {reason:?} in {message:?}"
        );
    }

    // A valid app uploaded under another app's slug is refused too.
    let (status, _) = call(
        &app,
        Method::POST,
        "/v1/apps",
        Some(&dev),
        json(json!({"slug": "other", "name": "Other"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let polls = qun_components::read(qun_tests::polls());
    let (status, answer) = call(
        &app,
        Method::POST,
        "/v1/apps/other/versions",
        Some(&dev),
        Some(("application/wasm", polls)),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("`polls`")),
        "{answer}"
    );

    let (_, listed) = call(&app, Method::GET, "/v1/apps/polls", Some(&dev), None).await;
    assert_eq!(listed["versions"], json!([]), "nothing refused was stored");
}

async fn roles_decide_who_may_do_what(backend: Backend) {
    let Some((db, _state, app)) = router(backend, HttpConfig::default()).await else {
        return;
    };
    let admin = admin(&db).await;
    let (_, dev) = user(&app, &admin, "dev", true).await;
    let (_, owner) = user(&app, &admin, "owner", false).await;
    let (member_id, member) = user(&app, &admin, "member", false).await;

    // Only admins create users; only developers register apps.
    let (status, _) = call(
        &app,
        Method::POST,
        "/v1/users",
        Some(&dev),
        json(json!({"name": "x"})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(
        &app,
        Method::POST,
        "/v1/apps",
        Some(&owner),
        json(json!({"slug": "x", "name": "X"})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, answer) = call(
        &app,
        Method::POST,
        "/v1/users",
        Some(&admin),
        json(json!({"name": "dev"})),
    )
    .await;
    assert_eq!(
        (status, code(&answer)),
        (StatusCode::CONFLICT, "name_taken")
    );

    let (_, group) = call(
        &app,
        Method::POST,
        "/v1/groups",
        Some(&owner),
        json(json!({"name": "club"})),
    )
    .await;
    let gid = group["id"].as_str().expect("gid").to_string();
    let (status, _) = call(
        &app,
        Method::POST,
        &format!("/v1/groups/{gid}/members"),
        Some(&owner),
        json(json!({"user_id": member_id})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    call(
        &app,
        Method::POST,
        "/v1/apps",
        Some(&dev),
        json(json!({"slug": "polls", "name": "Polls"})),
    )
    .await;
    let polls = qun_components::read(qun_tests::polls());
    let (status, _) = call(
        &app,
        Method::POST,
        "/v1/apps/polls/versions",
        Some(&dev),
        Some(("application/wasm", polls)),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = call(
        &app,
        Method::POST,
        "/v1/admin/apps/polls/versions/0.1.0/approve",
        Some(&dev),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a developer cannot approve");
    let (status, body) = call(
        &app,
        Method::POST,
        "/v1/admin/apps/polls/versions/0.1.0/approve",
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // A plain member may not install; grants must be ones the app asks for.
    let install = json!({"app": "polls", "grants": ["messaging", "storage"]});
    let (status, _) = call(
        &app,
        Method::POST,
        &format!("/v1/groups/{gid}/apps"),
        Some(&member),
        json(install.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let greedy = json!({"app": "polls", "grants": ["messaging", "payments"]});
    let (status, answer) = call(
        &app,
        Method::POST,
        &format!("/v1/groups/{gid}/apps"),
        Some(&owner),
        json(greedy),
    )
    .await;
    assert_eq!(
        (status, code(&answer)),
        (StatusCode::BAD_REQUEST, "invalid_grant")
    );
    assert!(
        answer["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("`payments`")),
        "{answer}"
    );
    let (status, _) = call(
        &app,
        Method::POST,
        &format!("/v1/groups/{gid}/apps"),
        Some(&owner),
        json(install.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = call(
        &app,
        Method::POST,
        &format!("/v1/groups/{gid}/apps"),
        Some(&owner),
        json(install),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);

    // Without the scheduler grant the app's `/poll` still works (it is denied
    // only the timer); a member's command posts the card.
    let (status, posted) = call(
        &app,
        Method::POST,
        &format!("/v1/groups/{gid}/messages"),
        Some(&member),
        json(json!({"text": "/poll Tea? | yes, no"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{posted}");
    assert_eq!(
        posted["messages"].as_array().map(Vec::len),
        Some(2),
        "{posted}"
    );

    // Members cannot remove others; the owner cannot be removed; uninstall is for managers.
    let owner_id = group["owner_id"].as_str().expect("owner id");
    let (status, _) = call(
        &app,
        Method::DELETE,
        &format!("/v1/groups/{gid}/members/{owner_id}"),
        Some(&member),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(
        &app,
        Method::DELETE,
        &format!("/v1/groups/{gid}/apps/polls"),
        Some(&member),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(
        &app,
        Method::DELETE,
        &format!("/v1/groups/{gid}/apps/polls"),
        Some(&owner),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, answer) = call(
        &app,
        Method::POST,
        &format!("/v1/groups/{gid}/messages"),
        Some(&member),
        json(json!({"text": "/poll Tea? | yes, no"})),
    )
    .await;
    assert_eq!(
        (status, code(&answer)),
        (StatusCode::NOT_FOUND, "unknown_command")
    );
    // A member may leave; afterwards the group is gone for them.
    let (status, _) = call(
        &app,
        Method::DELETE,
        &format!("/v1/groups/{gid}/members/{member_id}"),
        Some(&member),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call(
        &app,
        Method::GET,
        &format!("/v1/groups/{gid}"),
        Some(&member),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// Poll an upload until it is no longer `compiling`.
async fn settled(app: &axum::Router, token: &str, location: &str) -> Value {
    for _ in 0..600 {
        let (status, upload) = call(app, Method::GET, location, Some(token), None).await;
        assert_eq!(status, StatusCode::OK, "{upload}");
        if upload["status"] != "compiling" {
            return upload;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{location} still compiling after a minute");
}

async fn uploads_compile_after_the_answer_and_are_followed(backend: Backend) {
    // Never wait: every upload answers 202 and compiles after the answer.
    let config = HttpConfig {
        upload_wait: std::time::Duration::ZERO,
        ..HttpConfig::default()
    };
    let Some((db, _state, app)) = router(backend, config).await else {
        return;
    };
    let admin = admin(&db).await;
    let (_, dev) = user(&app, &admin, "dev", true).await;
    let (_, other_dev) = user(&app, &admin, "rival", true).await;
    for slug in ["polls", "forbidden"] {
        let (status, _) = call(
            &app,
            Method::POST,
            "/v1/apps",
            Some(&dev),
            json(json!({"slug": slug, "name": slug})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let polls = qun_components::read(qun_tests::polls());
    let upload = |slug: &'static str, bytes: Vec<u8>| {
        let app = app.clone();
        let dev = dev.clone();
        async move {
            call(
                &app,
                Method::POST,
                &format!("/v1/apps/{slug}/versions"),
                Some(&dev),
                Some(("application/wasm", bytes)),
            )
            .await
        }
    };

    // Accepted for compiling, then followed to a version pending review.
    let (status, answer) = upload("polls", polls.clone()).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(answer["status"], "compiling");
    let id = answer["id"].as_str().expect("an upload id").to_string();
    let location = format!("/v1/apps/polls/uploads/{id}");
    let done = settled(&app, &dev, &location).await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["version"]["status"], "pending", "{done}");
    assert_eq!(
        done["version"]["capabilities"],
        json!(["membership", "messaging", "storage", "scheduler"]),
        "{done}"
    );
    let (status, listed) = call(&app, Method::GET, "/v1/apps/polls", Some(&dev), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        listed
            .to_string()
            .contains(done["version"]["version"].as_str().unwrap_or("?"))
    );

    // The same bytes again: the refusal the upload would have answered.
    let (status, again) = upload("polls", polls).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{again}");
    let again = settled(
        &app,
        &dev,
        &format!(
            "/v1/apps/polls/uploads/{}",
            again["id"].as_str().unwrap_or("?")
        ),
    )
    .await;
    assert_eq!(
        (again["status"].as_str(), again["error"]["code"].as_str()),
        (Some("failed"), Some("version_exists")),
        "{again}"
    );
    assert!(again["version"].is_null());

    // A component the host refuses: failed, with the reason and the fix.
    let (status, refused) =
        upload("forbidden", qun_components::read(qun_components::FORBIDDEN)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{refused}");
    let refused = settled(
        &app,
        &dev,
        &format!(
            "/v1/apps/forbidden/uploads/{}",
            refused["id"].as_str().unwrap_or("?")
        ),
    )
    .await;
    assert_eq!(refused["error"]["code"], "invalid_wasm", "{refused}");
    let message = refused["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("wasi:http/outgoing-handler") && message.contains("-d http"),
        "{message}"
    );

    // Bytes that are not wasm at all are refused in the request itself.
    let (status, answer) = upload("polls", b"not wasm".to_vec()).await;
    assert_eq!(
        (status, code(&answer)),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_wasm")
    );

    // Only the app's developer (and admins) follow its uploads.
    let (status, answer) = call(&app, Method::GET, &location, Some(&other_dev), None).await;
    assert!(
        status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND,
        "{status}: {answer}"
    );
    let (status, answer) = call(&app, Method::GET, &location, Some(&admin), None).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, answer) = call(
        &app,
        Method::GET,
        "/v1/apps/polls/uploads/up_nope",
        Some(&dev),
        None,
    )
    .await;
    assert_eq!(
        (status, code(&answer)),
        (StatusCode::NOT_FOUND, "upload_not_found")
    );
    // An upload id is the app's own: not reachable through another app.
    let (status, _) = call(
        &app,
        Method::GET,
        &format!("/v1/apps/forbidden/uploads/{id}"),
        Some(&dev),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
