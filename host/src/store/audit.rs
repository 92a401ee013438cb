//! The audit trail: one row per capability call an app made and per human
//! decision (review, suspension, install, grant change, ...).
//!
//! The trail is tamper-evident: every row carries
//! `hash = sha256(previous row's hash ‖ the row's fields)`, so changing,
//! inserting or deleting a row anywhere but at the very end breaks the chain
//! from there on ([`Store::verify_audit`], `qun audit verify`). Rows are only
//! ever appended; no API changes or deletes them.

use sha2::{Digest, Sha256};
use sqlx::Row;

use super::{Store, StoreError, WriteTx};

/// One audited action.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditRecord {
    /// When (ms).
    pub at: i64,
    /// The installation that acted (or that a decision was about).
    pub installation_id: Option<String>,
    /// Its app.
    pub app_slug: Option<String>,
    /// Its app version.
    pub app_version: Option<String>,
    /// The group.
    pub group_id: Option<String>,
    /// The member an invocation ran for, or the user who decided.
    pub actor: Option<String>,
    /// `interface.function` (e.g. `storage.set`) for capability calls; a
    /// decision's name (e.g. `review.approve`) for people.
    pub action: String,
    /// `ok`, `denied` or `error`.
    pub outcome: String,
    /// A short explanation for denied/error outcomes, or a decision's reason.
    pub detail: Option<String>,
    /// How long the call took, in microseconds (0 for decisions).
    pub duration_us: i64,
}

impl AuditRecord {
    /// A decision `action` taken by `actor` (a user id, or `health` for the host).
    pub fn decision(action: &str, actor: &str) -> AuditRecord {
        AuditRecord {
            at: super::now_ms(),
            installation_id: None,
            app_slug: None,
            app_version: None,
            group_id: None,
            actor: Some(actor.to_string()),
            action: action.to_string(),
            outcome: "ok".to_string(),
            detail: None,
            duration_us: 0,
        }
    }

    /// The same record about `app` (and `version`).
    pub fn app(mut self, app: &str, version: Option<&str>) -> AuditRecord {
        self.app_slug = Some(app.to_string());
        self.app_version = version.map(str::to_string);
        self
    }

    /// The same record about an installation in a group.
    pub fn installation(mut self, installation_id: &str, group_id: &str) -> AuditRecord {
        self.installation_id = Some(installation_id.to_string());
        self.group_id = Some(group_id.to_string());
        self
    }

    /// The same record with a detail.
    pub fn detail(mut self, detail: impl Into<String>) -> AuditRecord {
        self.detail = Some(detail.into());
        self
    }

    /// This row's link in the chain after `previous` (hex; empty for the first row).
    pub fn chain_hash(&self, previous: &str) -> String {
        // A JSON array is an unambiguous encoding of the fields (strings are
        // quoted and escaped, absent values are `null`).
        let fields = serde_json::json!([
            self.at,
            self.installation_id,
            self.app_slug,
            self.app_version,
            self.group_id,
            self.actor,
            self.action,
            self.outcome,
            self.detail,
            self.duration_us,
        ]);
        let mut hasher = Sha256::new();
        hasher.update(previous.as_bytes());
        hasher.update(b"\n");
        hasher.update(fields.to_string().as_bytes());
        hex::encode(hasher.finalize())
    }
}

/// A stored audit row.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditRow {
    /// Position in the trail.
    pub id: i64,
    /// The record.
    #[serde(flatten)]
    pub record: AuditRecord,
    /// Its link in the chain (absent on rows written before the chain existed).
    pub hash: Option<String>,
}

/// Which audit rows to read, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Only this app's rows.
    pub app: Option<String>,
    /// Only this group's rows.
    pub group: Option<String>,
    /// Only rows at or after this time (ms).
    pub since: Option<i64>,
    /// Only this outcome (`ok`, `denied`, `error`).
    pub outcome: Option<String>,
    /// Only rows older than this id (the cursor of the previous page).
    pub before: Option<i64>,
    /// At most this many rows.
    pub limit: u32,
}

/// Where the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BrokenLink {
    /// The first row whose hash does not follow from its fields and the
    /// previous row's hash.
    pub id: i64,
    /// The hash the row should carry.
    pub expected: String,
    /// The hash it carries.
    pub found: Option<String>,
}

/// The result of walking the whole chain.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditVerification {
    /// Rows checked.
    pub rows: u64,
    /// Rows from before the chain existed (no hash, all before the first hashed row).
    pub unchained: u64,
    /// The first broken link, if any.
    pub broken: Option<BrokenLink>,
}

const COLUMNS: &str = "id, at, installation_id, app_slug, app_version, group_id, actor, action, outcome, detail, duration_us, hash";

