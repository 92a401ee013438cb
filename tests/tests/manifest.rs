//! Typed, bounded manifests (issue 10 items 4, 5 and 9; issue 12 item 3),
//! through the HTTP API on both backends, with hostile components built
//! from source:
//! - a manifest over a limit is refused with 422 `manifest_limit`, naming the
//!   limit and the value, and leaves nothing behind: no version, no compiled
//!   code in the cache;
//! - a command belongs to one app per group: installing or upgrading to a
//!   version that declares a command another installed app answers is 409
//!   `command_conflict` naming both apps; members can list who owns what;
//! - plain messages still fan out to subscribed apps (and only to them), and a
//!   slash command still returns the app's reply;
//! - versions and installations stored before the typed tables existed are
//!   backfilled by the migration and keep routing.

mod server_common;

use std::path::{Path, PathBuf};

use axum::http::{Method, StatusCode};
use qun_host::http::{AppState, HttpConfig};
use qun_host::store::Role;
use qun_host::{Limits, Runtime, RuntimeConfig, Store};
use qun_tests::{Backend, TestDb, backend_tests, unique};
use serde_json::{Value, json};
use server_common::{call, code};

backend_tests!(
    oversized_manifests_are_refused_and_nothing_is_kept,
    a_command_belongs_to_one_app_per_group,
    messages_fan_out_to_subscribers_and_commands_reply,
    versions_stored_before_the_typed_tables_keep_routing,
);

/// The HTTP API over a fresh database and a compile cache of its own.
struct Site {
    db: TestDb,
    app: axum::Router,
    cache: PathBuf,
    admin: String,
    dev: String,
}

impl Drop for Site {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.cache);
    }
}

fn router_for(store: Store, cache: &Path) -> axum::Router {
    let runtime = Runtime::new(
        store,
        RuntimeConfig {
            limits: Limits::default(),
            cache_dir: Some(cache.to_path_buf()),
        },
    )
    .expect("runtime");
    qun_host::app(AppState::new(runtime, HttpConfig::default()))
}

