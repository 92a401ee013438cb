//! `qun audit verify`: check every audit chain and the anchors exactly.
//!
//! Three walks, each in pages over an index:
//! 1. the old single chain (rows written before chains were per
//!    installation, `chain IS NULL`), in id order;
//! 2. every chain in `(chain, seq)` order: sequence numbers contiguous from
//!    1, each hash following from the previous one, and the chain ending
//!    where `audit_chains` says its head is (rows deleted in the middle or at
//!    the end are found);
//! 3. the global anchor chain: every anchor's hash follows from the previous
//!    anchor, and the row it names still carries the head it recorded (a
//!    chain's newest rows, or a whole chain, deleted along with its head).

use std::collections::HashMap;

use sha2::{Digest, Sha256};
use sqlx::Row;

use super::audit::{AuditVerification, BrokenLink, COLUMNS, row_from};
use super::{Store, StoreError};

const PAGE: i64 = 1000;

/// The hash of an anchor row after `previous` (hex; empty for the first).
pub(crate) fn anchor_hash(previous: &str, at: i64, chain: &str, seq: i64, head: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(previous.as_bytes());
    hasher.update(b"\n");
    hasher.update(
        serde_json::json!([at, chain, seq, head])
            .to_string()
            .as_bytes(),
    );
    hex::encode(hasher.finalize())
}

impl Store {
    /// Walk the whole trail: the old single chain, every chain and the
    /// anchors; report the first broken link.
    pub async fn verify_audit(&self) -> Result<AuditVerification, StoreError> {
        let mut result = AuditVerification {
            rows: 0,
            unchained: 0,
            chains: 0,
            anchors: 0,
            broken: None,
        };
        // Heads first: rows appended while we walk lie beyond them and are
        // left for the next verification.
        let heads: HashMap<String, (i64, String)> =
            sqlx::query("SELECT chain, seq, head FROM audit_chains")
                .fetch_all(self.pool())
                .await?
                .iter()
                .map(|r| {
                    Ok((
                        r.try_get::<String, _>("chain")?,
                        (r.try_get::<i64, _>("seq")?, r.try_get::<String, _>("head")?),
                    ))
                })
                .collect::<Result<_, StoreError>>()?;
        result.broken = self.verify_legacy(&mut result).await?;
        if result.broken.is_none() {
            result.broken = self.verify_chains(&heads, &mut result).await?;
        }
        if result.broken.is_none() {
            result.broken = self.verify_anchors(&mut result).await?;
        }
        Ok(result)
    }

