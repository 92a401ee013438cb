//! Shared fixtures for Qun's end-to-end tests: a database of either kind, a
//! runtime over it, users, groups and installed apps.
//!
//! Every test runs on SQLite and, when a PostgreSQL server is reachable, on
//! PostgreSQL ([`backend_tests!`]). `QUN_TEST_POSTGRES_URL` names the server
//! (default `postgres://postgres@127.0.0.1:5432/postgres`); with
//! `QUN_REQUIRE_POSTGRES=1` (as in CI) an unreachable server fails the test
//! instead of skipping it.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use qun_host::store::{Role, User};
use qun_host::{
    Answer, Call, Invocation, InvokeError, Limits, Outcome, Runtime, RuntimeConfig, Store,
};
use sqlx::Connection;

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A fresh SQLite file.
    Sqlite,
    /// A fresh PostgreSQL database.
    Postgres,
}

/// A fresh, empty, migrated database that is removed when dropped.
pub struct TestDb {
    /// The store over it.
    pub store: Store,
    /// Its URL (for a second process or a second store).
    pub url: String,
    dir: Option<tempdir::TempDir>,
    pg_name: Option<String>,
}

mod tempdir {
    /// A directory removed on drop.
    pub struct TempDir(pub std::path::PathBuf);
    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn postgres_admin_url() -> String {
    std::env::var("QUN_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn require_postgres() -> bool {
    std::env::var("QUN_REQUIRE_POSTGRES").is_ok_and(|v| v == "1")
}

impl TestDb {
    /// A new database of `backend`, or `None` when PostgreSQL is not
    /// reachable and not required (the test then reports itself skipped).
    pub async fn new(backend: Backend) -> Option<TestDb> {
        match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir()
                    .join(format!("qun-test-{}", uuid::Uuid::new_v4().simple()));
                std::fs::create_dir_all(&dir).expect("create temp dir");
                let path = dir.join("qun.db");
                let url = format!("sqlite://{}?mode=rwc", path.display());
                let store = Store::connect(&url).await.expect("open sqlite");
                Some(TestDb {
                    store,
                    url,
                    dir: Some(tempdir::TempDir(dir)),
                    pg_name: None,
                })
            }
            Backend::Postgres => {
                let admin = postgres_admin_url();
                let conn = tokio::time::timeout(
                    Duration::from_secs(5),
                    sqlx::PgConnection::connect(&admin),
                )
                .await;
                let mut conn = match conn {
                    Ok(Ok(conn)) => conn,
                    other => {
                        let why = match other {
                            Ok(Err(e)) => e.to_string(),
                            _ => "timed out".into(),
                        };
                        if require_postgres() {
                            panic!(
                                "PostgreSQL is required (QUN_REQUIRE_POSTGRES=1) but {admin} is not reachable: {why}"
                            );
                        }
                        eprintln!("SKIPPED on PostgreSQL: {admin} is not reachable ({why})");
                        return None;
                    }
                };
                let name = format!("qun_test_{}", uuid::Uuid::new_v4().simple());
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut conn)
                    .await
                    .expect("create database");
                conn.close().await.ok();
                let url = match admin.rsplit_once('/') {
                    Some((base, _)) => format!("{base}/{name}"),
                    None => panic!("QUN_TEST_POSTGRES_URL must end in /DATABASE"),
                };
                let store = Store::connect(&url)
                    .await
                    .expect("connect to the test database");
                Some(TestDb {
                    store,
                    url,
                    dir: None,
                    pg_name: Some(name),
                })
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let _ = self.dir.take();
        if let Some(name) = self.pg_name.take() {
            // Async drop is not a thing: drop the database from a helper thread.
            let admin = postgres_admin_url();
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .ok()?;
                rt.block_on(async move {
                    let mut conn = sqlx::PgConnection::connect(&admin).await.ok()?;
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&mut conn)
                    .await
                    .ok()
                })
            })
            .join();
        }
    }
}

