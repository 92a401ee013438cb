//! The authorization matrix: for every route, what a platform admin, the
//! app's developer, another developer, the group's owner, a group admin, a
//! member, a user outside the group and a caller without a token get.
//!
//! Every (route, caller) pair runs against its own fresh world, so a caller
//! allowed to delete something never changes what the next caller sees. A
//! route in the router without a row here fails the test, and so does a row
//! for a route that does not exist.

mod server_common;

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use qun_host::store::ledger::{AdminCredit, PaymentProvider};
use qun_host::store::{AppVersion, Decision, NewForm, NewMessage, Role, VersionStatus};
use qun_host::{Answer, AppState, Call, Invocation, Limits, Runtime, RuntimeConfig};
use qun_tests::{Backend, TestDb};
use serde_json::{Value, json};
use server_common::{fill, operations};
use tower::ServiceExt;

/// The callers, in the order of a row's expectations.
const CALLERS: [&str; 8] = [
    "platform-admin",
    "app-developer",
    "other-developer",
    "group-owner",
    "group-admin",
    "member",
    "outsider",
    "no-token",
];

/// What a row needs prepared beyond the common world.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Prep {
    None,
    /// The `probe` app is suspended.
    SuspendProbe,
}

/// A request body.
#[derive(Debug, Clone)]
enum Send {
    Nothing,
    Json(Value),
    /// The `stateful` test component's bytes.
    Wasm,
    /// A file's bytes (with `?name=` added to the path).
    Upload,
}

struct Row {
    method: Method,
    path: &'static str,
    body: Send,
    prep: Prep,
    /// Path parameters that differ from the defaults.
    params: &'static [(&'static str, &'static str)],
    /// The status each caller gets, in [`CALLERS`] order.
    expect: [u16; 8],
}

fn row(method: Method, path: &'static str, expect: [u16; 8]) -> Row {
    Row {
        method,
        path,
        body: Send::Nothing,
        prep: Prep::None,
        params: &[],
        expect,
    }
}

impl Row {
    fn json(mut self, body: Value) -> Row {
        self.body = Send::Json(body);
        self
    }
    fn wasm(mut self) -> Row {
        self.body = Send::Wasm;
        self
    }
    fn upload(mut self) -> Row {
        self.body = Send::Upload;
        self
    }
    fn prep(mut self, prep: Prep) -> Row {
        self.prep = prep;
        self
    }
    fn params(mut self, params: &'static [(&'static str, &'static str)]) -> Row {
        self.params = params;
        self
    }
}

// Shorthands for the common shapes of a row (admin, dev, other dev, owner,
// group admin, member, outsider, no token).
const ANYONE: [u16; 8] = [200, 200, 200, 200, 200, 200, 200, 200];
const SIGNED_IN: [u16; 8] = [200, 200, 200, 200, 200, 200, 200, 401];
const GROUP_MEMBERS: [u16; 8] = [404, 404, 404, 200, 200, 200, 404, 401];
const GROUP_MANAGERS: [u16; 8] = [404, 404, 404, 200, 200, 403, 404, 401];
const PLATFORM_ADMIN: [u16; 8] = [200, 403, 403, 403, 403, 403, 403, 401];
const APP_MANAGERS: [u16; 8] = [200, 200, 403, 403, 403, 403, 403, 401];