    /// The single chain of rows from before chains were per installation.
    async fn verify_legacy(
        &self,
        result: &mut AuditVerification,
    ) -> Result<Option<BrokenLink>, StoreError> {
        let mut previous = String::new();
        let mut chained = false;
        let mut after = i64::MIN;
        loop {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM audit WHERE chain IS NULL AND id > $1 ORDER BY id LIMIT CAST($2 AS BIGINT)"
            )))
            .bind(after)
            .bind(PAGE)
            .fetch_all(self.pool())
            .await?;
            if rows.is_empty() {
                return Ok(None);
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
                    return Ok(Some(BrokenLink {
                        id: row.id,
                        chain: None,
                        reason: "its hash does not follow from its fields and the previous row \
                                 (the row was changed, or a row before it was inserted or deleted)"
                            .into(),
                        expected,
                        found: row.hash,
                    }));
                }
                previous = expected;
            }
        }
    }

    /// Every per-installation chain, against the heads read before.
    async fn verify_chains(
        &self,
        heads: &HashMap<String, (i64, String)>,
        result: &mut AuditVerification,
    ) -> Result<Option<BrokenLink>, StoreError> {
        // The chain being walked: name, last seq, last hash, last row id.
        let mut current: Option<(String, i64, String, i64)> = None;
        let mut seen = std::collections::HashSet::new();
        let (mut after_chain, mut after_seq) = (String::new(), i64::MIN);
        loop {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM audit WHERE chain IS NOT NULL \
                 AND (chain > $1 OR (chain = $1 AND seq > $2)) ORDER BY chain, seq LIMIT CAST($3 AS BIGINT)"
            )))
            .bind(&after_chain)
            .bind(after_seq)
            .bind(PAGE)
            .fetch_all(self.pool())
            .await?;
            if rows.is_empty() {
                break;
            }
            for row in &rows {
                let row = row_from(row)?;
                let chain = row.chain.clone().unwrap_or_default();
                let seq = row.seq.unwrap_or(0);
                after_chain.clone_from(&chain);
                after_seq = seq;
                let Some(&(head_seq, _)) = heads.get(&chain) else {
                    // A chain begun after the heads were read.
                    continue;
                };
                if seq > head_seq {
                    continue;
                }
                if current.as_ref().map(|c| c.0.as_str()) != Some(chain.as_str()) {
                    if let Some(done) = current.take()
                        && let Some(broken) = check_end(&done, heads)
                    {
                        return Ok(Some(broken));
                    }
                    seen.insert(chain.clone());
                    result.chains += 1;
                    current = Some((chain.clone(), 0, String::new(), 0));
                }
                let Some(cur) = current.as_mut() else {
                    continue;
                };
                result.rows += 1;
                let expected = row.record.chained_hash(&cur.2, &chain, seq);
                if seq != cur.1 + 1 {
                    return Ok(Some(BrokenLink {
                        id: row.id,
                        chain: Some(chain.clone()),
                        reason: format!(
                            "rows {}..{} of chain {chain} before it are missing (deleted)",
                            cur.1 + 1,
                            seq - 1
                        ),
                        expected,
                        found: row.hash,
                    }));
                }
                if row.hash.as_deref() != Some(expected.as_str()) {
                    return Ok(Some(BrokenLink {
                        id: row.id,
                        chain: Some(chain.clone()),
                        reason: format!(
                            "its hash does not follow from its fields and the previous row of chain {chain} \
                             (the row was changed, or a row before it was inserted or deleted)"
                        ),
                        expected,
                        found: row.hash,
                    }));
                }
                *cur = (chain, seq, expected, row.id);
            }
        }
        if let Some(done) = current.take()
            && let Some(broken) = check_end(&done, heads)
        {
            return Ok(Some(broken));
        }
        // A head whose chain has no row left at all.
        let mut missing: Vec<&String> = heads
            .iter()
            .filter(|(chain, (seq, _))| *seq > 0 && !seen.contains(*chain))
            .map(|(chain, _)| chain)
            .collect();
        missing.sort();
        if let Some(chain) = missing.first() {
            let (seq, head) = &heads[*chain];
            return Ok(Some(BrokenLink {
                id: 0,
                chain: Some((*chain).clone()),
                reason: format!("all {seq} rows of chain {chain} are missing (deleted)"),
                expected: head.clone(),
                found: None,
            }));
        }
        Ok(None)
    }

    /// The global chain of anchors, and the rows each names.
    async fn verify_anchors(
        &self,
        result: &mut AuditVerification,
    ) -> Result<Option<BrokenLink>, StoreError> {
        let mut previous = String::new();
        let mut after = i64::MIN;
        loop {
            let rows = sqlx::query(
                "SELECT n.id, n.at, n.chain, n.seq, n.head, n.hash, a.id AS row_id, a.hash AS row_hash \
                 FROM audit_anchors n LEFT JOIN audit a ON a.chain = n.chain AND a.seq = n.seq \
                 WHERE n.id > $1 ORDER BY n.id LIMIT CAST($2 AS BIGINT)",
            )
            .bind(after)
            .bind(PAGE)
            .fetch_all(self.pool())
            .await?;
            if rows.is_empty() {
                return Ok(None);
            }
            for row in &rows {
                let id: i64 = row.try_get("id")?;
                let at: i64 = row.try_get("at")?;
                let chain: String = row.try_get("chain")?;
                let seq: i64 = row.try_get("seq")?;
                let head: String = row.try_get("head")?;
                let hash: String = row.try_get("hash")?;
                let row_id: Option<i64> = row.try_get("row_id")?;
                let row_hash: Option<String> = row.try_get("row_hash")?;
                after = id;
                result.anchors += 1;
                let expected = anchor_hash(&previous, at, &chain, seq, &head);
                if hash != expected {
                    return Ok(Some(BrokenLink {
                        id: row_id.unwrap_or(0),
                        chain: Some(chain.clone()),
                        reason: format!(
                            "anchor {id} of chain {chain} does not follow from the previous anchor \
                             (an anchor was changed, inserted or deleted)"
                        ),
                        expected,
                        found: Some(hash),
                    }));
                }
                if row_hash.as_deref() != Some(head.as_str()) {
                    return Ok(Some(BrokenLink {
                        id: row_id.unwrap_or(0),
                        chain: Some(chain.clone()),
                        reason: format!(
                            "anchor {id} recorded row {seq} of chain {chain} with another hash \
                             (the row or rows up to it were changed or deleted)"
                        ),
                        expected: head,
                        found: row_hash,
                    }));
                }
                previous = expected;
            }
        }
    }
}

