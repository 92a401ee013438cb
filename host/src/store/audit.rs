//! The audit trail: every denial and every human decision (review,
//! suspension, install, grant change, payment decision, ...) as its own row,
//! and at most one summary row per invocation for the capability calls that
//! succeeded (see `capabilities::call_log` and [`super::audit_window`]).
//!
//! The trail is tamper-evident and has no global lock: rows are hash-chained
//! per installation (`hash = sha256(previous hash of the chain ‖ chain ‖ seq ‖
//! the row's fields)`), each chain's head is kept in `audit_chains`, and the
//! heads are anchored periodically in one global chain (`audit_anchors`).
//! Changing, inserting or deleting a row breaks its chain or an anchor
//! ([`Store::verify_audit`], `qun audit verify`). Rows are only ever appended;
//! no API changes or deletes them.

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

    /// The chain this record is appended to: its installation's, else its
    /// app's (decisions about an app), else the host's.
    pub fn chain(&self) -> String {
        match (&self.installation_id, &self.app_slug) {
            (Some(inst), _) if !inst.is_empty() => inst.clone(),
            (_, Some(app)) => format!("app:{app}"),
            _ => "host".to_string(),
        }
    }

    /// This row's link at position `seq` of `chain`, after the chain's
    /// `previous` hash (hex; empty for the first row).
    pub fn chained_hash(&self, previous: &str, chain: &str, seq: i64) -> String {
        let mut hasher = Sha256::new();
        hasher.update(previous.as_bytes());
        hasher.update(b"\n");
        hasher.update(serde_json::json!([chain, seq]).to_string().as_bytes());
        hasher.update(b"\n");
        hasher.update(self.fields().as_bytes());
        hex::encode(hasher.finalize())
    }

    /// This row's link in the single chain of rows written before chains
    /// were per installation (hex; empty for the first row).
    pub fn chain_hash(&self, previous: &str) -> String {
        let mut hasher = Sha256::new();
        hasher.update(previous.as_bytes());
        hasher.update(b"\n");
        hasher.update(self.fields().as_bytes());
        hex::encode(hasher.finalize())
    }

    fn fields(&self) -> String {
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
        fields.to_string()
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
    /// The chain it belongs to (absent on rows written before chains were
    /// per installation).
    pub chain: Option<String>,
    /// Its position in that chain, from 1.
    pub seq: Option<i64>,
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
    /// Only rows before this time (ms).
    pub until: Option<i64>,
    /// Only this action (`calls.summary`, `review.approve`, `messaging.post`, ...).
    pub action: Option<String>,
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
    /// previous row's hash (for rows deleted at a chain's end: the last row
    /// left in that chain, 0 when none is left).
    pub id: i64,
    /// The chain it belongs to (absent for rows of the old single chain).
    pub chain: Option<String>,
    /// What is wrong, in words.
    pub reason: String,
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
    /// Chains checked (one per installation that was audited, plus the
    /// chains of decisions about apps and the host).
    pub chains: u64,
    /// Chain heads anchored in the global anchor chain, all checked.
    pub anchors: u64,
    /// The first broken link, if any.
    pub broken: Option<BrokenLink>,
}

pub(super) const COLUMNS: &str = "id, at, installation_id, app_slug, app_version, group_id, actor, action, outcome, detail, duration_us, hash, chain, seq";