fn matrix() -> Vec<Row> {
    use Method as M;
    vec![
        row(M::GET, "/healthz", ANYONE),
        row(M::GET, "/metrics", ANYONE),
        row(M::GET, "/openapi.json", ANYONE),
        // Users.
        row(
            M::POST,
            "/v1/users",
            [201, 403, 403, 403, 403, 403, 403, 401],
        )
        .json(json!({"name": "newcomer"})),
        row(M::GET, "/v1/me", SIGNED_IN),
        row(M::PATCH, "/v1/me/profile", SIGNED_IN).json(json!({"locale": "en"})),
        row(M::GET, "/v1/me/direct-messages", SIGNED_IN),
        // Groups.
        row(
            M::POST,
            "/v1/groups",
            [201, 201, 201, 201, 201, 201, 201, 401],
        )
        .json(json!({"name": "another"})),
        row(M::GET, "/v1/groups/{gid}", GROUP_MEMBERS),
        row(M::PATCH, "/v1/groups/{gid}", GROUP_MANAGERS).json(json!({"locale": "en"})),
        row(
            M::POST,
            "/v1/groups/{gid}/members",
            [404, 404, 404, 201, 201, 403, 404, 401],
        )
        .json(json!({"user_id": "{newcomer}"})),
        row(M::GET, "/v1/groups/{gid}/members", GROUP_MEMBERS),
        // Developer mode (issue 16): probe is not installed in developer mode.
        row(
            M::GET,
            "/v1/groups/{gid}/apps/{slug}/timers",
            [404, 404, 404, 403, 403, 403, 404, 401],
        ),
        row(
            M::POST,
            "/v1/groups/{gid}/apps/{slug}/timers/{key}/fire",
            [404, 404, 404, 403, 403, 403, 404, 401],
        )
        .params(&[("key", "daily")]),
        // Files (issue 17): the fixture's file is attached to a group message.
        row(
            M::POST,
            "/v1/groups/{gid}/files",
            [404, 404, 404, 201, 201, 201, 404, 401],
        )
        .upload(),
        row(M::GET, "/v1/groups/{gid}/files/usage", GROUP_MANAGERS),
        row(M::GET, "/v1/groups/{gid}/files/{file}", GROUP_MEMBERS),
        row(
            M::GET,
            "/v1/groups/{gid}/files/{file}/content",
            GROUP_MEMBERS,
        ),
        // The member uploaded it; the owner and admins may delete any file.
        row(
            M::DELETE,
            "/v1/groups/{gid}/files/{file}",
            [404, 404, 404, 204, 204, 204, 404, 401],
        ),
        // A member may leave; only managers remove others (here: the member).
        row(
            M::DELETE,
            "/v1/groups/{gid}/members/{uid}",
            [404, 404, 404, 204, 204, 204, 404, 401],
        ),
        row(
            M::POST,
            "/v1/groups/{gid}/messages",
            [404, 404, 404, 201, 201, 201, 404, 401],
        )
        .json(json!({"text": "hello"})),
        row(M::GET, "/v1/groups/{gid}/messages", GROUP_MEMBERS),
        // Issue 13: one message, a click by reference, a form opened for the member.
        row(M::GET, "/v1/groups/{gid}/messages/{mid}", GROUP_MEMBERS),
        row(
            M::POST,
            "/v1/groups/{gid}/messages/{mid}/elements/{ref}",
            GROUP_MEMBERS,
        ),
        row(
            M::GET,
            "/v1/groups/{gid}/forms/{fid}",
            [404, 404, 404, 404, 404, 200, 404, 401],
        ),
        row(
            M::POST,
            "/v1/groups/{gid}/forms/{fid}",
            [404, 404, 404, 404, 404, 200, 404, 401],
        )
        .json(json!({"values": {}})),
        row(M::GET, "/v1/groups/{gid}/stream", GROUP_MEMBERS),
        row(M::GET, "/v1/groups/{gid}/audit", GROUP_MANAGERS),
        // Apps and the catalog.
        row(
            M::POST,
            "/v1/apps",
            [201, 201, 201, 403, 403, 403, 403, 401],
        )
        .json(json!({"slug": "fresh", "name": "Fresh"})),
        row(M::GET, "/v1/apps", SIGNED_IN),
        row(M::GET, "/v1/apps/{slug}", SIGNED_IN),
        // `stateful` is registered without versions: unlisted, so 404 to others.
        row(
            M::POST,
            "/v1/apps/{slug}/versions",
            [201, 201, 404, 404, 404, 404, 404, 401],
        )
        .params(&[("slug", "stateful")])
        .wasm(),
        row(M::GET, "/v1/apps/{slug}/logs", APP_MANAGERS),
        row(M::GET, "/v1/apps/{slug}/audit", APP_MANAGERS),
        row(M::GET, "/v1/apps/{slug}/events", APP_MANAGERS),
        row(M::GET, "/v1/apps/{slug}/stats", APP_MANAGERS),
        // Rollouts (issue 16): probe 0.1.0 is approved and already runs in the group.
        row(
            M::POST,
            "/v1/apps/{slug}/rollouts",
            [201, 201, 403, 403, 403, 403, 403, 401],
        )
        .json(json!({"version": "0.1.0", "percent": 50})),
        row(M::GET, "/v1/apps/{slug}/rollouts", APP_MANAGERS),
        // No such rollout: who may not manage the app learns nothing more.
        row(
            M::GET,
            "/v1/apps/{slug}/rollouts/{id}",
            [404, 404, 403, 403, 403, 403, 403, 401],
        )
        .params(&[("id", "r_missing")]),
        row(
            M::PATCH,
            "/v1/apps/{slug}/rollouts/{id}",
            [404, 404, 403, 403, 403, 403, 403, 401],
        )
        .params(&[("id", "r_missing")])
        .json(json!({"percent": 60})),
        row(
            M::POST,
            "/v1/apps/{slug}/rollouts/{id}/rollback",
            [404, 404, 403, 403, 403, 403, 403, 401],
        )
        .params(&[("id", "r_missing")]),
        // Uploads (issue 15): no such upload; who may not manage the app learns nothing more.
        row(
            M::GET,
            "/v1/apps/{slug}/uploads/{id}",
            [404, 404, 403, 403, 403, 403, 403, 401],
        )
        .params(&[("id", "up_missing")]),
        // Replay records (issue 16): the developer's and admins' only.
        row(M::GET, "/v1/apps/{slug}/replays", APP_MANAGERS),
        row(
            M::GET,
            "/v1/apps/{slug}/replays/{id}",
            [404, 404, 403, 403, 403, 403, 403, 401],
        )
        .params(&[("id", "rp_missing")]),
        // Not a demo server: nobody gets the demo's users.
        row(M::GET, "/v1/demo/users", [404; 8]),
        row(M::GET, "/v1/catalog", SIGNED_IN),
        // Installations.
        row(
            M::POST,
            "/v1/groups/{gid}/apps",
            [404, 404, 404, 201, 201, 403, 404, 401],
        )
        .json(json!({"app": "noop"})),
        row(M::GET, "/v1/groups/{gid}/apps", GROUP_MEMBERS),
        // Issue 10 item 5: who owns which command.
        row(M::GET, "/v1/groups/{gid}/commands", GROUP_MEMBERS),
        row(
            M::PATCH,
            "/v1/groups/{gid}/apps/{slug}",
            [404, 404, 404, 200, 200, 403, 404, 401],
        )
        .json(json!({"enabled": false})),
        row(
            M::DELETE,
            "/v1/groups/{gid}/apps/{slug}",
            [404, 404, 404, 204, 204, 403, 404, 401],
        ),
        row(
            M::POST,
            "/v1/groups/{gid}/apps/{slug}/actions/{action}",
            GROUP_MEMBERS,
        )
        .json(json!({"hello": "world"})),
        // Platform administration.
        row(M::GET, "/v1/admin/reviews", PLATFORM_ADMIN),
        row(
            M::GET,
            "/v1/admin/apps/{slug}/versions/{version}/review",
            PLATFORM_ADMIN,
        ),
        row(M::GET, "/v1/admin/audit/verify", PLATFORM_ADMIN),
        row(
            M::POST,
            "/v1/admin/apps/{slug}/versions/{version}/approve",
            PLATFORM_ADMIN,
        ),
        row(
            M::POST,
            "/v1/admin/apps/{slug}/versions/{version}/reject",
            PLATFORM_ADMIN,
        )
        .json(json!({"reason": "asks for too much"})),
        row(M::POST, "/v1/admin/apps/{slug}/suspend", PLATFORM_ADMIN)
            .json(json!({"reason": "abuse report"})),
        row(M::POST, "/v1/admin/apps/{slug}/resume", PLATFORM_ADMIN).prep(Prep::SuspendProbe),
        row(M::GET, "/v1/admin/audit", PLATFORM_ADMIN),
        // Payments: `{pending}` is asked of the member, `{settled}` was paid by them.
        row(
            M::POST,
            "/v1/admin/wallets/{user_id}/credit",
            [200, 403, 403, 403, 403, 403, 403, 401],
        )
        .json(json!({"amount": 500, "currency": "CNY"})),
        row(M::GET, "/v1/admin/ledger/check", PLATFORM_ADMIN),
        row(M::GET, "/v1/me/wallet", SIGNED_IN),
        row(M::GET, "/v1/me/payments", SIGNED_IN),
        row(
            M::POST,
            "/v1/payments/{id}/confirm",
            [404, 404, 404, 404, 404, 200, 404, 401],
        ),
        row(
            M::POST,
            "/v1/payments/{id}/decline",
            [404, 404, 404, 404, 404, 200, 404, 401],
        ),
        row(M::GET, "/v1/groups/{gid}/payments", GROUP_MANAGERS),
        row(
            M::POST,
            "/v1/groups/{gid}/payments/{id}/refund",
            [404, 404, 404, 200, 403, 403, 404, 401],
        )
        .params(&[("id", "{settled}")])
        .json(json!({"amount": 40, "idempotency_key": "r1"})),
        // Issue 11 item 7: tokens. Anybody's own; nobody else's token exists for them.
        row(M::GET, "/v1/me/tokens", SIGNED_IN),
        row(
            M::POST,
            "/v1/me/tokens",
            [201, 201, 201, 201, 201, 201, 201, 401],
        )
        .json(json!({"name": "cli"})),
        row(
            M::DELETE,
            "/v1/me/tokens/{id}",
            [404, 404, 404, 404, 404, 404, 404, 401],
        )
        .params(&[("id", "t_of_nobody")]),
        row(
            M::POST,
            "/v1/admin/users/{uid}/tokens/revoke",
            PLATFORM_ADMIN,
        ),
        row(M::POST, "/v1/admin/users/{uid}/disable", PLATFORM_ADMIN)
            .json(json!({"reason": "abuse report"})),
        // The member is not disabled: nothing to enable.
        row(
            M::POST,
            "/v1/admin/users/{uid}/enable",
            [409, 403, 403, 403, 403, 403, 403, 401],
        ),
    ]
}

