//! What the web app (issue 14) needs from the server: the app itself served
//! on the API's origin with a strict content security policy, the demo's
//! users for the sign-in page, a reviewer's view of a version (its WIT and
//! its diff against the previous approved version), the audit chain's
//! verification and per-version numbers for developers — each refused to
//! whoever may not see it.

mod server_common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use qun_host::http::HttpConfig;
use qun_host::http::demo::DemoUser;
use qun_tests::{Backend, backend_tests};
use serde_json::{Value, json};
use server_common::{call, code, json, router};
use tower::ServiceExt;

backend_tests!(
    the_web_app_is_served_with_a_strict_policy,
    the_sign_in_page_offers_demo_users_only_on_a_demo,
    a_reviewer_sees_the_interface_and_what_changed,
    a_developer_sees_invocations_per_version,
    a_client_reads_the_newest_page_first_and_filters_the_audit,
);

/// A GET of `path`: status, headers, body text.
async fn get(app: &axum::Router, path: &str) -> (StatusCode, axum::http::HeaderMap, String) {
    let response = app
        .clone()
        .oneshot(Request::get(path).body(Body::empty()).expect("request"))
        .await
        .expect("answer");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, headers, String::from_utf8_lossy(&bytes).into())
}

async fn the_web_app_is_served_with_a_strict_policy(backend: Backend) {
    let web = tempdir();
    std::fs::create_dir_all(web.join("assets")).expect("assets dir");
    std::fs::write(web.join("index.html"), "<!doctype html><div id=root></div>").expect("index");
    std::fs::write(web.join("assets/app-1234.js"), "console.log(1)").expect("js");
    std::fs::write(
        web.parent().expect("parent").join("secret.txt"),
        "TOP-SECRET-CONTENT",
    )
    .expect("secret");
    let config = HttpConfig {
        web_dir: Some(web.clone()),
        ..HttpConfig::default()
    };
    let Some((_db, _state, app)) = router(backend, config).await else {
        return;
    };

    // The app's page, and its own routes answered by the same page (a reload
    // of /groups/... works).
    for path in ["/", "/groups/g1", "/admin/reviews/polls/1.0.0"] {
        let (status, headers, body) = get(&app, path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(body.contains("id=root"), "{path}: {body}");
        assert_eq!(headers[header::CONTENT_TYPE], "text/html", "{path}");
        let csp = headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .expect("csp");
        assert!(csp.contains("script-src 'self'"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    }
    // Built assets are cached for good (their names carry their hash).
    let (status, headers, body) = get(&app, "/assets/app-1234.js").await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "console.log(1)"));
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .expect("type")
            .contains("javascript")
    );
    assert!(
        headers[header::CACHE_CONTROL]
            .to_str()
            .expect("cache")
            .contains("immutable")
    );

    // A missing file is a 404, not the page; nothing outside the directory.
    let (status, _, _) = get(&app, "/assets/missing.js").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    for path in [
        "/../secret.txt",
        "/assets/../../secret.txt",
        "/%2e%2e/secret.txt",
    ] {
        let (status, _, body) = get(&app, path).await;
        assert!(
            !body.contains("TOP-SECRET-CONTENT"),
            "{path} answered {status}: {body}"
        );
    }
    // The API keeps its JSON errors.
    let (status, body) = call(&app, Method::GET, "/v1/nothing-here", None, None).await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "no_route"));
    let (status, body) = call(&app, Method::POST, "/groups/g1", None, None).await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "no_route"));
}

async fn the_sign_in_page_offers_demo_users_only_on_a_demo(backend: Backend) {
    let Some((_db, _state, app)) = router(backend, HttpConfig::default()).await else {
        return;
    };
    let (status, body) = call(&app, Method::GET, "/v1/demo/users", None, None).await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "not_a_demo"));

    let demo = HttpConfig {
        demo_users: vec![DemoUser {
            name: "alice".into(),
            display_name: "alice".into(),
            token: "demo-alice-token".into(),
            roles: vec!["member".into()],
        }],
        ..HttpConfig::default()
    };
    let Some((_db, _state, app)) = router(backend, demo).await else {
        return;
    };
    let (status, body) = call(&app, Method::GET, "/v1/demo/users", None, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body[0]["name"], "alice");
    assert_eq!(body[0]["token"], "demo-alice-token");
}