impl Site {
    async fn new(backend: Backend) -> Option<Site> {
        let db = TestDb::new(backend).await?;
        let cache = std::env::temp_dir().join(unique("qun-manifest-cache"));
        let app = router_for(db.store.clone(), &cache);
        let admin = unique("admin-token");
        db.store
            .create_user(&unique("admin"), &admin, true, false)
            .await
            .expect("admin");
        let dev = unique("dev-token");
        db.store
            .create_user(&unique("dev"), &dev, false, true)
            .await
            .expect("developer");
        Some(Site {
            db,
            app,
            cache,
            admin,
            dev,
        })
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

    /// Register `slug` (if new) and upload the component at `file`.
    async fn upload(&self, slug: &str, file: &str) -> (StatusCode, Value) {
        let (status, body) = self
            .post("/v1/apps", &self.dev, json!({"slug": slug, "name": slug}))
            .await;
        assert!(
            status == StatusCode::CREATED || code(&body) == "slug_taken",
            "{status} {body}"
        );
        call(
            &self.app,
            Method::POST,
            &format!("/v1/apps/{slug}/versions"),
            Some(&self.dev),
            Some(("application/wasm", std::fs::read(file).expect("component"))),
        )
        .await
    }

    /// Upload and approve.
    async fn publish(&self, slug: &str, file: &str) {
        let (status, version) = self.upload(slug, file).await;
        assert_eq!(status, StatusCode::CREATED, "{version}");
        let v = version["version"].as_str().expect("version");
        let (status, body) = self
            .post(
                &format!("/v1/admin/apps/{slug}/versions/{v}/approve"),
                &self.admin,
                json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    /// A group: (id, owner token, member token).
    async fn group(&self) -> (String, String, String) {
        let store = &self.db.store;
        let owner_token = unique("owner-token");
        let owner = store
            .create_user(&unique("owner"), &owner_token, false, false)
            .await
            .expect("owner");
        let member_token = unique("member-token");
        let member = store
            .create_user(&unique("member"), &member_token, false, false)
            .await
            .expect("member");
        let group = store
            .create_group(&unique("group"), &owner.id)
            .await
            .expect("group");
        store
            .add_member(&group.id, &member.id, Role::Member)
            .await
            .expect("add member");
        (group.id, owner_token, member_token)
    }

    async fn install(&self, gid: &str, owner: &str, body: Value) -> (StatusCode, Value) {
        self.post(&format!("/v1/groups/{gid}/apps"), owner, body)
            .await
    }

    /// Compiled files in this site's cache.
    fn cached_files(&self) -> Vec<String> {
        match std::fs::read_dir(&self.cache) {
            Ok(dir) => dir
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect(),
            Err(_) => Vec::new(),
        }
    }
}

fn message_of(body: &Value) -> String {
    body["error"]["message"].as_str().unwrap_or("").to_string()
}

async fn oversized_manifests_are_refused_and_nothing_is_kept(backend: Backend) {
    let Some(site) = Site::new(backend).await else {
        return;
    };
    let cases = [
        (
            "hostile-manifest",
            qun_components::HOSTILE_MANIFEST,
            ["20000 commands", "limit is 32 commands"],
        ),
        (
            "hostile-subscriptions",
            qun_components::HOSTILE_SUBSCRIPTIONS,
            ["100000 subscriptions", "limit is 16 subscriptions"],
        ),
        (
            "hostile-text",
            qun_components::HOSTILE_TEXT,
            ["the title", "control character U+001B"],
        ),
    ];
    for (slug, file, words) in cases {
        let (status, body) = site.upload(slug, file).await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::UNPROCESSABLE_ENTITY, "manifest_limit"),
            "{slug}: {body}"
        );
        let message = message_of(&body);
        for word in words {
            assert!(message.contains(word), "{slug}: {message}");
        }
        // Nothing stored: the app has no version, nothing waits for review.
        let (status, app) = site.get(&format!("/v1/apps/{slug}"), &site.dev).await;
        assert_eq!(status, StatusCode::OK, "{app}");
        assert_eq!(app["versions"], json!([]), "{slug}: {app}");
        assert!(
            site.db
                .store
                .version(slug, "1.0.0")
                .await
                .expect("version")
                .is_none()
        );
    }
    let (_, queue) = site.get("/v1/admin/reviews", &site.admin).await;
    assert_eq!(queue, json!([]), "{queue}");
    // ... and no compiled code was kept for them.
    assert_eq!(site.cached_files(), Vec::<String>::new());

    // A valid component uploaded under the wrong app is refused too, and
    // leaves nothing in the cache either.
    let (status, body) = site
        .upload("hostile-text", qun_components::MANIFEST_RIVAL_V1)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(site.cached_files(), Vec::<String>::new());

    // An accepted upload is cached, once.
    let (status, body) = site
        .upload("manifest-rival", qun_components::MANIFEST_RIVAL_V1)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["commands"], json!(["rival"]), "{body}");
    // The compiled code and its checksum, no temporary file left.
    let mut files = site.cached_files();
    files.sort();
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(files[0].ends_with(".cwasm"), "{files:?}");
    assert!(files[1].ends_with(".cwasm.sum"), "{files:?}");
}