/// One fresh world: every caller, a group, and three apps by the developer:
/// `probe` (approved, installed in the group, with a pending version),
/// `noop` (approved, not installed) and `stateful` (no version yet).
struct Fixture {
    _db: TestDb,
    router: axum::Router,
    tokens: Vec<Option<String>>,
    params: Vec<(&'static str, String)>,
    /// A payment the member paid (for refunds).
    settled: String,
}

const PENDING: &str = "99.0.0";

async fn approved(state: &AppState, dev: &str, path: &str, admin: &str, install_in: Option<&str>) {
    let store = state.store();
    let bytes = std::fs::read(path).expect("component");
    let app = state.runtime.load(&bytes).await.expect("load");
    let m = &app.manifest;
    store
        .create_app(&m.name, &m.title, &m.description, dev)
        .await
        .expect("app");
    let caps: Vec<String> = app
        .capabilities
        .iter()
        .map(|c| c.name().to_string())
        .collect();
    let mut version = AppVersion {
        app_slug: m.name.clone(),
        version: m.version.clone(),
        sha256: app.sha256.clone(),
        capabilities: caps.clone(),
        manifest: serde_json::to_value(m).expect("manifest"),
        status: VersionStatus::Pending,
        created_at: 1,
        review_reason: None,
        reviewed_by: None,
        reviewed_at: None,
    };
    store.add_version(&version, &bytes).await.expect("version");
    store
        .review_version(&m.name, &m.version, VersionStatus::Approved, None, admin)
        .await
        .expect("approve");
    if let Some(gid) = install_in {
        store
            .install(gid, &m.name, &m.version, &caps, admin)
            .await
            .expect("install");
        // A newer upload, waiting for review.
        version.version = PENDING.into();
        version.created_at = 2;
        store.add_version(&version, &bytes).await.expect("pending");
    }
}

impl Fixture {
    async fn new(prep: Prep) -> Fixture {
        let db = TestDb::new(Backend::Sqlite).await.expect("sqlite");
        let runtime = Runtime::new(
            db.store.clone(),
            RuntimeConfig {
                limits: Limits::default(),
                cache_dir: Some(qun_tests::cache_dir()),
            },
        )
        .expect("runtime");
        let state = AppState::new(runtime, Default::default());
        let store = state.store();
        let mut users = Vec::new();
        for (i, name) in CALLERS[..7].iter().enumerate() {
            let token = format!("token-{name}");
            let user = store
                .create_user(name, &token, i == 0, i == 1 || i == 2)
                .await
                .expect("user");
            users.push((user, token));
        }
        let [admin, dev, _, owner, group_admin, member, outsider] = &users[..] else {
            unreachable!("seven callers");
        };
        let group = store
            .create_group("team", &owner.0.id)
            .await
            .expect("group");
        store
            .add_member(&group.id, &group_admin.0.id, Role::Admin)
            .await
            .expect("admin");
        store
            .add_member(&group.id, &member.0.id, Role::Member)
            .await
            .expect("member");
        store
            .create_group("elsewhere", &outsider.0.id)
            .await
            .expect("other group");
        let newcomer = store
            .create_user("joiner", "token-joiner", false, false)
            .await
            .expect("newcomer");
        approved(
            &state,
            &dev.0.id,
            qun_components::PROBE,
            &admin.0.id,
            Some(&group.id),
        )
        .await;
        approved(&state, &dev.0.id, qun_components::NOOP, &admin.0.id, None).await;
        store
            .create_app("stateful", "Stateful", "", &dev.0.id)
            .await
            .expect("stateful");
        // The member's wallet holds 1000; probe asks them for 100 twice, and
        // the second request is paid.
        AdminCredit
            .credit(store, &member.0.id, 1_000, "CNY", "matrix")
            .await
            .expect("credit");
        let installation = store
            .installation_of(&group.id, "probe")
            .await
            .expect("installation")
            .expect("installed")
            .id;
        let mut payments = Vec::new();
        for key in ["pending", "settled"] {
            let outcome = state
                .runtime
                .invoke(Invocation {
                    installation_id: installation.clone(),
                    actor: Some(member.0.id.clone()),
                    call: Call::Action {
                        value: None,
                        message_id: None,
                        name: "pay".into(),
                        payload: json!({"payer": member.0.id, "amount": 100, "currency": "CNY",
                            "memo": key, "key": key})
                        .to_string(),
                    },
                    invocation_id: None,
                })
                .await
                .expect("pay");
            let Answer::Action { data: answer, .. } = outcome.answer else {
                panic!("pay answered {:?}", outcome.answer);
            };
            let payment: Value = serde_json::from_str(&answer).expect("payment json");
            payments.push(payment["id"].as_str().expect("payment id").to_string());
        }
        store
            .decide_payment(
                &payments[1],
                &member.0.id,
                Decision::Confirm,
                &Limits::default().payments,
                None,
            )
            .await
            .expect("settle");
        if prep == Prep::SuspendProbe {
            store
                .set_suspended("probe", Some("investigating"), &admin.0.id)
                .await
                .expect("suspend");
        }
        // Issue 13: a card of probe's with a button (running `echo`), and
        // probe's `/probe` command form opened for the member.
        let card = store
            .post_message(&NewMessage {
                group_id: group.id.clone(),
                installation_id: Some(installation.clone()),
                blocks: Some(qun_blocks::Message {
                    text: "card".into(),
                    blocks: vec![qun_blocks::Block::Actions {
                        elements: vec![qun_blocks::Element::Button(qun_blocks::Button {
                            label: "Echo".into(),
                            action: "echo".into(),
                            payload: "{}".into(),
                            style: qun_blocks::ButtonStyle::Default,
                            confirm: None,
                        })],
                    }],
                }),
                ..NewMessage::default()
            })
            .await
            .expect("card");
        let reference = store
            .elements_of(card.id)
            .await
            .expect("elements")
            .first()
            .expect("the button's reference")
            .reference
            .clone();
        let form = store
            .create_form(&NewForm {
                group_id: group.id.clone(),
                installation_id: installation.clone(),
                member_id: member.0.id.clone(),
                form: qun_blocks::Form {
                    title: "Probe".into(),
                    blocks: Vec::new(),
                    submit_label: "Go".into(),
                    callback: "probe".into(),
                    state: String::new(),
                },
                step: 1,
                origin: json!({"command": "probe"}),
                ttl_ms: 60_000,
            })
            .await
            .expect("form");
        let mut tokens: Vec<Option<String>> =
            users.iter().map(|(_, token)| Some(token.clone())).collect();
        tokens.push(None);
        let params = vec![
            ("gid", group.id.clone()),
            ("uid", member.0.id.clone()),
            ("slug", "probe".to_string()),
            ("version", PENDING.to_string()),
            ("action", "echo".to_string()),
            ("newcomer", newcomer.id.clone()),
            ("user_id", member.0.id.clone()),
            ("id", payments[0].clone()),
            ("mid", card.id.to_string()),
            ("ref", reference),
            ("fid", form.id.clone()),
        ];
        let settled = payments[1].clone();
        let router = qun_host::app(state.clone());
        // A file the member uploaded and attached to a group message.
        let member_token = tokens[5].clone().expect("the member's token");
        let send = |request: Request<Body>| {
            let router = router.clone();
            async move {
                let response = router.oneshot(request).await.expect("router answers");
                let status = response.status();
                let body = response
                    .into_body()
                    .collect()
                    .await
                    .expect("body")
                    .to_bytes();
                assert!(status.is_success(), "{status}: {body:?}");
                serde_json::from_slice::<Value>(&body).expect("json")
            }
        };
        let file = send(
            Request::post(format!("/v1/groups/{}/files?name=notes.txt", group.id))
                .header("authorization", format!("Bearer {member_token}"))
                .body(Body::from("the group's notes"))
                .expect("request"),
        )
        .await["id"]
            .as_str()
            .expect("file id")
            .to_string();
        send(
            Request::post(format!("/v1/groups/{}/messages", group.id))
                .header("authorization", format!("Bearer {member_token}"))
                .header("content-type", "application/json")
                .body(Body::from(json!({"files": [file]}).to_string()))
                .expect("request"),
        )
        .await;
        let mut params = params;
        params.push(("file", file));
        Fixture {
            _db: db,
            router,
            tokens,
            params,
            settled,
        }
    }