/// A chain walked to its end must end at its recorded head.
fn check_end(
    (chain, seq, hash, id): &(String, i64, String, i64),
    heads: &HashMap<String, (i64, String)>,
) -> Option<BrokenLink> {
    let (head_seq, head) = heads.get(chain)?;
    if seq == head_seq && hash == head {
        return None;
    }
    Some(BrokenLink {
        id: *id,
        chain: Some(chain.clone()),
        reason: if seq < head_seq {
            format!(
                "chain {chain} ends at row {seq} but its head is row {head_seq}: its newest rows are missing (deleted)"
            )
        } else {
            format!("chain {chain} does not end at its recorded head")
        },
        expected: head.clone(),
        found: Some(hash.clone()),
    })
}

impl Store {
    /// Append the head of every chain that moved since it was last anchored
    /// to the global anchor chain. Run periodically (by `qun serve`), never
    /// by commits: only anchoring passes wait on each other.
    pub async fn anchor_audit_chains(&self) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        tx.lock("audit-anchors").await?;
        let moved = sqlx::query(
            "SELECT chain, seq, head FROM audit_chains WHERE seq > anchored_seq ORDER BY chain LIMIT 10000",
        )
        .fetch_all(&mut *tx.tx)
        .await?;
        if moved.is_empty() {
            return Ok(0);
        }
        let last: Option<String> =
            sqlx::query_scalar("SELECT hash FROM audit_anchors ORDER BY id DESC LIMIT 1")
                .fetch_optional(&mut *tx.tx)
                .await?;
        let mut previous = last.unwrap_or_default();
        let at = super::now_ms();
        let mut count = 0;
        for row in &moved {
            let chain: String = row.try_get("chain")?;
            let seq: i64 = row.try_get("seq")?;
            let head: String = row.try_get("head")?;
            let hash = anchor_hash(&previous, at, &chain, seq, &head);
            sqlx::query(
                "INSERT INTO audit_anchors (at, chain, seq, head, hash) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(at)
            .bind(&chain)
            .bind(seq)
            .bind(&head)
            .bind(&hash)
            .execute(&mut *tx.tx)
            .await?;
            sqlx::query(
                "UPDATE audit_chains SET anchored_seq = $2 WHERE chain = $1 AND anchored_seq < $2",
            )
            .bind(&chain)
            .bind(seq)
            .execute(&mut *tx.tx)
            .await?;
            previous = hash;
            count += 1;
        }
        tx.commit().await?;
        Ok(count)
    }
}