fn row_from(row: &sqlx::any::AnyRow) -> Result<AuditRow, StoreError> {
    Ok(AuditRow {
        id: row.try_get("id")?,
        hash: row.try_get("hash")?,
        record: AuditRecord {
            at: row.try_get("at")?,
            installation_id: row.try_get("installation_id")?,
            app_slug: row.try_get("app_slug")?,
            app_version: row.try_get("app_version")?,
            group_id: row.try_get("group_id")?,
            actor: row.try_get("actor")?,
            action: row.try_get("action")?,
            outcome: row.try_get("outcome")?,
            detail: row.try_get("detail")?,
            duration_us: row.try_get("duration_us")?,
        },
    })
}

impl WriteTx {
    /// Append audit rows to the chain. Call it last in a transaction: on
    /// PostgreSQL it takes the trail's lock, held until commit.
    pub async fn insert_audit(&mut self, records: &[AuditRecord]) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        self.lock("audit-chain").await?;
        let last: Option<Option<String>> =
            sqlx::query_scalar("SELECT hash FROM audit ORDER BY id DESC LIMIT 1")
                .fetch_optional(&mut *self.tx)
                .await?;
        let mut previous = last.flatten().unwrap_or_default();
        for r in records {
            let hash = r.chain_hash(&previous);
            sqlx::query(
                "INSERT INTO audit (at, installation_id, app_slug, app_version, group_id, actor, action, outcome, detail, duration_us, hash) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(r.at)
            .bind(&r.installation_id)
            .bind(&r.app_slug)
            .bind(&r.app_version)
            .bind(&r.group_id)
            .bind(&r.actor)
            .bind(&r.action)
            .bind(&r.outcome)
            .bind(&r.detail)
            .bind(r.duration_us)
            .bind(&hash)
            .execute(&mut *self.tx)
            .await?;
            previous = hash;
        }
        Ok(())
    }
}

impl Store {
    /// Append audit rows in their own transaction.
    pub async fn append_audit(&self, records: &[AuditRecord]) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        tx.insert_audit(records).await?;
        tx.commit().await
    }

    /// Audit rows of an installation, oldest first.
    pub async fn audit_of(&self, installation_id: &str) -> Result<Vec<AuditRecord>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM audit WHERE installation_id = $1 ORDER BY id"
        )))
        .bind(installation_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| row_from(row).map(|r| r.record))
            .collect()
    }

    /// Audit rows matching `query`, newest first.
    pub async fn audit(&self, query: &AuditQuery) -> Result<Vec<AuditRow>, StoreError> {
        let mut clauses: Vec<String> = Vec::new();
        let mut binds: Vec<Bind> = Vec::new();
        let mut filter = |column: &str, op: &str, bind: Bind| {
            binds.push(bind);
            clauses.push(format!("{column} {op} ${}", binds.len()));
        };
        if let Some(app) = &query.app {
            filter("app_slug", "=", Bind::Text(app.clone()));
        }
        if let Some(group) = &query.group {
            filter("group_id", "=", Bind::Text(group.clone()));
        }
        if let Some(since) = query.since {
            filter("at", ">=", Bind::Int(since));
        }
        if let Some(outcome) = &query.outcome {
            filter("outcome", "=", Bind::Text(outcome.clone()));
        }
        if let Some(before) = query.before {
            filter("id", "<", Bind::Int(before));
        }
        let filter = if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        };
        binds.push(Bind::Int(i64::from(query.limit)));
        let sql = format!(
            "SELECT {COLUMNS} FROM audit {filter} ORDER BY id DESC LIMIT ${}",
            binds.len()
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for bind in binds {
            q = match bind {
                Bind::Text(s) => q.bind(s),
                Bind::Int(i) => q.bind(i),
            };
        }
        let rows = q.fetch_all(self.pool()).await?;
        rows.iter().map(row_from).collect()
    }

    /// Walk the whole trail in order and report the first broken link.
    pub async fn verify_audit(&self) -> Result<AuditVerification, StoreError> {
        const PAGE: i64 = 1000;
        let mut result = AuditVerification {
            rows: 0,
            unchained: 0,
            broken: None,
        };
        let mut previous = String::new();
        let mut chained = false;
        let mut after = i64::MIN;
        loop {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM audit WHERE id > $1 ORDER BY id LIMIT $2"
            )))
            .bind(after)
            .bind(PAGE)
            .fetch_all(self.pool())
            .await?;
            if rows.is_empty() {
                return Ok(result);
            }
            for row in &rows {
                let row = row_from(row)?;
                after = row.id;
                result.rows += 1;
                if row.hash.is_none() && !chained {
                    result.unchained += 1;
                    continue;
                }
                chained = true;
                let expected = row.record.chain_hash(&previous);
                if row.hash.as_deref() != Some(expected.as_str()) {
                    result.broken = Some(BrokenLink {
                        id: row.id,
                        expected,
                        found: row.hash,
                    });
                    return Ok(result);
                }
                previous = expected;
            }
        }
    }
}

enum Bind {
    Text(String),
    Int(i64),
}