async fn a_command_belongs_to_one_app_per_group(backend: Backend) {
    let Some(site) = Site::new(backend).await else {
        return;
    };
    site.publish("probe", qun_components::PROBE).await;
    site.publish("manifest-rival", qun_components::MANIFEST_RIVAL_V1)
        .await;
    site.publish("manifest-rival", qun_components::MANIFEST_RIVAL_V2)
        .await;

    let (gid, owner, member) = site.group().await;
    let (status, body) = site.install(&gid, &owner, json!({"app": "probe"})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // Installing a version that wants /probe: refused, naming both apps.
    let (status, body) = site
        .install(
            &gid,
            &owner,
            json!({"app": "manifest-rival", "version": "2.0.0"}),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::CONFLICT, "command_conflict"),
        "{body}"
    );
    let message = message_of(&body);
    assert!(
        message.contains("manifest-rival") && message.contains("/probe is answered by probe"),
        "{message}"
    );
    let (_, installed) = site.get(&format!("/v1/groups/{gid}/apps"), &owner).await;
    assert_eq!(
        installed.as_array().map(Vec::len),
        Some(1),
        "nothing was installed: {installed}"
    );

    // Version one does not clash; upgrading it to two does.
    let (status, body) = site
        .install(
            &gid,
            &owner,
            json!({"app": "manifest-rival", "version": "1.0.0"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = site
        .call(
            Method::PATCH,
            &format!("/v1/groups/{gid}/apps/manifest-rival"),
            &owner,
            Some(json!({"version": "2.0.0"})),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::CONFLICT, "command_conflict"),
        "{body}"
    );
    let message = message_of(&body);
    assert!(
        message.contains("manifest-rival 2.0.0") && message.contains("probe"),
        "{message}"
    );
    let (_, installed) = site.get(&format!("/v1/groups/{gid}/apps"), &owner).await;
    let rival = installed
        .as_array()
        .and_then(|list| list.iter().find(|i| i["app"] == json!("manifest-rival")))
        .cloned()
        .unwrap_or_default();
    assert_eq!(rival["version"], json!("1.0.0"), "still 1.0.0: {installed}");

    // Who owns what, for any member; nobody else.
    let (status, commands) = site
        .get(&format!("/v1/groups/{gid}/commands"), &member)
        .await;
    assert_eq!(status, StatusCode::OK, "{commands}");
    let owners: Vec<(String, String)> = commands
        .as_array()
        .expect("list")
        .iter()
        .map(|c| {
            (
                c["command"].as_str().unwrap_or("").to_string(),
                c["app"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        owners,
        vec![
            ("probe".to_string(), "probe".to_string()),
            ("rival".to_string(), "manifest-rival".to_string())
        ]
    );
    let (_, _, stranger) = site.group().await;
    let (status, body) = site
        .get(&format!("/v1/groups/{gid}/commands"), &stranger)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

    // The other way round: in a group where rival 2.0.0 holds /probe, the
    // probe app cannot be installed.
    let (other, other_owner, _) = site.group().await;
    let (status, body) = site
        .install(
            &other,
            &other_owner,
            json!({"app": "manifest-rival", "version": "2.0.0"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = site
        .install(&other, &other_owner, json!({"app": "probe"}))
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::CONFLICT, "command_conflict"),
        "{body}"
    );
    assert!(
        message_of(&body).contains("/probe is answered by manifest-rival"),
        "{body}"
    );

    // Two owners' installs racing for /probe in a fresh group: exactly one
    // wins, the other is told why (never a 500, never both).
    let (race, race_owner, _) = site.group().await;
    let (a, b) = tokio::join!(
        site.install(&race, &race_owner, json!({"app": "probe"})),
        site.install(
            &race,
            &race_owner,
            json!({"app": "manifest-rival", "version": "2.0.0"})
        ),
    );
    let mut outcomes = vec![(a.0, code(&a.1).to_string()), (b.0, code(&b.1).to_string())];
    outcomes.sort();
    assert_eq!(
        outcomes,
        vec![
            (StatusCode::CREATED, String::new()),
            (StatusCode::CONFLICT, "command_conflict".to_string())
        ],
        "{} / {}",
        a.1,
        b.1
    );

    // Once probe is uninstalled from the first group, the upgrade goes
    // through and /probe answers from the new owner.
    let (status, body) = site
        .call(
            Method::DELETE,
            &format!("/v1/groups/{gid}/apps/probe"),
            &owner,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, body) = site
        .call(
            Method::PATCH,
            &format!("/v1/groups/{gid}/apps/manifest-rival"),
            &owner,
            Some(json!({"version": "2.0.0"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, commands) = site
        .get(&format!("/v1/groups/{gid}/commands"), &member)
        .await;
    let apps: Vec<&str> = commands
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|c| c["app"].as_str())
        .collect();
    assert_eq!(apps, vec!["manifest-rival", "manifest-rival"], "{commands}");
    let (status, posted) = site
        .post(
            &format!("/v1/groups/{gid}/messages"),
            &member,
            json!({"text": "/probe hi"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{posted}");
    assert_eq!(
        posted["messages"][1]["text"],
        json!("manifest-rival 2.0.0 /probe: hi"),
        "{posted}"
    );
}

/// `message-posted` events queued for an installation.
async fn message_events(store: &Store, installation: &str) -> Vec<String> {
    store
        .events_of_installation(installation)
        .await
        .expect("events")
        .into_iter()
        .filter_map(|e| match e.body {
            qun_host::store::EventBody::MessagePosted { text, .. } => Some(text),
            _ => None,
        })
        .collect()
}

async fn messages_fan_out_to_subscribers_and_commands_reply(backend: Backend) {
    let Some(site) = Site::new(backend).await else {
        return;
    };
    site.publish("probe", qun_components::PROBE).await;
    site.publish("manifest-rival", qun_components::MANIFEST_RIVAL_V1)
        .await;
    site.publish("noop", qun_components::NOOP).await;
    let (gid, owner, member) = site.group().await;
    let mut ids = Vec::new();
    for app in ["probe", "manifest-rival", "noop"] {
        let (status, body) = site.install(&gid, &owner, json!({"app": app})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        ids.push(body["id"].as_str().expect("id").to_string());
    }
    let (probe, rival, noop) = (&ids[0], &ids[1], &ids[2]);

    let (status, posted) = site
        .post(
            &format!("/v1/groups/{gid}/messages"),
            &member,
            json!({"text": "hello all"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{posted}");
    assert_eq!(posted["messages"].as_array().map(Vec::len), Some(1));
    let store = &site.db.store;
    assert_eq!(message_events(store, probe).await, vec!["hello all"]);
    assert_eq!(message_events(store, rival).await, vec!["hello all"]);
    assert_eq!(
        message_events(store, noop).await,
        Vec::<String>::new(),
        "noop subscribes to nothing"
    );

    // A slash command answers with the member's message and the app's reply,
    // exactly those two.
    let (status, posted) = site
        .post(
            &format!("/v1/groups/{gid}/messages"),
            &member,
            json!({"text": "/rival tea?"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{posted}");
    let texts: Vec<&str> = posted["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|m| m["text"].as_str())
        .collect();
    assert_eq!(
        texts,
        vec!["/rival tea?", "manifest-rival 1.0.0 /rival: tea?"]
    );
    assert_eq!(
        posted["messages"][1]["installation_id"],
        json!(rival),
        "{posted}"
    );
    // The reply reached the other subscriber, never its poster.
    assert_eq!(
        message_events(store, probe).await,
        vec![
            "hello all",
            "/rival tea?",
            "manifest-rival 1.0.0 /rival: tea?"
        ]
    );
    assert_eq!(
        message_events(store, rival).await,
        vec!["hello all", "/rival tea?"]
    );

    // Unknown commands are refused before anything is stored, with a hint.
    let (status, body) = site
        .post(
            &format!("/v1/groups/{gid}/messages"),
            &member,
            json!({"text": "/nope"}),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::NOT_FOUND, "unknown_command")
    );
    assert!(
        message_of(&body).contains("/probe, /rival"),
        "{}",
        message_of(&body)
    );
    // A disabled app's command answers nothing.
    let (status, body) = site
        .call(
            Method::PATCH,
            &format!("/v1/groups/{gid}/apps/manifest-rival"),
            &owner,
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = site
        .post(
            &format!("/v1/groups/{gid}/messages"),
            &member,
            json!({"text": "/rival again"}),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::NOT_FOUND, "unknown_command"),
        "{body}"
    );
}

async fn versions_stored_before_the_typed_tables_keep_routing(backend: Backend) {
    let Some(site) = Site::new(backend).await else {
        return;
    };
    site.publish("probe", qun_components::PROBE).await;
    site.publish("noop", qun_components::NOOP).await;
    let (gid, owner, member) = site.group().await;
    let mut ids = Vec::new();
    for app in ["probe", "noop"] {
        let (status, body) = site.install(&gid, &owner, json!({"app": app})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        ids.push(body["id"].as_str().expect("id").to_string());
    }

    // Take the database back to before migration 0006: the versions and
    // installations exist, the typed tables do not.
    {
        let pool = sqlx::AnyPool::connect(&site.db.url).await.expect("connect");
        for statement in [
            "DROP TABLE installation_commands",
            "DROP TABLE version_subscriptions",
            "DROP TABLE version_commands",
            "DELETE FROM _sqlx_migrations WHERE version = 6",
        ] {
            sqlx::query(statement)
                .execute(&pool)
                .await
                .expect(statement);
        }
        pool.close().await;
    }
    // Opening it again runs 0006, which backfills from the stored manifests.
    let store = Store::connect(&site.db.url).await.expect("migrate again");
    // (0009 added typed command options to the table 0006 made; a database
    // from before 0006 would get them from 0009 too.)
    {
        let pool = sqlx::AnyPool::connect(&site.db.url).await.expect("connect");
        sqlx::query("ALTER TABLE version_commands ADD COLUMN options TEXT")
            .execute(&pool)
            .await
            .expect("0009's column");
        pool.close().await;
    }
    let app = router_for(store.clone(), &site.cache);

    let (status, commands) = call(
        &app,
        Method::GET,
        &format!("/v1/groups/{gid}/commands"),
        Some(&member),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{commands}");
    assert_eq!(commands.as_array().map(Vec::len), Some(1), "{commands}");
    assert_eq!(commands[0]["command"], json!("probe"));
    assert_eq!(commands[0]["app"], json!("probe"));

    let (status, posted) = call(
        &app,
        Method::POST,
        &format!("/v1/groups/{gid}/messages"),
        Some(&member),
        Some((
            "application/json",
            json!({"text": "/probe after"}).to_string().into_bytes(),
        )),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{posted}");
    assert_eq!(
        posted["messages"][1]["text"],
        json!("probe: after"),
        "{posted}"
    );
    // Subscriptions were backfilled too: probe hears the message, noop not.
    assert_eq!(message_events(&store, &ids[0]).await, vec!["/probe after"]);
    assert_eq!(message_events(&store, &ids[1]).await, Vec::<String>::new());
    store.close().await;
}

/// Four hosts' worth of requests asking for one uncompiled component at
/// once get one compiled app (the others waited for it, none compiled it
/// again), and the cache holds one file. The database plays no part here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_component_is_compiled_once_however_many_ask_at_once() {
    let Some(db) = TestDb::new(Backend::Sqlite).await else {
        return;
    };
    let cache = std::env::temp_dir().join(unique("qun-single-flight"));
    let runtime = Runtime::new(
        db.store.clone(),
        RuntimeConfig {
            limits: Limits {
                compile_concurrency: 1,
                ..Limits::default()
            },
            cache_dir: Some(cache.clone()),
        },
    )
    .expect("runtime");
    let probe = std::sync::Arc::new(std::fs::read(qun_components::PROBE).expect("probe"));
    let noop = std::sync::Arc::new(std::fs::read(qun_components::NOOP).expect("noop"));
    let mut tasks = Vec::new();
    for i in 0..6 {
        let runtime = runtime.clone();
        let bytes = if i % 3 == 2 {
            noop.clone()
        } else {
            probe.clone()
        };
        tasks.push(tokio::spawn(async move { runtime.load(&bytes).await }));
    }
    let mut loaded = Vec::new();
    for task in tasks {
        loaded.push(task.await.expect("task").expect("load"));
    }
    let probes: Vec<_> = loaded
        .iter()
        .filter(|a| a.manifest.name == "probe")
        .collect();
    assert_eq!(probes.len(), 4);
    assert!(
        probes.iter().all(|a| std::sync::Arc::ptr_eq(a, probes[0])),
        "every caller got the one compiled probe"
    );
    let files = std::fs::read_dir(&cache)
        .expect("cache dir")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".cwasm"))
        .count();
    assert_eq!(files, 2, "one compiled file per component");
    let _ = std::fs::remove_dir_all(&cache);
}