/// Users with tokens: (admin, developer, another developer, owner).
async fn people(db: &qun_tests::TestDb) -> (String, String, String, String) {
    let tokens: Vec<String> = ["admin", "dev", "eve", "owner"]
        .iter()
        .map(|n| qun_tests::unique(&format!("{n}-token")))
        .collect();
    for (i, (name, admin, developer)) in [
        ("admin", true, false),
        ("dev", false, true),
        ("eve", false, true),
        ("owner", false, false),
    ]
    .into_iter()
    .enumerate()
    {
        db.store
            .create_user(&qun_tests::unique(name), &tokens[i], admin, developer)
            .await
            .expect("user");
    }
    (
        tokens[0].clone(),
        tokens[1].clone(),
        tokens[2].clone(),
        tokens[3].clone(),
    )
}

async fn upload(app: &axum::Router, dev: &str, slug: &str, path: &str) -> Value {
    let (status, body) = call(
        app,
        Method::POST,
        &format!("/v1/apps/{slug}/versions"),
        Some(dev),
        Some(("application/wasm", qun_components::read(path))),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

async fn a_reviewer_sees_the_interface_and_what_changed(backend: Backend) {
    let Some((db, _state, app)) = router(backend, HttpConfig::default()).await else {
        return;
    };
    let (admin, dev, _eve, owner) = people(&db).await;
    let (status, body) = call(
        &app,
        Method::POST,
        "/v1/apps",
        Some(&dev),
        json(json!({"slug": "upgrader", "name": "Upgrader"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    upload(&app, &dev, "upgrader", qun_components::UPGRADER_V1).await;
    let review = "/v1/admin/apps/upgrader/versions/1.0.0/review";

    // The first version: everything is new.
    let (status, first) = call(&app, Method::GET, review, Some(&admin), None).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert!(first["previous"].is_null());
    assert!(first["size_bytes"].as_u64().expect("size") > 1000);
    assert_eq!(first["version"]["sha256"].as_str().expect("sha").len(), 64);
    let wit = first["wit"].as_str().expect("wit");
    assert!(wit.contains("world "), "{wit}");
    assert!(wit.contains("interface handler"), "{wit}");
    assert_eq!(first["diff"]["capabilities_added"], json!(["storage"]));
    assert!(
        first["imports"]
            .as_array()
            .expect("imports")
            .iter()
            .any(|i| i
                .as_str()
                .is_some_and(|i| i.starts_with("qun:app/storage@"))),
        "{}",
        first["imports"]
    );

    // Approved, then version two asks for more: the diff says exactly what.
    let (status, body) = call(
        &app,
        Method::POST,
        "/v1/admin/apps/upgrader/versions/1.0.0/approve",
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    upload(&app, &dev, "upgrader", qun_components::UPGRADER_V2).await;
    let (status, second) = call(
        &app,
        Method::GET,
        "/v1/admin/apps/upgrader/versions/2.0.0/review",
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_eq!(second["previous"]["version"], "1.0.0");
    let diff = &second["diff"];
    assert_eq!(diff["capabilities_added"], json!(["messaging"]), "{diff}");
    assert_eq!(diff["capabilities_removed"], json!([]), "{diff}");
    assert_eq!(diff["actions_added"], json!(["announce"]), "{diff}");
    assert!(
        diff["imports_added"]
            .as_array()
            .expect("imports")
            .iter()
            .any(|i| i
                .as_str()
                .is_some_and(|i| i.starts_with("qun:app/messaging@"))),
        "{diff}"
    );

    // Only platform admins; unknown versions are named.
    for token in [&dev, &owner] {
        let (status, body) = call(&app, Method::GET, review, Some(token), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    }
    let (status, body) = call(&app, Method::GET, review, None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, body) = call(
        &app,
        Method::GET,
        "/v1/admin/apps/upgrader/versions/9.9.9/review",
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::NOT_FOUND, "version_not_found")
    );

    // The audit chain's check, over HTTP, for admins only.
    let (status, checked) = call(
        &app,
        Method::GET,
        "/v1/admin/audit/verify",
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{checked}");
    assert_eq!(checked["ok"], true, "{checked}");
    assert!(checked["rows"].as_u64().expect("rows") >= 1, "{checked}");
    let (status, _) = call(
        &app,
        Method::GET,
        "/v1/admin/audit/verify",
        Some(&dev),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn a_developer_sees_invocations_per_version(backend: Backend) {
    let Some((db, _state, app)) = router(backend, HttpConfig::default()).await else {
        return;
    };
    let (admin, dev, eve, owner) = people(&db).await;
    call(
        &app,
        Method::POST,
        "/v1/apps",
        Some(&dev),
        json(json!({"slug": "upgrader", "name": "Upgrader"})),
    )
    .await;
    upload(&app, &dev, "upgrader", qun_components::UPGRADER_V1).await;
    call(
        &app,
        Method::POST,
        "/v1/admin/apps/upgrader/versions/1.0.0/approve",
        Some(&admin),
        None,
    )
    .await;
    let (_, group) = call(
        &app,
        Method::POST,
        "/v1/groups",
        Some(&owner),
        json(json!({"name": "club"})),
    )
    .await;
    let gid = group["id"].as_str().expect("gid").to_string();
    let (status, body) = call(
        &app,
        Method::POST,
        &format!("/v1/groups/{gid}/apps"),
        Some(&owner),
        json(json!({"app": "upgrader", "grants": ["storage"]})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let action = format!("/v1/groups/{gid}/apps/upgrader/actions/version");
    for _ in 0..3 {
        let (status, body) = call(&app, Method::POST, &action, Some(&owner), json(json!({}))).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, stats) = call(
        &app,
        Method::GET,
        "/v1/apps/upgrader/stats",
        Some(&dev),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{stats}");
    let versions = stats["versions"].as_array().expect("versions");
    assert_eq!(versions.len(), 1, "{stats}");
    assert_eq!(versions[0]["version"], "1.0.0");
    assert_eq!(versions[0]["invocations"], 3, "{stats}");
    assert_eq!(versions[0]["errors"], 0, "{stats}");
    assert!(
        versions[0]["max_ms"].as_f64().expect("max") > 0.0,
        "{stats}"
    );

    // The owner's page can tell a suspended app from a working one.
    let installed = format!("/v1/groups/{gid}/apps");
    let (_, apps) = call(&app, Method::GET, &installed, Some(&owner), None).await;
    assert!(apps[0]["app_suspended"].is_null(), "{apps}");
    let (status, body) = call(
        &app,
        Method::POST,
        "/v1/admin/apps/upgrader/suspend",
        Some(&admin),
        json(json!({"reason": "under investigation"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, apps) = call(&app, Method::GET, &installed, Some(&owner), None).await;
    assert_eq!(apps[0]["app_suspended"], "under investigation", "{apps}");

    // Not for another developer or a member.
    for token in [&eve, &owner] {
        let (status, body) = call(
            &app,
            Method::GET,
            "/v1/apps/upgrader/stats",
            Some(token),
            None,
        )
        .await;
        assert!(
            status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND,
            "{status} {body}"
        );
    }
}

/// A fresh directory of its own, inside another (so `..` has something to find).
fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir()
        .join(qun_tests::unique("qun-web-test"))
        .join("dist");
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

async fn a_client_reads_the_newest_page_first_and_filters_the_audit(backend: Backend) {
    let Some((db, _state, app)) = router(backend, HttpConfig::default()).await else {
        return;
    };
    let (admin, _dev, _eve, owner) = people(&db).await;
    let (_, group) = call(
        &app,
        Method::POST,
        "/v1/groups",
        Some(&owner),
        json(json!({"name": "club"})),
    )
    .await;
    let gid = group["id"].as_str().expect("gid").to_string();
    let mut ids = Vec::new();
    for i in 0..7 {
        let (status, body) = call(
            &app,
            Method::POST,
            &format!("/v1/groups/{gid}/messages"),
            Some(&owner),
            json(json!({"text": format!("message {i}")})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        ids.push(body["message"]["id"].as_i64().expect("id"));
    }
    let texts = |page: &Value| -> Vec<String> {
        page.as_array()
            .expect("page")
            .iter()
            .map(|m| m["text"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    // The newest page first, oldest first within it; then the page before it.
    let (status, last) = call(
        &app,
        Method::GET,
        &format!("/v1/groups/{gid}/messages?before=9007199254740991&limit=3"),
        Some(&owner),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{last}");
    assert_eq!(texts(&last), ["message 4", "message 5", "message 6"]);
    let (_, earlier) = call(
        &app,
        Method::GET,
        &format!("/v1/groups/{gid}/messages?before={}&limit=3", ids[4]),
        Some(&owner),
        None,
    )
    .await;
    assert_eq!(texts(&earlier), ["message 1", "message 2", "message 3"]);
    let (_, first) = call(
        &app,
        Method::GET,
        &format!("/v1/groups/{gid}/messages?before={}&limit=3", ids[1]),
        Some(&owner),
        None,
    )
    .await;
    assert_eq!(texts(&first), ["message 0"]);

    // Members carry the name people see.
    let (_, me) = call(&app, Method::GET, "/v1/me", Some(&owner), None).await;
    let owner_id = me["id"].as_str().expect("id").to_string();
    db.store
        .set_display_name(&owner_id, Some("李老师"))
        .await
        .expect("display name");
    let (status, members) = call(
        &app,
        Method::GET,
        &format!("/v1/groups/{gid}/members"),
        Some(&owner),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{members}");
    let member = members
        .as_array()
        .expect("members")
        .iter()
        .find(|m| m["user_id"] == owner_id.as_str())
        .expect("the owner is a member");
    assert_eq!(member["display_name"], "李老师", "{members}");
    assert_ne!(member["name"], "李老师");

    // The audit trail filtered by action.
    let (status, rows) = call(
        &app,
        Method::GET,
        "/v1/admin/audit?action=no.such.action",
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{rows}");
    assert_eq!(
        rows["entries"].as_array().expect("entries").len(),
        0,
        "{rows}"
    );
    // Two decisions of different kinds: a credit and a review.
    let (status, body) = call(
        &app,
        Method::POST,
        &format!("/v1/admin/wallets/{owner_id}/credit"),
        Some(&admin),
        json(json!({"amount": 100, "currency": "CNY"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, all) = call(&app, Method::GET, "/v1/admin/audit", Some(&admin), None).await;
    assert!(
        !all["entries"].as_array().expect("entries").is_empty(),
        "{all}"
    );
    let some_action = "wallet.credit".to_string();
    let (_, only) = call(
        &app,
        Method::GET,
        &format!("/v1/admin/audit?action={some_action}"),
        Some(&admin),
        None,
    )
    .await;
    let entries = only["entries"].as_array().expect("entries");
    assert!(!entries.is_empty());
    assert!(
        entries.iter().all(|e| e["action"] == some_action.as_str()),
        "{only}"
    );
    let (_, none) = call(
        &app,
        Method::GET,
        "/v1/admin/audit?until=1",
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(
        none["entries"].as_array().expect("entries").len(),
        0,
        "{none}"
    );
}