/// Run one test body on both backends: `backend_tests!(fn_a, fn_b)` makes
/// `sqlite::fn_a`, `postgres::fn_a`, ... each calling `fn_a(Backend)`.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::Backend::Postgres).await
                }
            )*
        }
    };
}

/// Where tests cache compiled components, shared by every test process.
pub fn cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/qun-test-cache")
}

/// A runtime over a fresh database, with users and helpers to set up groups.
pub struct World {
    /// The runtime.
    pub runtime: Runtime,
    /// The database (kept alive for the test).
    pub db: TestDb,
    /// A developer who owns the uploaded apps.
    pub developer: User,
}

impl World {
    /// A hook that stops every invocation before its commit until released:
    /// the receiver gets the installation id and a sender; sending on it
    /// lets that invocation commit. `runtime.set_before_commit(None)`
    /// removes the hook.
    pub fn pause_before_commit(
        &self,
    ) -> tokio::sync::mpsc::UnboundedReceiver<(String, tokio::sync::oneshot::Sender<()>)> {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let hook: qun_host::runtime::BeforeCommit = Arc::new(move |inst: String| {
            let tx = tx.clone();
            Box::pin(async move {
                let (go, wait) = tokio::sync::oneshot::channel();
                let _ = tx.send((inst, go));
                let _ = wait.await;
            })
        });
        self.runtime.set_before_commit(Some(hook));
        rx
    }

    /// Once an invocation paused by [`World::pause_before_commit`] is
    /// waiting: its installation as stored now, and the sender that lets it
    /// commit. The hook is removed, so later invocations run straight through.
    pub async fn paused(
        &self,
        reached: &mut tokio::sync::mpsc::UnboundedReceiver<(
            String,
            tokio::sync::oneshot::Sender<()>,
        )>,
    ) -> (
        qun_host::store::Installation,
        tokio::sync::oneshot::Sender<()>,
    ) {
        let (inst_id, go) = reached.recv().await.expect("paused before commit");
        self.runtime.set_before_commit(None);
        let inst = self
            .store()
            .installation(&inst_id)
            .await
            .expect("read")
            .expect("installation");
        (inst, go)
    }

    /// A world on `backend` with default limits, or `None` if skipped.
    pub async fn new(backend: Backend) -> Option<World> {
        World::with_limits(backend, Limits::default()).await
    }

    /// A world with custom limits.
    pub async fn with_limits(backend: Backend, limits: Limits) -> Option<World> {
        let db = TestDb::new(backend).await?;
        let runtime = Runtime::new(
            db.store.clone(),
            RuntimeConfig {
                limits,
                cache_dir: Some(cache_dir()),
            },
        )
        .expect("runtime");
        let developer = db
            .store
            .create_user(&unique("dev"), &unique("token"), false, true)
            .await
            .expect("developer");
        Some(World {
            runtime,
            db,
            developer,
        })
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.db.store
    }

    /// A new user.
    pub async fn user(&self, name: &str) -> User {
        self.store()
            .create_user(&unique(name), &unique("token"), false, false)
            .await
            .expect("user")
    }

    /// A group owned by a new user, with `members` more members. Returns
    /// (group id, owner, members).
    pub async fn group(&self, members: usize) -> (String, User, Vec<User>) {
        let owner = self.user("owner").await;
        let group = self
            .store()
            .create_group(&unique("group"), &owner.id)
            .await
            .expect("group");
        let mut list = Vec::new();
        for i in 0..members {
            let user = self.user(&format!("member{i}")).await;
            self.store()
                .add_member(&group.id, &user.id, Role::Member)
                .await
                .expect("member");
            list.push(user);
        }
        (group.id, owner, list)
    }

