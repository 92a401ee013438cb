//! App lifecycle and trust, through the HTTP API on both backends: review
//! gates the catalog, suspension stops an app everywhere (timers included),
//! upgrades that ask for more wait for consent, failing installations are
//! disabled automatically, tampered components are refused, and the audit
//! trail is tamper-evident.

mod server_common;

use axum::http::{Method, StatusCode};
use qun_host::http::HttpConfig;
use qun_host::store::{Role, User, now_ms};
use qun_host::{AppState, Limits};
use qun_tests::{Backend, World, backend_tests, unique};
use serde_json::{Value, json};
use server_common::{call, code, qun_bin};

backend_tests!(
    review_gates_the_catalog_and_installs,
    suspension_stops_an_app_everywhere_until_resumed,
    an_upgrade_asking_for_more_waits_for_consent,
    a_failing_installation_is_disabled_until_the_owner_reenables_it,
    a_flipped_byte_in_a_stored_component_is_refused,
    audit_verify_passes_and_reports_an_edited_row,
    nothing_of_another_group_is_reachable,
);

/// A world with the HTTP API over its runtime.
struct Site {
    w: World,
    app: axum::Router,
}

impl Site {
    async fn new(backend: Backend, limits: Limits) -> Option<Site> {
        let w = World::with_limits(backend, limits).await?;
        let state = AppState::new(w.runtime.clone(), HttpConfig::default());
        let app = qun_host::app(state);
        Some(Site { w, app })
    }

    /// A user and their token.
    async fn user(&self, name: &str, admin: bool, developer: bool) -> (User, String) {
        let token = unique("token");
        let user = self
            .w
            .store()
            .create_user(&unique(name), &token, admin, developer)
            .await
            .expect("user");
        (user, token)
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        call(
            &self.app,
            method,
            path,
            Some(token),
            body.map(|b| ("application/json", b.to_string().into_bytes())),
        )
        .await
    }

    async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, token, None).await
    }

    async fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, token, Some(body)).await
    }

    async fn patch(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PATCH, path, token, Some(body)).await
    }

    /// Install an app in the group `gid` as `token`.
    async fn install(&self, gid: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.post(&format!("/v1/groups/{gid}/apps"), token, body)
            .await
    }

    /// Register `slug` (if new) and upload the component at `file` as `token`.
    async fn upload(&self, token: &str, slug: &str, file: &str) -> (StatusCode, Value) {
        let (status, body) = self
            .post("/v1/apps", token, json!({"slug": slug, "name": slug}))
            .await;
        assert!(
            status == StatusCode::CREATED || code(&body) == "slug_taken",
            "{status} {body}"
        );
        call(
            &self.app,
            Method::POST,
            &format!("/v1/apps/{slug}/versions"),
            Some(token),
            Some(("application/wasm", std::fs::read(file).expect("component"))),
        )
        .await
    }

    /// A group owned by a new user, with a group admin and a member.
    async fn group(&self) -> Group {
        let (owner, owner_token) = self.user("owner", false, false).await;
        let (admin, admin_token) = self.user("gadmin", false, false).await;
        let (member, member_token) = self.user("member", false, false).await;
        let group = self
            .w
            .store()
            .create_group(&unique("group"), &owner.id)
            .await
            .expect("group");
        let store = self.w.store();
        store
            .add_member(&group.id, &admin.id, Role::Admin)
            .await
            .expect("admin");
        store
            .add_member(&group.id, &member.id, Role::Member)
            .await
            .expect("member");
        Group {
            id: group.id,
            owner,
            owner_token,
            admin_token,
            member,
            member_token,
        }
    }
}

struct Group {
    id: String,
    owner: User,
    owner_token: String,
    admin_token: String,
    member: User,
    member_token: String,
}