pub(super) fn row_from(row: &sqlx::any::AnyRow) -> Result<AuditRow, StoreError> {
    Ok(AuditRow {
        id: row.try_get("id")?,
        hash: row.try_get("hash")?,
        chain: row.try_get("chain")?,
        seq: row.try_get("seq")?,
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

/// Past this many chains the hints are dropped (they refill from use).
const MAX_HEADS: usize = 100_000;

/// Rows per `INSERT` of audit rows (13 binds each).
const ROWS_PER_INSERT: usize = 50;

/// The head (seq, hash) of each chain as this host last appended to it: a
/// hint that saves reading the head before appending. Every append checks
/// it in the statement that moves the head (`WHERE seq = … AND head = …`),
/// so a stale hint (another host or process appended meanwhile) costs one
/// more statement, never a wrong link.
#[derive(Debug, Default)]
pub(crate) struct ChainHeads {
    heads: std::sync::Mutex<std::collections::HashMap<String, (i64, String)>>,
}

impl ChainHeads {
    fn get(&self, chain: &str) -> Option<(i64, String)> {
        let heads = self.heads.lock().unwrap_or_else(|p| p.into_inner());
        heads.get(chain).cloned()
    }

    /// A committed append moved `chain` to (`seq`, `head`).
    pub(crate) fn note(&self, chain: String, seq: i64, head: String) {
        let mut heads = self.heads.lock().unwrap_or_else(|p| p.into_inner());
        if heads.len() >= MAX_HEADS && !heads.contains_key(&chain) {
            heads.clear();
        }
        match heads.get_mut(&chain) {
            // Commits may report out of order: keep the newest.
            Some(known) if known.0 >= seq => {}
            Some(known) => *known = (seq, head),
            None => {
                heads.insert(chain, (seq, head));
            }
        }
    }
}

/// Audit rows of one chain as a statement that links them itself (after
/// the head it finds, under the head's row lock): the chain as
/// [`AuditRecord::chained_hash`] hashes it, and each row's columns with the
/// fields it hashes. `None` when the rows span chains.
pub(crate) fn unlinked(records: &[AuditRecord]) -> Option<serde_json::Value> {
    let chain = records.first()?.chain();
    if records.iter().any(|r| r.chain() != chain) {
        return None;
    }
    let rows: Vec<serde_json::Value> = records
        .iter()
        .map(|r| {
            serde_json::json!({
                "at": r.at,
                "installation_id": r.installation_id,
                "app_slug": r.app_slug,
                "app_version": r.app_version,
                "group_id": r.group_id,
                "actor": r.actor,
                "action": r.action,
                "outcome": r.outcome,
                "detail": r.detail,
                "duration_us": r.duration_us,
                "fields": r.fields(),
            })
        })
        .collect();
    Some(serde_json::json!({
        "chain": chain,
        // What `chained_hash` writes before a row's seq.
        "chain_json": serde_json::Value::String(chain.clone()).to_string(),
        "rows": rows,
    }))
}

/// The columns an audit row is inserted with, in the order [`bind_rows`]
/// binds them.
const INSERT_COLUMNS: &str = "at, installation_id, app_slug, app_version, group_id, actor, action, outcome, detail, duration_us, hash, chain, seq";

/// `rows` numbered from `after + 1`, each with its hash.
fn number<'a>(
    after: i64,
    rows: &[&'a AuditRecord],
    hashes: &'a [String],
) -> Vec<(i64, &'a AuditRecord, &'a String)> {
    rows.iter()
        .zip(hashes)
        .enumerate()
        .map(|(i, (r, hash))| (after + 1 + i as i64, *r, hash))
        .collect()
}

/// Bind the columns of `rows` (see [`INSERT_COLUMNS`]).
fn bind_rows<'q>(
    mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    chain: &'q str,
    rows: &[(i64, &'q AuditRecord, &'q String)],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    for (seq, r, hash) in rows {
        query = query
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
            .bind(*hash)
            .bind(chain)
            .bind(*seq);
    }
    query
}

impl WriteTx {
    /// Append audit rows, each to its own chain (see [`AuditRecord::chain`]).
    /// Call it last in a transaction: on PostgreSQL it row-locks the head of
    /// each chain it appends to (in a fixed order), held until commit, so
    /// only transactions writing the same installation's audit wait on each
    /// other. With the chain's head known from this host's last append,
    /// that is two statements per chain: move the head (checking it), insert
    /// the rows.
    pub async fn insert_audit(&mut self, records: &[AuditRecord]) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        let mut chains: Vec<String> = records.iter().map(AuditRecord::chain).collect();
        chains.sort_unstable();
        chains.dedup();
        for chain in chains {
            let rows: Vec<&AuditRecord> = records.iter().filter(|r| r.chain() == chain).collect();
            let link = |seq: i64, previous: String| {
                let mut hashes = Vec::with_capacity(rows.len());
                let mut previous = previous;
                for (i, r) in rows.iter().enumerate() {
                    previous = r.chained_hash(&previous, &chain, seq + 1 + i as i64);
                    hashes.push(previous.clone());
                }
                hashes
            };
            let hint = self.heads.as_ref().and_then(|h| h.get(&chain));
            let mut linked = None;
            // Rows already inserted (PostgreSQL, with the head's move).
            let mut inserted = 0;
            if let Some((seq, head)) = hint {
                let hashes = link(seq, head.clone());
                let last = seq + rows.len() as i64;
                let new_head = hashes.last().cloned().unwrap_or_default();
                let numbered = number(seq, &rows, &hashes);
                let moved = if self.backend == super::Backend::Postgres
                    && rows.len() <= ROWS_PER_INSERT
                {
                    // One round trip: the rows go in (in `seq` order, the
                    // 13th column) only if the head moved.
                    let sql = format!(
                        "WITH moved AS (UPDATE audit_chains SET seq = $2, head = $3 \
                         WHERE chain = $1 AND seq = $4 AND head = $5 RETURNING chain) \
                         INSERT INTO audit ({INSERT_COLUMNS}) SELECT * FROM (VALUES {}) AS v \
                         WHERE EXISTS (SELECT 1 FROM moved) ORDER BY 13",
                        super::value_rows(rows.len(), 13, 6)
                    );
                    let query = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .persistent(rows.len() <= 4)
                        .bind(&chain)
                        .bind(last)
                        .bind(new_head)
                        .bind(seq)
                        .bind(&head);
                    let done = bind_rows(query, &chain, &numbered)
                        .execute(&mut *self.tx)
                        .await?;
                    inserted = done.rows_affected() as usize;
                    inserted == rows.len()
                } else {
                    sqlx::query(
                        "UPDATE audit_chains SET seq = $2, head = $3 WHERE chain = $1 AND seq = $4 AND head = $5",
                    )
                    .bind(&chain)
                    .bind(last)
                    .bind(new_head)
                    .bind(seq)
                    .bind(&head)
                    .execute(&mut *self.tx)
                    .await?
                    .rows_affected()
                        == 1
                };
                if moved {
                    linked = Some((seq, hashes));
                } else if inserted != 0 {
                    return Err(StoreError::Corrupt(format!(
                        "audit chain {chain}: {inserted} of {} rows were inserted",
                        rows.len()
                    )));
                }
            }
            let (first, hashes) = match linked {
                Some(linked) => linked,
                None => {
                    let (seq, previous) = self.chain_head(&chain).await?;
                    let hashes = link(seq, previous);
                    sqlx::query("UPDATE audit_chains SET seq = $2, head = $3 WHERE chain = $1")
                        .bind(&chain)
                        .bind(seq + rows.len() as i64)
                        .bind(hashes.last().cloned().unwrap_or_default())
                        .execute(&mut *self.tx)
                        .await?;
                    (seq, hashes)
                }
            };
            if inserted == 0 {
                let numbered = number(first, &rows, &hashes);
                for batch in numbered.chunks(ROWS_PER_INSERT) {
                    let sql = format!(
                        "INSERT INTO audit ({INSERT_COLUMNS}) VALUES {}",
                        super::value_rows(batch.len(), 13, 1)
                    );
                    let query = sqlx::query(sqlx::AssertSqlSafe(sql)).persistent(batch.len() <= 4);
                    bind_rows(query, &chain, batch)
                        .execute(&mut *self.tx)
                        .await?;
                }
            }
            if let Some(last) = hashes.last() {
                self.moved_heads
                    .push((chain.clone(), first + hashes.len() as i64, last.clone()));
            }
        }
        Ok(())
    }

    /// The head (last seq, last hash) of `chain`, created empty if new,
    /// locked until this transaction ends. One statement: the upsert's
    /// no-op update row-locks the head on PostgreSQL (SQLite transactions
    /// already hold the writer) and returns it.
    async fn chain_head(&mut self, chain: &str) -> Result<(i64, String), StoreError> {
        let row = sqlx::query(
            "INSERT INTO audit_chains (chain, seq, head, anchored_seq) VALUES ($1, 0, '', 0) \
             ON CONFLICT (chain) DO UPDATE SET seq = audit_chains.seq RETURNING seq, head",
        )
        .bind(chain)
        .fetch_one(&mut *self.tx)
        .await?;
        Ok((row.try_get("seq")?, row.try_get("head")?))
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
        if let Some(until) = query.until {
            filter("at", "<", Bind::Int(until));
        }
        if let Some(action) = &query.action {
            filter("action", "=", Bind::Text(action.clone()));
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
            "SELECT {COLUMNS} FROM audit {filter} ORDER BY id DESC LIMIT CAST(${} AS BIGINT)",
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
}

enum Bind {
    Text(String),
    Int(i64),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(i: usize) -> AuditRecord {
        AuditRecord::decision("review.approve", "u_admin")
            .app("probe", Some("1.0.0"))
            .detail(format!("row {i}"))
    }

    /// Two processes append to one chain in turns: each one's hint of the
    /// head goes stale every time, the chain stays exact.
    #[tokio::test]
    async fn appends_from_two_stores_keep_one_exact_chain() {
        let dir = std::env::temp_dir().join(format!("qun-heads-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("qun.db");
        let a = Store::open_sqlite(&path).await.expect("store a");
        let b = Store::open_sqlite(&path).await.expect("store b");
        for i in 0..6 {
            let store = if i % 3 == 0 { &b } else { &a };
            store
                .append_audit(&[record(i), record(i + 100)])
                .await
                .expect("append");
        }
        let verified = a.verify_audit().await.expect("verify");
        assert_eq!(verified.broken, None);
        assert_eq!(verified.rows, 12);
        let chain: Vec<i64> =
            sqlx::query("SELECT seq FROM audit WHERE chain = 'app:probe' ORDER BY seq")
                .fetch_all(a.pool())
                .await
                .expect("seqs")
                .iter()
                .map(|r| r.try_get("seq").expect("seq"))
                .collect();
        assert_eq!(chain, (1..=12).collect::<Vec<i64>>());
        a.close().await;
        b.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }
}