    /// Upload the component at `path` (once per world) and install it in
    /// `group_id` granting `grants`. Returns the installation id.
    pub async fn install(&self, path: &str, group_id: &str, grants: &[&str]) -> String {
        let bytes = std::fs::read(path).expect("component file");
        let app = self.runtime.load(&bytes).await.expect("load component");
        let slug = app.manifest.name.clone();
        if self.store().app(&slug).await.expect("app").is_none() {
            self.store()
                .create_app(
                    &slug,
                    &app.manifest.title,
                    &app.manifest.description,
                    &self.developer.id,
                )
                .await
                .expect("create app");
        }
        if self
            .store()
            .version(&slug, &app.manifest.version)
            .await
            .expect("version")
            .is_none()
        {
            let version = qun_host::store::AppVersion {
                app_slug: slug.clone(),
                version: app.manifest.version.clone(),
                sha256: app.sha256.clone(),
                capabilities: app
                    .capabilities
                    .iter()
                    .map(|c| c.name().to_string())
                    .collect(),
                manifest: serde_json::to_value(&app.manifest).expect("manifest json"),
                status: qun_host::store::VersionStatus::Approved,
                created_at: 0,
                review_reason: None,
                reviewed_by: None,
                reviewed_at: None,
            };
            self.store()
                .add_version(&version, &bytes)
                .await
                .expect("add version");
        }
        let grants: Vec<String> = grants.iter().map(|g| g.to_string()).collect();
        let inst = self
            .store()
            .install(
                group_id,
                &slug,
                &app.manifest.version,
                &grants,
                &self.developer.id,
            )
            .await
            .expect("install");
        inst.id
    }

    /// Run an action as `actor`; the JSON answer or the error.
    pub async fn action(
        &self,
        installation: &str,
        actor: &str,
        name: &str,
        payload: serde_json::Value,
    ) -> Result<serde_json::Value, InvokeError> {
        let outcome = self
            .runtime
            .invoke(Invocation {
                installation_id: installation.to_string(),
                actor: Some(actor.to_string()),
                call: Call::Action {
                    value: None,
                    message_id: None,
                    name: name.to_string(),
                    payload: payload.to_string(),
                },
                invocation_id: None,
            })
            .await?;
        match outcome.answer {
            Answer::Action { data, .. } => Ok(serde_json::from_str(&data).expect("answer is JSON")),
            other => panic!("unexpected answer {other:?}"),
        }
    }

    /// Run a command as `actor`.
    pub async fn command(
        &self,
        installation: &str,
        actor: &str,
        name: &str,
        args: &str,
    ) -> Result<Outcome, InvokeError> {
        self.runtime
            .invoke(Invocation {
                installation_id: installation.to_string(),
                actor: Some(actor.to_string()),
                call: Call::Command {
                    options: Vec::new(),
                    name: name.to_string(),
                    args: args.to_string(),
                },
                invocation_id: None,
            })
            .await
    }

    /// Every message of a group's timeline, oldest first: what every
    /// member sees (no private replies, no deleted messages).
    pub async fn messages(&self, group_id: &str) -> Vec<qun_host::store::StoredMessage> {
        self.store()
            .messages(group_id, 0, 1000)
            .await
            .expect("messages")
            .into_iter()
            .filter(|m| m.visible_to.is_none() && m.deleted_at.is_none())
            .collect()
    }
}

/// A name no other test uses.
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..10]
    )
}

/// The error variant an app returned, as (code, message).
pub fn app_error(e: &InvokeError) -> Option<(&'static str, String)> {
    match e {
        InvokeError::App(err) => Some((
            qun_host::capabilities::error_code(err),
            qun_host::capabilities::error_message(err),
        )),
        _ => None,
    }
}

/// Shared handle for spawning concurrent work.
pub type Shared<T> = Arc<T>;

/// The polls plugin's component, built from `plugins/polls`.
pub fn polls() -> &'static str {
    qun_components::POLLS.expect("the polls plugin was not built: plugins/Cargo.toml is missing")
}