/// Upload `file` as a new developer and approve it as a platform admin.
/// Returns (developer token, admin token).
async fn published(site: &Site, slug: &str, file: &str) -> (String, String) {
    let (_, dev) = site.user("dev", false, true).await;
    let (_, admin) = site.user("admin", true, false).await;
    let (status, version) = site.upload(&dev, slug, file).await;
    assert_eq!(status, StatusCode::CREATED, "{version}");
    let v = version["version"].as_str().expect("version");
    let (status, body) = site
        .post(
            &format!("/v1/admin/apps/{slug}/versions/{v}/approve"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (dev, admin)
}

fn catalog_slugs(body: &Value) -> Vec<String> {
    body.as_array()
        .expect("catalog")
        .iter()
        .filter_map(|e| e["slug"].as_str().map(str::to_string))
        .collect()
}

async fn review_gates_the_catalog_and_installs(backend: Backend) {
    let Some(site) = Site::new(backend, Limits::default()).await else {
        return;
    };
    let (dev_user, dev) = site.user("dev", false, true).await;
    let (admin_user, admin) = site.user("admin", true, false).await;
    let g = site.group().await;

    // Uploaded: pending, with the capabilities read from the binary.
    let (status, version) = site.upload(&dev, "probe", qun_components::PROBE).await;
    assert_eq!(status, StatusCode::CREATED, "{version}");
    assert_eq!(version["status"], "pending");
    assert!(
        version["capabilities"]
            .as_array()
            .expect("caps")
            .contains(&json!("payments"))
    );

    // Not in the catalog, not installable, invisible to others.
    let (_, catalog) = site.get("/v1/catalog", &g.owner_token).await;
    assert!(!catalog_slugs(&catalog).contains(&"probe".to_string()));
    let install =
        |version: Option<&str>| json!({"app": "probe", "version": version, "grants": ["storage"]});
    let (status, body) = site
        .post(
            &format!("/v1/groups/{}/apps", g.id),
            &g.owner_token,
            install(Some("0.1.0")),
        )
        .await;
    // Unlisted: to a group owner it does not exist (issue 11 item 5).
    assert_eq!(
        (status, code(&body)),
        (StatusCode::NOT_FOUND, "app_not_found"),
        "{body}"
    );
    let (status, _) = site.get("/v1/apps/probe", &g.owner_token).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The admin's queue lists it; a rejection needs a reason, which the developer sees.
    let (_, queue) = site.get("/v1/admin/reviews", &admin).await;
    assert!(
        queue
            .as_array()
            .expect("queue")
            .iter()
            .any(|i| i["app"] == "probe" && i["version"] == "0.1.0"),
        "{queue}"
    );
    let reject = "/v1/admin/apps/probe/versions/0.1.0/reject";
    let (status, body) = site.post(reject, &admin, json!({"reason": "  "})).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "missing_reason")
    );
    let (status, body) = site
        .post(reject, &dev, json!({"reason": "mine is fine"}))
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a developer cannot review: {body}"
    );
    let (status, _) = site
        .post(
            reject,
            &admin,
            json!({"reason": "asks for payments it never uses"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, mine) = site.get("/v1/apps/probe", &dev).await;
    assert_eq!(mine["versions"][0]["status"], "rejected", "{mine}");
    assert_eq!(
        mine["versions"][0]["review_reason"],
        "asks for payments it never uses"
    );
    let (status, body) = site
        .post(
            "/v1/admin/apps/probe/versions/0.1.0/approve",
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::CONFLICT, "already_reviewed")
    );
    let (status, body) = site
        .post(
            &format!("/v1/groups/{}/apps", g.id),
            &g.owner_token,
            install(None),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no approved version: {body}");
    let (_, queue) = site.get("/v1/admin/reviews", &admin).await;
    assert_eq!(queue, json!([]));

    // Another app, approved: in the catalog with its capabilities in plain words.
    let (status, _) = site
        .upload(&dev, "upgrader", qun_components::UPGRADER_V1)
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = site
        .post(
            "/v1/admin/apps/upgrader/versions/1.0.0/approve",
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, catalog) = site.get("/v1/catalog", &g.member_token).await;
    let entry = catalog
        .as_array()
        .expect("catalog")
        .iter()
        .find(|e| e["slug"] == "upgrader")
        .expect("upgrader listed")
        .clone();
    assert_eq!(entry["capabilities"][0]["name"], "storage");
    assert!(
        !entry["capabilities"][0]["description"]
            .as_str()
            .unwrap_or_default()
            .is_empty()
    );
    let (status, body) = site
        .install(
            &g.id,
            &g.admin_token,
            json!({"app": "upgrader", "grants": ["storage"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // Every decision is in the audit trail with who made it.
    let (_, trail) = site.get("/v1/admin/audit?app=probe", &admin).await;
    assert!(
        trail["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .any(|e| e["action"] == "review.reject"
                && e["actor"] == json!(admin_user.id)
                && e["detail"] == "asks for payments it never uses"),
        "{trail}"
    );
    let (_, trail) = site
        .get(&format!("/v1/groups/{}/audit", g.id), &g.owner_token)
        .await;
    assert!(
        trail["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .any(|e| e["action"] == "installation.install" && e["app"] == "upgrader"),
        "{trail}"
    );
    let _ = dev_user;
}

async fn suspension_stops_an_app_everywhere_until_resumed(backend: Backend) {
    let Some(site) = Site::new(backend, Limits::default()).await else {
        return;
    };
    let (_, admin) = published(&site, "probe", qun_components::PROBE).await;
    let (a, b, c) = (site.group().await, site.group().await, site.group().await);
    for g in [&a, &b] {
        let (status, body) = site
            .install(
                &g.id,
                &g.owner_token,
                json!({"app": "probe", "grants": ["storage", "scheduler"]}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let action = |g: &Group, name: &str| format!("/v1/groups/{}/apps/probe/actions/{name}", g.id);
    let due = now_ms() + 1_000;
    let (status, body) = site
        .post(
            &action(&a, "schedule"),
            &a.member_token,
            json!({"key": "t", "at": due, "payload": "p"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (status, _) = site
        .post(
            "/v1/admin/apps/probe/suspend",
            &admin,
            json!({"reason": "abuse reports"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // The very next request, in every group, is refused.
    for g in [&a, &b] {
        let (status, body) = site
            .post(
                &action(g, "set"),
                &g.member_token,
                json!({"key": "k", "value": "v"}),
            )
            .await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::CONFLICT, "suspended"),
            "{body}"
        );
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .contains("abuse reports")
        );
    }
    let (_, catalog) = site.get("/v1/catalog", &c.owner_token).await;
    assert!(!catalog_slugs(&catalog).contains(&"probe".to_string()));
    let (status, body) = site
        .install(&c.id, &c.owner_token, json!({"app": "probe"}))
        .await;
    // Suspended, so unlisted: to a group owner it does not exist (issue 11 item 5).
    assert_eq!(
        (status, code(&body)),
        (StatusCode::NOT_FOUND, "app_not_found"),
        "{body}"
    );

    // Its timer came due while suspended: it does not fire, and no event is delivered.
    let delivery = qun_host::runtime::DeliveryConfig::default();
    let report = site
        .w
        .runtime
        .deliver_due(&delivery, "test", due + 60_000)
        .await
        .expect("deliver");
    assert_eq!((report.timers, report.delivered), (0, 0), "{report:?}");
    let (status, _) = site
        .post("/v1/admin/apps/probe/resume", &admin, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, events) = site
        .post(
            &action(&a, "list"),
            &a.member_token,
            json!({"prefix": "event/", "limit": 10}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{events}");
    assert_eq!(
        events["entries"],
        json!([]),
        "nothing fired while suspended"
    );

    // Resumed: it runs again, and the timer that waited fires.
    let report = site
        .w
        .runtime
        .deliver_due(&delivery, "test", due + 120_000)
        .await
        .expect("deliver");
    assert_eq!(report.timers, 1, "{report:?}");
    let (_, events) = site
        .post(
            &action(&a, "list"),
            &a.member_token,
            json!({"prefix": "event/", "limit": 10}),
        )
        .await;
    let entries = events["entries"].as_array().expect("entries");
    let fired = entries
        .iter()
        .filter(|e| e[1].as_str().unwrap_or_default().contains("timer-fired"))
        .count();
    assert_eq!(fired, 1, "{events}");
    let (_, trail) = site.get("/v1/admin/audit?app=probe", &admin).await;
    let actions: Vec<&str> = trail["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(
        actions.contains(&"app.suspend") && actions.contains(&"app.resume"),
        "{actions:?}"
    );
}

async fn an_upgrade_asking_for_more_waits_for_consent(backend: Backend) {
    let Some(site) = Site::new(backend, Limits::default()).await else {
        return;
    };
    let (dev, admin) = published(&site, "upgrader", qun_components::UPGRADER_V1).await;
    let g = site.group().await;
    let inst = format!("/v1/groups/{}/apps/upgrader", g.id);
    let (status, _) = site
        .install(
            &g.id,
            &g.owner_token,
            json!({"app": "upgrader", "grants": ["storage"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = site
        .post(
            &format!("{inst}/actions/note"),
            &g.member_token,
            json!({"text": "kept"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    // 2.0.0 asks for messaging too. Pending review, it cannot be installed.
    let (status, _) = site
        .upload(&dev, "upgrader", qun_components::UPGRADER_V2)
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = site
        .patch(&inst, &g.owner_token, json!({"version": "2.0.0"}))
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::CONFLICT, "not_approved"),
        "{body}"
    );
    let (status, _) = site
        .post(
            "/v1/admin/apps/upgrader/versions/2.0.0/approve",
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    // Asked to upgrade: it waits for consent, and the old version keeps running.
    let (status, view) = site
        .patch(&inst, &g.owner_token, json!({"version": "2.0.0"}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{view}");
    assert_eq!(view["version"], "1.0.0");
    assert_eq!(view["pending_version"], "2.0.0");
    assert_eq!(view["pending_capabilities"], json!(["messaging"]));
    let (_, answer) = site
        .post(
            &format!("{inst}/actions/version"),
            &g.member_token,
            json!({}),
        )
        .await;
    assert_eq!(answer["version"], "1.0.0");
    let (status, body) = site
        .post(
            &format!("{inst}/actions/announce"),
            &g.member_token,
            json!({}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "1.0.0 has no announce: {body}"
    );
    // A member cannot consent.
    let (status, _) = site
        .patch(
            &inst,
            &g.member_token,
            json!({"version": "2.0.0", "grants": ["storage", "messaging"]}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, listed) = site
        .get(&format!("/v1/groups/{}/apps", g.id), &g.member_token)
        .await;
    assert_eq!(listed[0]["pending_version"], "2.0.0");

    // The owner consents: 2.0.0 runs with the new grant, and the data stayed.
    let (status, view) = site
        .patch(
            &inst,
            &g.owner_token,
            json!({"version": "2.0.0", "grants": ["storage", "messaging"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["version"], "2.0.0");
    assert_eq!(view["pending_version"], Value::Null);
    assert_eq!(view["grants"], json!(["messaging", "storage"]));
    let (_, answer) = site
        .post(
            &format!("{inst}/actions/version"),
            &g.member_token,
            json!({}),
        )
        .await;
    assert_eq!(answer["version"], "2.0.0");
    let (status, _) = site
        .post(
            &format!("{inst}/actions/announce"),
            &g.member_token,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let posted = site.w.messages(&g.id).await;
    assert_eq!(
        posted.last().and_then(|m| m.text.clone()).as_deref(),
        Some("note: kept")
    );

    // Grants can be withdrawn: the call is then denied, and audited.
    let (status, _) = site
        .patch(&inst, &g.owner_token, json!({"grants": ["storage"]}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = site
        .post(
            &format!("{inst}/actions/announce"),
            &g.member_token,
            json!({}),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "app_denied"),
        "{body}"
    );
    let (status, body) = site
        .patch(&inst, &g.owner_token, json!({"grants": ["payments"]}))
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_grant"),
        "{body}"
    );
    let (_, trail) = site
        .get(&format!("/v1/groups/{}/audit", g.id), &g.owner_token)
        .await;
    let entries = trail["entries"].as_array().expect("entries");
    for action in [
        "installation.upgrade_requested",
        "installation.upgrade",
        "installation.grants",
    ] {
        assert!(
            entries
                .iter()
                .any(|e| e["action"] == action && e["actor"] == json!(g.owner.id)),
            "{action} missing from {trail}"
        );
    }
    assert!(
        entries
            .iter()
            .any(|e| e["action"] == "messaging.post" && e["outcome"] == "denied"),
        "{trail}"
    );
}

async fn a_failing_installation_is_disabled_until_the_owner_reenables_it(backend: Backend) {
    let limits = Limits {
        health_faults: 3,
        ..Limits::default()
    };
    let Some(site) = Site::new(backend, limits).await else {
        return;
    };
    let (dev, admin) = published(&site, "probe", qun_components::PROBE).await;
    let g = site.group().await;
    let (status, _) = site
        .install(
            &g.id,
            &g.owner_token,
            json!({"app": "probe", "grants": ["storage", "messaging"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let action = |name: &str| format!("/v1/groups/{}/apps/probe/actions/{name}", g.id);
    // An app error is not a fault; traps are.
    let (status, _) = site
        .post(&action("nonsense"), &g.member_token, json!({}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    for _ in 0..3 {
        let (status, body) = site
            .post(
                &action("set-post-trap"),
                &g.member_token,
                json!({"key": "k", "value": "v", "text": "t"}),
            )
            .await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::BAD_GATEWAY, "trap"),
            "{body}"
        );
    }
    let (status, body) = site.post(&action("echo"), &g.member_token, json!({})).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::CONFLICT, "disabled"),
        "{body}"
    );

    // The owner sees why; so do the developer (log) and the admin (audit).
    let (_, listed) = site
        .get(&format!("/v1/groups/{}/apps", g.id), &g.owner_token)
        .await;
    assert_eq!(listed[0]["enabled"], false);
    assert_eq!(listed[0]["disabled_by"], "health");
    let reason = listed[0]["disabled_reason"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        reason.contains("3 failed invocations") && reason.contains("the app crashed"),
        "{reason}"
    );
    let (_, logs) = site.get("/v1/apps/probe/logs", &dev).await;
    let lines = logs["lines"].as_array().expect("lines");
    assert_eq!(lines[0]["message"], json!(reason), "newest first: {logs}");
    let text = |l: &Value| l["message"].as_str().unwrap_or_default().to_string();
    assert_eq!(
        lines
            .iter()
            .filter(|l| l["level"] == "failure" && text(l).contains("crashed"))
            .count(),
        3,
        "{logs}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l["level"] == "stderr" && text(l).contains("probe trap")),
        "the panic message reaches the developer: {logs}"
    );
    let (_, trail) = site.get("/v1/admin/audit?app=probe", &admin).await;
    assert!(
        trail["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .any(|e| e["action"] == "installation.auto_disable" && e["actor"] == "health"),
        "{trail}"
    );

    // Re-enabled by the owner: it runs, and old faults no longer count.
    let (status, view) = site
        .patch(
            &format!("/v1/groups/{}/apps/probe", g.id),
            &g.owner_token,
            json!({"enabled": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["disabled_reason"], Value::Null);
    let (status, _) = site
        .post(&action("echo"), &g.member_token, json!({"x": 1}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = site
        .post(
            &action("set-post-trap"),
            &g.member_token,
            json!({"key": "k", "value": "v", "text": "t"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    let (status, _) = site
        .post(&action("echo"), &g.member_token, json!({"x": 2}))
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "one new fault is under the threshold"
    );
    // Another developer cannot read this app's log.
    let (_, other) = site.user("otherdev", false, true).await;
    let (status, _) = site.get("/v1/apps/probe/logs", &other).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn a_flipped_byte_in_a_stored_component_is_refused(backend: Backend) {
    let Some(site) = Site::new(backend, Limits::default()).await else {
        return;
    };
    let g = site.group().await;
    let inst = site.w.install(qun_components::NOOP, &g.id, &[]).await;
    let outcome = site.w.action(&inst, &g.member.id, "noop", json!({})).await;
    assert!(outcome.is_ok(), "{outcome:?}");

    // Flip one byte of the stored component, directly in the database.
    let mut bytes = std::fs::read(qun_components::NOOP).expect("noop");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&site.w.db.url)
        .await
        .expect("connect");
    sqlx::query("UPDATE app_versions SET wasm = $1 WHERE app_slug = 'noop'")
        .bind(bytes)
        .execute(&mut conn)
        .await
        .expect("tamper");

    // A host that has not loaded it yet (a restart, another host) refuses it.
    let fresh = qun_host::Runtime::new(
        site.w.store().clone(),
        qun_host::RuntimeConfig {
            limits: Limits::default(),
            cache_dir: Some(qun_tests::cache_dir()),
        },
    )
    .expect("runtime");
    let app = qun_host::app(AppState::new(fresh, HttpConfig::default()));
    let (status, body) = call(
        &app,
        Method::POST,
        &format!("/v1/groups/{}/apps/noop/actions/noop", g.id),
        Some(&g.member_token),
        Some(("application/json", b"{}".to_vec())),
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_GATEWAY, "tampered"),
        "{body}"
    );
}

async fn audit_verify_passes_and_reports_an_edited_row(backend: Backend) {
    let Some(site) = Site::new(backend, Limits::default()).await else {
        return;
    };
    let (_, admin) = published(&site, "probe", qun_components::PROBE).await;
    let g = site.group().await;
    let (status, _) = site
        .install(
            &g.id,
            &g.owner_token,
            json!({"app": "probe", "grants": ["storage"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let action = |name: &str| format!("/v1/groups/{}/apps/probe/actions/{name}", g.id);
    site.post(
        &action("set"),
        &g.member_token,
        json!({"key": "a", "value": "1"}),
    )
    .await;
    let (status, _) = site
        .post(&action("post"), &g.member_token, json!({"text": "hi"}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "messaging was not granted");
    site.post(&action("get"), &g.member_token, json!({"key": "a"}))
        .await;

    let verify = || {
        let out = std::process::Command::new(qun_bin())
            .args(["audit", "verify"])
            .env("DATABASE_URL", &site.w.db.url)
            .env("QUN_DATA_DIR", std::env::temp_dir())
            .output()
            .expect("qun audit verify");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (ok, report) = verify();
    assert!(ok && report.contains("intact"), "{report}");

    // The denied call, rewritten as if it had been allowed, directly in the database.
    let (_, trail) = site.get("/v1/admin/audit?outcome=denied", &admin).await;
    let denied = trail["entries"][0].clone();
    assert_eq!(denied["action"], "messaging.post", "{trail}");
    let id = denied["id"].as_i64().expect("id");
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&site.w.db.url)
        .await
        .expect("connect");
    sqlx::query("UPDATE audit SET outcome = 'ok', detail = NULL WHERE id = $1")
        .bind(id)
        .execute(&mut conn)
        .await
        .expect("edit");
    let (ok, report) = verify();
    assert!(!ok, "an edited row must fail verification: {report}");
    assert!(report.contains(&format!("BROKEN at row {id}")), "{report}");
    let verification = site.w.store().verify_audit().await.expect("verify");
    assert_eq!(verification.broken.map(|b| b.id), Some(id));
}

async fn nothing_of_another_group_is_reachable(backend: Backend) {
    let Some(site) = Site::new(backend, Limits::default()).await else {
        return;
    };
    let (dev, _) = published(&site, "probe", qun_components::PROBE).await;
    let (a, b) = (site.group().await, site.group().await);
    for g in [&a, &b] {
        let (status, _) = site
            .install(
                &g.id,
                &g.owner_token,
                json!({"app": "probe", "grants": ["storage", "membership", "messaging"]}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let in_b = |rest: &str| format!("/v1/groups/{}{rest}", b.id);
    let (status, _) = site
        .post(
            &in_b("/apps/probe/actions/set"),
            &b.member_token,
            json!({"key": "secret", "value": "b's"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    site.post(
        &in_b("/messages"),
        &b.member_token,
        json!({"text": "b only"}),
    )
    .await;

    // From A's side (its owner, its group admin, its member), B does not exist.
    for token in [&a.owner_token, &a.admin_token, &a.member_token] {
        for (method, path, body) in [
            (Method::GET, in_b(""), None),
            (Method::GET, in_b("/messages"), None),
            (
                Method::POST,
                in_b("/messages"),
                Some(json!({"text": "intrusion"})),
            ),
            (Method::GET, in_b("/members"), None),
            (
                Method::POST,
                in_b("/members"),
                Some(json!({"user_id": a.member.id})),
            ),
            (
                Method::DELETE,
                in_b(&format!("/members/{}", b.member.id)),
                None,
            ),
            (Method::GET, in_b("/apps"), None),
            (Method::POST, in_b("/apps"), Some(json!({"app": "probe"}))),
            (
                Method::PATCH,
                in_b("/apps/probe"),
                Some(json!({"enabled": false})),
            ),
            (Method::DELETE, in_b("/apps/probe"), None),
            (
                Method::POST,
                in_b("/apps/probe/actions/get"),
                Some(json!({"key": "secret"})),
            ),
            (Method::GET, in_b("/audit"), None),
            (Method::GET, in_b("/stream"), None),
        ] {
            let (status, body) = site.call(method.clone(), &path, token, body).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {body}");
        }
        // Nor through the platform's views.
        let (status, _) = site
            .get(&format!("/v1/admin/audit?group={}", b.id), token)
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = site.get("/v1/apps/probe/audit", token).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }

    // A's installation of the same app sees none of B's data or members.
    let in_a = |name: &str| format!("/v1/groups/{}/apps/probe/actions/{name}", a.id);
    let (_, got) = site
        .post(&in_a("get"), &a.member_token, json!({"key": "secret"}))
        .await;
    assert_eq!(got["value"], Value::Null);
    let (status, body) = site
        .post(&in_a("member"), &a.member_token, json!({"id": b.member.id}))
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::NOT_FOUND, "app_not_found"),
        "{body}"
    );
    let (_, members) = site
        .post(&in_a("members"), &a.member_token, json!({"limit": 50}))
        .await;
    let ids: Vec<&str> = members["members"]
        .as_array()
        .expect("members")
        .iter()
        .filter_map(|m| m["id"].as_str())
        .collect();
    assert!(
        !ids.contains(&b.member.id.as_str()) && ids.contains(&a.member.id.as_str()),
        "{ids:?}"
    );

    // A's owner reads A's audit trail: rows of A only, though B has rows too.
    let (_, trail) = site
        .get(
            &format!("/v1/groups/{}/audit?limit=500", a.id),
            &a.owner_token,
        )
        .await;
    let entries = trail["entries"].as_array().expect("entries");
    assert!(!entries.is_empty());
    assert!(
        entries.iter().all(|e| e["group_id"] == json!(a.id)),
        "{trail}"
    );
    let (_, dev_trail) = site.get("/v1/apps/probe/audit?limit=500", &dev).await;
    assert!(
        dev_trail["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .any(|e| e["group_id"] == json!(b.id)),
        "the developer sees their app's rows in every group"
    );

    // B's messages and members are unchanged by all of that.
    let messages = site.w.messages(&b.id).await;
    assert!(
        messages
            .iter()
            .all(|m| m.text.as_deref() != Some("intrusion"))
    );
    let b_members = site
        .w
        .store()
        .member(&b.id, &b.member.id)
        .await
        .expect("member");
    assert!(b_members.is_some());
    let b_inst = site
        .w
        .store()
        .installation_of(&b.id, "probe")
        .await
        .expect("inst")
        .expect("installed");
    assert!(b_inst.enabled);
}