    /// The status `caller` gets for `row`.
    async fn status(&self, row: &Row, caller: usize) -> StatusCode {
        let mut params: Vec<(&str, &str)> = row
            .params
            .iter()
            .map(|&(n, v)| {
                (
                    n,
                    if v == "{settled}" {
                        self.settled.as_str()
                    } else {
                        v
                    },
                )
            })
            .collect();
        for (name, value) in &self.params {
            if !params.iter().any(|(n, _)| n == name) {
                params.push((name, value));
            }
        }
        let mut uri = fill(row.path, &params);
        if matches!(row.body, Send::Upload) {
            uri.push_str("?name=matrix.txt");
        }
        let mut request = Request::builder().method(row.method.clone()).uri(uri);
        if let Some(token) = &self.tokens[caller] {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let body = match &row.body {
            Send::Nothing => Body::empty(),
            Send::Json(value) => {
                request = request.header("content-type", "application/json");
                let text = value.to_string().replace(
                    "{newcomer}",
                    &self
                        .params
                        .iter()
                        .find(|(n, _)| *n == "newcomer")
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default(),
                );
                Body::from(text)
            }
            Send::Wasm => {
                request = request.header("content-type", "application/wasm");
                Body::from(std::fs::read(qun_components::STATEFUL).expect("stateful"))
            }
            Send::Upload => {
                request = request.header("content-type", "application/octet-stream");
                Body::from("some words")
            }
        };
        let response = self
            .router
            .clone()
            .oneshot(request.body(body).expect("request"))
            .await
            .expect("router answers");
        let status = response.status();
        let is_stream = response
            .headers()
            .get("content-type")
            .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
        if !is_stream {
            // Drain the body so the handler finished before the world is dropped.
            let _ = response.into_body().collect().await;
        }
        status
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_every_kind_of_caller_as_the_matrix_says() {
    let rows = matrix();

    // The matrix covers the router exactly.
    let doc = serde_json::to_value(qun_host::http::openapi()).expect("openapi");
    let routes: BTreeSet<(String, String)> = operations(&doc)
        .into_iter()
        .map(|(m, p)| (m.to_string(), p))
        .collect();
    let rows_set: BTreeSet<(String, String)> = rows
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_string()))
        .collect();
    let missing: Vec<_> = routes.difference(&rows_set).collect();
    assert!(
        missing.is_empty(),
        "routes without a row in the authorization matrix: {missing:?}"
    );
    let stale: Vec<_> = rows_set.difference(&routes).collect();
    assert!(
        stale.is_empty(),
        "matrix rows for routes that do not exist: {stale:?}"
    );
    assert_eq!(rows.len(), rows_set.len(), "a route has two rows");

    let mut failures = Vec::new();
    for row in &rows {
        for (caller, name) in CALLERS.iter().enumerate() {
            let fixture = Fixture::new(row.prep).await;
            let got = fixture.status(row, caller).await;
            let want = row.expect[caller];
            if got.as_u16() != want {
                failures.push(format!(
                    "{} {} as {name}: got {got}, the matrix says {want}",
                    row.method, row.path
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} outcomes differ from the matrix:\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
}
