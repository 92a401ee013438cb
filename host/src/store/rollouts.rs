//! Rollouts (issue 16): an approved version released to a share of an
//! app's installations, widened step by step, completed, or rolled back in
//! one step — by a person, or by the host when the new version's fault rate
//! crosses the rollout's threshold.
//!
//! **Which installations.** The population is every installation of the app
//! that is not in developer mode. It is ordered with the named groups first,
//! then by [`rank_key`] (sha256 of the rollout id and the installation id);
//! a step at `percent` chooses the first `ceil(n * percent / 100)` of that
//! order plus every installation of a named group. Installations chosen by
//! an earlier step stay chosen, so widening only adds installations.
//!
//! **What choosing does** (as a manual upgrade by the group's owner would):
//! an installation whose new version asks for capabilities its current
//! version did not ask for gets `pending_version` and keeps running its
//! version until the owner consents; one whose new version declares a
//! command another app of the group answers is left alone
//! (`command_conflict`); otherwise it runs the new version with the grants
//! it had that the new version still asks for. What it ran before (version
//! and grants) is kept, so a rollback restores exactly that.
//!
//! Every step writes its audit rows in the transaction that makes it.

use sha2::{Digest, Sha256};
use sqlx::Row;

use super::{AppVersion, AuditRecord, LogLine, Store, StoreError, WriteTx, new_id, now_ms};

/// The fault rate (in percent of the new version's invocations) past which
/// a rollout rolls back automatically, unless the rollout says otherwise.
pub const DEFAULT_MAX_FAULT_PERCENT: u32 = 10;
/// How many invocations of the new version a rollout waits for before it
/// judges the fault rate, unless the rollout says otherwise.
pub const DEFAULT_MIN_INVOCATIONS: u32 = 20;

/// Where a rollout is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RolloutStatus {
    /// Released to a share; it may widen, complete or roll back.
    Active,
    /// Released to every installation.
    Completed,
    /// Rolled back by a person.
    RolledBack,
    /// Rolled back by the host: the new version failed too often.
    RolledBackAutomatically,
}

impl RolloutStatus {
    /// Its name in the store and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            RolloutStatus::Active => "active",
            RolloutStatus::Completed => "completed",
            RolloutStatus::RolledBack => "rolled_back",
            RolloutStatus::RolledBackAutomatically => "rolled_back_automatically",
        }
    }

    fn parse(s: &str) -> Result<RolloutStatus, StoreError> {
        Ok(match s {
            "active" => RolloutStatus::Active,
            "completed" => RolloutStatus::Completed,
            "rolled_back" => RolloutStatus::RolledBack,
            "rolled_back_automatically" => RolloutStatus::RolledBackAutomatically,
            other => return Err(StoreError::Corrupt(format!("rollout status {other:?}"))),
        })
    }
}

/// Invocations of one side of a rollout while it runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct RolloutCounts {
    /// Invocations that ran.
    pub invocations: i64,
    /// Of those, how many failed because of the app (its error, a bad
    /// answer, a trap, a timeout, memory, a limit it broke).
    pub errors: i64,
    /// Of those, how many were faults (trap, timeout, memory, stack).
    pub faults: i64,
}

/// A rollout.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Rollout {
    /// Its id.
    pub id: String,
    /// The app.
    pub app_slug: String,
    /// The version released.
    pub version: String,
    /// Where it is.
    pub status: RolloutStatus,
    /// The share of installations chosen, in percent.
    pub percent: u32,
    /// Groups released first.
    pub groups: Vec<String>,
    /// The fault rate (percent) past which it rolls back automatically.
    pub max_fault_percent: u32,
    /// Invocations of the new version before the fault rate is judged.
    pub min_invocations: u32,
    /// The new version's invocations during the rollout.
    pub new_version: RolloutCounts,
    /// The other versions' invocations (of the same app) during the rollout.
    pub other_versions: RolloutCounts,
    /// Who started it.
    pub created_by: String,
    /// When (ms).
    pub created_at: i64,
    /// Its last step (ms).
    pub updated_at: i64,
    /// When it completed or was rolled back (ms).
    pub ended_at: Option<i64>,
    /// Why it was rolled back.
    pub end_reason: Option<String>,
}

/// An installation a rollout chose.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RolloutInstallation {
    /// The installation.
    pub installation_id: String,
    /// Its group.
    pub group_id: String,
    /// What choosing it did: `moved` (it runs the new version),
    /// `pending_consent` (the new version waits for the owner's consent to
    /// new capabilities), `command_conflict` (left alone: the new version
    /// declares a command another app of the group answers), `already` (it
    /// ran the new version before), `newer` (left alone: it runs a version
    /// uploaded later).
    pub status: String,
    /// The version it ran before.
    pub previous_version: String,
    /// The grants it had before.
    pub previous_grants: Vec<String>,
    /// The version it runs now (`None`: uninstalled since).
    pub version: Option<String>,
    /// When it was chosen (ms).
    pub chosen_at: i64,
}

/// The active rollout of an app, as the invocation path needs it.
#[derive(Debug, Clone)]
pub struct ActiveRollout {
    /// The rollout.
    pub id: String,
    /// The version it releases.
    pub version: String,
}

/// A rollout to start.
#[derive(Debug, Clone)]
pub struct NewRollout {
    /// The version to release (approved: the caller checks).
    pub version: String,
    /// The share, in percent (0 to 100).
    pub percent: u32,
    /// Groups released first.
    pub groups: Vec<String>,
    /// See [`Rollout::max_fault_percent`].
    pub max_fault_percent: u32,
    /// See [`Rollout::min_invocations`].
    pub min_invocations: u32,
}

/// How an invocation ended, as a rollout counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RolloutOutcome {
    /// It succeeded.
    Ok,
    /// The app failed (its error, a bad answer, a broken limit), not a fault.
    Error,
    /// A trap, timeout, memory or stack fault.
    Fault,
}

/// Why a rollout step was refused; nothing was changed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RolloutRefusal {
    /// The app already has an active rollout.
    #[error("{app} already has an active rollout ({id}); widen it, or roll it back first")]
    AlreadyActive {
        /// The app.
        app: String,
        /// The active rollout.
        id: String,
    },
    /// The rollout completed or was rolled back.
    #[error("rollout {id} is {status}; start a new one")]
    NotActive {
        /// The rollout.
        id: String,
        /// Its status.
        status: &'static str,
    },
    /// A step may only widen.
    #[error("a rollout only widens: it is at {from}%, asked for {to}%; roll it back instead")]
    Narrowing {
        /// The current share.
        from: u32,
        /// The share asked for.
        to: u32,
    },
}

/// The deterministic rank of an installation in a rollout: the first 8
/// bytes (big-endian) of `sha256("{rollout_id}/{installation_id}")`. Lower
/// ranks are chosen first.
pub fn rank_key(rollout_id: &str, installation_id: &str) -> u64 {
    let digest = Sha256::digest(format!("{rollout_id}/{installation_id}").as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(bytes)
}

/// How many of `population` installations a step at `percent` chooses.
pub fn share(population: usize, percent: u32) -> usize {
    let percent = usize::try_from(percent.min(100)).unwrap_or(100);
    (population * percent).div_ceil(100)
}

const ROLLOUT_COLUMNS: &str = "id, app_slug, version, status, percent, group_ids, max_fault_percent, \
     min_invocations, new_invocations, new_errors, new_faults, old_invocations, old_errors, old_faults, \
     created_by, created_at, updated_at, ended_at, end_reason";

fn count(row: &sqlx::any::AnyRow, column: &str) -> Result<u32, StoreError> {
    let n: i64 = row.try_get(column)?;
    u32::try_from(n).map_err(|_| StoreError::Corrupt(format!("rollout {column} = {n}")))
}

fn rollout_from_row(row: &sqlx::any::AnyRow) -> Result<Rollout, StoreError> {
    let groups: String = row.try_get("group_ids")?;
    let status: String = row.try_get("status")?;
    Ok(Rollout {
        id: row.try_get("id")?,
        app_slug: row.try_get("app_slug")?,
        version: row.try_get("version")?,
        status: RolloutStatus::parse(&status)?,
        percent: count(row, "percent")?,
        groups: serde_json::from_str(&groups).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        max_fault_percent: count(row, "max_fault_percent")?,
        min_invocations: count(row, "min_invocations")?,
        new_version: RolloutCounts {
            invocations: row.try_get("new_invocations")?,
            errors: row.try_get("new_errors")?,
            faults: row.try_get("new_faults")?,
        },
        other_versions: RolloutCounts {
            invocations: row.try_get("old_invocations")?,
            errors: row.try_get("old_errors")?,
            faults: row.try_get("old_faults")?,
        },
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        ended_at: row.try_get("ended_at")?,
        end_reason: row.try_get("end_reason")?,
    })
}

fn json_list(list: &[String]) -> Result<String, StoreError> {
    serde_json::to_string(list).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn parse_list(text: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Whether the new version's numbers cross the rollout's threshold.
pub fn crosses(rollout: &Rollout) -> bool {
    let n = rollout.new_version;
    n.invocations > 0
        && n.invocations >= i64::from(rollout.min_invocations)
        && n.faults * 100 > i64::from(rollout.max_fault_percent) * n.invocations
}

impl Store {
    /// Start a rollout of `app_slug` by `by`: the first step chooses its
    /// share of installations (see the module). `versions` are the app's
    /// versions (for their capabilities and upload order).
    pub async fn start_rollout(
        &self,
        app_slug: &str,
        new: &NewRollout,
        versions: &[AppVersion],
        by: &str,
    ) -> Result<Rollout, StoreError> {
        let id = new_id("r");
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        tx.lock(&format!("rollouts:{app_slug}")).await?;
        if let Some(active) = active_in(&mut tx, app_slug).await? {
            return Err(StoreError::Rollout(RolloutRefusal::AlreadyActive {
                app: app_slug.to_string(),
                id: active.id,
            }));
        }
        sqlx::query(
            "INSERT INTO rollouts (id, app_slug, version, status, percent, group_ids, max_fault_percent, \
             min_invocations, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, 'active', $4, $5, $6, $7, $8, $9, $9)",
        )
        .bind(&id)
        .bind(app_slug)
        .bind(&new.version)
        .bind(i64::from(new.percent.min(100)))
        .bind(json_list(&new.groups)?)
        .bind(i64::from(new.max_fault_percent))
        .bind(i64::from(new.min_invocations))
        .bind(by)
        .bind(now)
        .execute(&mut *tx.tx)
        .await?;
        let rollout = rollout_in(&mut tx, &id)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("rollout {id} vanished")))?;
        let mut audit = vec![
            AuditRecord::decision("rollout.start", by)
                .app(app_slug, Some(&new.version))
                .detail(format!(
                    "rollout {id}: {}% and groups [{}]; rolls back past {}% faults after {} invocations",
                    rollout.percent,
                    rollout.groups.join(", "),
                    rollout.max_fault_percent,
                    rollout.min_invocations
                )),
        ];
        audit.extend(choose(&mut tx, &rollout, versions, by).await?);
        let rollout = finish_step(&mut tx, rollout, by, &mut audit).await?;
        tx.insert_audit(&audit).await?;
        tx.invalidate_cache().await?;
        tx.commit().await?;
        Ok(rollout)
    }

    /// Widen an active rollout: a higher `percent` and/or more `groups`.
    /// At 100% it completes.
    pub async fn widen_rollout(
        &self,
        id: &str,
        percent: Option<u32>,
        groups: &[String],
        versions: &[AppVersion],
        by: &str,
    ) -> Result<Rollout, StoreError> {
        let mut tx = self.begin_write().await?;
        let rollout = locked_active(&mut tx, id).await?;
        let to = percent.unwrap_or(rollout.percent).min(100);
        if to < rollout.percent {
            return Err(StoreError::Rollout(RolloutRefusal::Narrowing {
                from: rollout.percent,
                to,
            }));
        }
        let mut all_groups = rollout.groups.clone();
        for g in groups {
            if !all_groups.contains(g) {
                all_groups.push(g.clone());
            }
        }
        sqlx::query(
            "UPDATE rollouts SET percent = $1, group_ids = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(i64::from(to))
        .bind(json_list(&all_groups)?)
        .bind(now_ms())
        .bind(id)
        .execute(&mut *tx.tx)
        .await?;
        let widened = rollout_in(&mut tx, id)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("rollout {id} vanished")))?;
        let mut audit = vec![
            AuditRecord::decision("rollout.widen", by)
                .app(&widened.app_slug, Some(&widened.version))
                .detail(format!(
                    "rollout {id}: {}% -> {}%, groups [{}] -> [{}]",
                    rollout.percent,
                    widened.percent,
                    rollout.groups.join(", "),
                    widened.groups.join(", ")
                )),
        ];
        audit.extend(choose(&mut tx, &widened, versions, by).await?);
        let widened = finish_step(&mut tx, widened, by, &mut audit).await?;
        tx.insert_audit(&audit).await?;
        tx.invalidate_cache().await?;
        tx.commit().await?;
        Ok(widened)
    }

    /// Roll an active rollout back on behalf of `by`: every installation it
    /// moved (and still runs its version) runs the version and grants it had
    /// before; every upgrade it left waiting for consent is withdrawn.
    pub async fn roll_back(&self, id: &str, by: &str) -> Result<Rollout, StoreError> {
        let mut tx = self.begin_write().await?;
        let rollout = locked_active(&mut tx, id).await?;
        let reason = format!("rolled back by {by}");
        roll_back_in(&mut tx, &rollout, by, false, &reason).await?;
        let done = rollout_in(&mut tx, id)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("rollout {id} vanished")))?;
        tx.invalidate_cache().await?;
        tx.commit().await?;
        Ok(done)
    }

    /// Count one invocation of an installation of an app with an active
    /// rollout, and roll back automatically when the new version crosses
    /// the threshold; answers the reason when it did.
    pub async fn count_rollout_invocation(
        &self,
        active: &ActiveRollout,
        installation_id: &str,
        version: &str,
        outcome: RolloutOutcome,
    ) -> Result<Option<String>, StoreError> {
        let mut tx = self.begin_write().await?;
        tx.lock(&format!("rollout:{}", active.id)).await?;
        let Some(rollout) = rollout_in(&mut tx, &active.id).await? else {
            return Ok(None);
        };
        let dev: Option<String> = sqlx::query_scalar(
            "SELECT installation_id FROM dev_installations WHERE installation_id = $1",
        )
        .bind(installation_id)
        .fetch_optional(&mut *tx.tx)
        .await?;
        if rollout.status != RolloutStatus::Active || dev.is_some() {
            return Ok(None);
        }
        let side = if version == rollout.version {
            "new"
        } else {
            "old"
        };
        let errors = i64::from(outcome != RolloutOutcome::Ok);
        let faults = i64::from(outcome == RolloutOutcome::Fault);
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE rollouts SET {side}_invocations = {side}_invocations + 1, \
             {side}_errors = {side}_errors + $1, {side}_faults = {side}_faults + $2 WHERE id = $3"
        )))
        .bind(errors)
        .bind(faults)
        .bind(&rollout.id)
        .execute(&mut *tx.tx)
        .await?;
        let mut rolled_back = None;
        if side == "new" {
            let now = rollout_in(&mut tx, &rollout.id)
                .await?
                .ok_or_else(|| StoreError::Corrupt(format!("rollout {} vanished", rollout.id)))?;
            if crosses(&now) {
                let n = now.new_version;
                let reason = format!(
                    "rolled back automatically: {} {} faulted in {} of {} invocations (more than {}%; \
                     the other versions: {} of {})",
                    now.app_slug,
                    now.version,
                    n.faults,
                    n.invocations,
                    now.max_fault_percent,
                    now.other_versions.faults,
                    now.other_versions.invocations
                );
                roll_back_in(&mut tx, &now, "health", true, &reason).await?;
                tx.invalidate_cache().await?;
                rolled_back = Some(reason);
            }
        }
        tx.commit().await?;
        Ok(rolled_back)
    }

    /// The active rollout of `app_slug`, through the cache (the invocation
    /// path asks on every invocation).
    pub async fn active_rollout_cached(
        &self,
        app_slug: &str,
    ) -> Result<Option<ActiveRollout>, StoreError> {
        let ticket = match self.cache().rollout(app_slug) {
            Ok(active) => return Ok(active),
            Err(ticket) => ticket,
        };
        let row = sqlx::query(
            "SELECT id, version FROM rollouts WHERE app_slug = $1 AND status = 'active'",
        )
        .bind(app_slug)
        .fetch_optional(self.pool())
        .await?;
        let active = row
            .map(|r| -> Result<ActiveRollout, StoreError> {
                Ok(ActiveRollout {
                    id: r.try_get("id")?,
                    version: r.try_get("version")?,
                })
            })
            .transpose()?;
        self.cache().put_rollout(ticket, app_slug, active.clone());
        Ok(active)
    }

    /// One rollout.
    pub async fn rollout(&self, id: &str) -> Result<Option<Rollout>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ROLLOUT_COLUMNS} FROM rollouts WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(rollout_from_row).transpose()
    }

    /// The rollouts of an app, newest first.
    pub async fn rollouts(&self, app_slug: &str) -> Result<Vec<Rollout>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ROLLOUT_COLUMNS} FROM rollouts WHERE app_slug = $1 ORDER BY created_at DESC, id DESC"
        )))
        .bind(app_slug)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(rollout_from_row).collect()
    }

    /// The installations a rollout chose, in the order it chose them.
    pub async fn rollout_installations(
        &self,
        id: &str,
    ) -> Result<Vec<RolloutInstallation>, StoreError> {
        let rows = sqlx::query(
            "SELECT r.installation_id, r.group_id, r.status, r.previous_version, r.previous_grants, \
             r.chosen_at, i.version FROM rollout_installations r \
             LEFT JOIN installations i ON i.id = r.installation_id \
             WHERE r.rollout_id = $1 ORDER BY r.chosen_at, r.group_id",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let grants: String = r.try_get("previous_grants")?;
                Ok(RolloutInstallation {
                    installation_id: r.try_get("installation_id")?,
                    group_id: r.try_get("group_id")?,
                    status: r.try_get("status")?,
                    previous_version: r.try_get("previous_version")?,
                    previous_grants: parse_list(&grants)?,
                    version: r.try_get("version")?,
                    chosen_at: r.try_get("chosen_at")?,
                })
            })
            .collect()
    }
}

async fn rollout_in(tx: &mut WriteTx, id: &str) -> Result<Option<Rollout>, StoreError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {ROLLOUT_COLUMNS} FROM rollouts WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(&mut *tx.tx)
    .await?;
    row.as_ref().map(rollout_from_row).transpose()
}

async fn active_in(tx: &mut WriteTx, app_slug: &str) -> Result<Option<Rollout>, StoreError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {ROLLOUT_COLUMNS} FROM rollouts WHERE app_slug = $1 AND status = 'active'"
    )))
    .bind(app_slug)
    .fetch_optional(&mut *tx.tx)
    .await?;
    row.as_ref().map(rollout_from_row).transpose()
}

/// The rollout `id`, locked for this transaction, when it is active.
async fn locked_active(tx: &mut WriteTx, id: &str) -> Result<Rollout, StoreError> {
    tx.lock(&format!("rollout:{id}")).await?;
    let rollout = rollout_in(tx, id)
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("no rollout {id}")))?;
    if rollout.status != RolloutStatus::Active {
        return Err(StoreError::Rollout(RolloutRefusal::NotActive {
            id: id.to_string(),
            status: rollout.status.as_str(),
        }));
    }
    Ok(rollout)
}

/// At 100% a rollout is complete (after its last step chose everyone).
async fn finish_step(
    tx: &mut WriteTx,
    rollout: Rollout,
    by: &str,
    audit: &mut Vec<AuditRecord>,
) -> Result<Rollout, StoreError> {
    if rollout.percent < 100 {
        return Ok(rollout);
    }
    let now = now_ms();
    sqlx::query(
        "UPDATE rollouts SET status = 'completed', ended_at = $1, updated_at = $1 WHERE id = $2",
    )
    .bind(now)
    .bind(&rollout.id)
    .execute(&mut *tx.tx)
    .await?;
    audit.push(
        AuditRecord::decision("rollout.complete", by)
            .app(&rollout.app_slug, Some(&rollout.version))
            .detail(format!("rollout {}: every installation chosen", rollout.id)),
    );
    rollout_in(tx, &rollout.id)
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("rollout {} vanished", rollout.id)))
}

/// One installation as a step sees it.
struct Candidate {
    id: String,
    group_id: String,
    rank: (bool, u64),
}

/// Choose the installations a step of `rollout` adds, and move each (see
/// the module); answers the audit rows.
async fn choose(
    tx: &mut WriteTx,
    rollout: &Rollout,
    versions: &[AppVersion],
    by: &str,
) -> Result<Vec<AuditRecord>, StoreError> {
    let target = versions
        .iter()
        .find(|v| v.version == rollout.version)
        .ok_or_else(|| {
            StoreError::Corrupt(format!(
                "{} has no version {}",
                rollout.app_slug, rollout.version
            ))
        })?;
    let rows = sqlx::query(
        "SELECT id, group_id FROM installations WHERE app_slug = $1 \
         AND id NOT IN (SELECT installation_id FROM dev_installations)",
    )
    .bind(&rollout.app_slug)
    .fetch_all(&mut *tx.tx)
    .await?;
    let mut population = Vec::with_capacity(rows.len());
    for row in &rows {
        let id: String = row.try_get("id")?;
        let group_id: String = row.try_get("group_id")?;
        let named = rollout.groups.contains(&group_id);
        population.push(Candidate {
            rank: (!named, rank_key(&rollout.id, &id)),
            id,
            group_id,
        });
    }
    population.sort_by(|a, b| a.rank.cmp(&b.rank).then_with(|| a.id.cmp(&b.id)));
    let chosen_before: Vec<String> = sqlx::query_scalar(
        "SELECT installation_id FROM rollout_installations WHERE rollout_id = $1",
    )
    .bind(&rollout.id)
    .fetch_all(&mut *tx.tx)
    .await?;
    let take = share(population.len(), rollout.percent);
    let now = now_ms();
    let mut audit = Vec::new();
    for (index, candidate) in population.iter().enumerate() {
        let named = !candidate.rank.0;
        if (index >= take && !named) || chosen_before.contains(&candidate.id) {
            continue;
        }
        audit.extend(move_one(tx, rollout, target, versions, candidate, now, by).await?);
    }
    Ok(audit)
}

/// Move one chosen installation to the rollout's version (or leave it
/// waiting for consent, or alone), remembering what it ran before.
async fn move_one(
    tx: &mut WriteTx,
    rollout: &Rollout,
    target: &AppVersion,
    versions: &[AppVersion],
    candidate: &Candidate,
    now: i64,
    by: &str,
) -> Result<Vec<AuditRecord>, StoreError> {
    tx.lock(&format!("installation:{}", candidate.id)).await?;
    let row = sqlx::query("SELECT version, grants FROM installations WHERE id = $1")
        .bind(&candidate.id)
        .fetch_optional(&mut *tx.tx)
        .await?;
    let Some(row) = row else {
        return Ok(Vec::new());
    };
    let version: String = row.try_get("version")?;
    let grants_text: String = row.try_get("grants")?;
    let grants = parse_list(&grants_text)?;
    let audit = |action: &str| {
        AuditRecord::decision(action, by)
            .app(&rollout.app_slug, Some(&version))
            .installation(&candidate.id, &candidate.group_id)
    };
    let current = versions.iter().find(|v| v.version == version);
    let mut records = Vec::new();
    let status = if version == target.version {
        "already"
    } else if current.is_some_and(|c| c.created_at > target.created_at) {
        "newer"
    } else {
        let asks: Vec<String> = target
            .capabilities
            .iter()
            .filter(|c| current.is_none_or(|cur| !cur.capabilities.contains(c)))
            .cloned()
            .collect();
        if !asks.is_empty() {
            // As a manual upgrade: the current version keeps running until
            // the group's owner consents to the new capabilities.
            sqlx::query("UPDATE installations SET pending_version = $1 WHERE id = $2")
                .bind(&target.version)
                .bind(&candidate.id)
                .execute(&mut *tx.tx)
                .await?;
            records.push(audit("installation.upgrade_requested").detail(format!(
                "rollout {}: {} -> {} waits for consent to: {}",
                rollout.id,
                version,
                target.version,
                asks.join(", ")
            )));
            "pending_consent"
        } else if let Err(conflict) = tx
            .claim_commands(
                &candidate.group_id,
                &candidate.id,
                &rollout.app_slug,
                &target.version,
            )
            .await?
        {
            let commands: Vec<String> = conflict
                .clashes
                .iter()
                .map(|c| format!("/{} ({})", c.command, c.owner_app))
                .collect();
            records.push(audit("rollout.skip").detail(format!(
                "rollout {}: {} declares commands another app answers here: {}",
                rollout.id,
                target.version,
                commands.join(", ")
            )));
            "command_conflict"
        } else {
            let kept: Vec<String> = grants
                .iter()
                .filter(|g| target.capabilities.contains(g))
                .cloned()
                .collect();
            sqlx::query(
                "UPDATE installations SET version = $1, grants = $2, pending_version = NULL WHERE id = $3",
            )
            .bind(&target.version)
            .bind(json_list(&kept)?)
            .bind(&candidate.id)
            .execute(&mut *tx.tx)
            .await?;
            records.push(audit("installation.upgrade").detail(format!(
                "rollout {}: {} -> {} with grants [{}]",
                rollout.id,
                version,
                target.version,
                kept.join(", ")
            )));
            "moved"
        }
    };
    sqlx::query(
        "INSERT INTO rollout_installations (rollout_id, installation_id, group_id, status, \
         previous_version, previous_grants, chosen_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&rollout.id)
    .bind(&candidate.id)
    .bind(&candidate.group_id)
    .bind(status)
    .bind(&version)
    .bind(&grants_text)
    .bind(now)
    .execute(&mut *tx.tx)
    .await?;
    Ok(records)
}

/// Roll `rollout` back inside `tx` (see [`Store::roll_back`]), by `by`
/// (`health` when the host does it), with its audit rows (and a log line
/// for the developer when automatic).
async fn roll_back_in(
    tx: &mut WriteTx,
    rollout: &Rollout,
    by: &str,
    automatic: bool,
    reason: &str,
) -> Result<(), StoreError> {
    let rows = sqlx::query(
        "SELECT installation_id, group_id, previous_version, previous_grants \
         FROM rollout_installations WHERE rollout_id = $1 ORDER BY chosen_at, group_id",
    )
    .bind(&rollout.id)
    .fetch_all(&mut *tx.tx)
    .await?;
    let mut audit = Vec::new();
    let mut restored = 0usize;
    for row in &rows {
        let id: String = row.try_get("installation_id")?;
        let group_id: String = row.try_get("group_id")?;
        let previous: String = row.try_get("previous_version")?;
        let previous_grants: String = row.try_get("previous_grants")?;
        tx.lock(&format!("installation:{id}")).await?;
        let now = sqlx::query(
            "SELECT version, pending_version, enabled, disabled_by FROM installations WHERE id = $1",
        )
        .bind(&id)
        .fetch_optional(&mut *tx.tx)
        .await?;
        let Some(now) = now else {
            continue;
        };
        let version: String = now.try_get("version")?;
        let pending: Option<String> = now.try_get("pending_version")?;
        let enabled = now.try_get::<i64, _>("enabled")? != 0;
        let disabled_by: Option<String> = now.try_get("disabled_by")?;
        let record = |action: &str| {
            AuditRecord::decision(action, by)
                .app(&rollout.app_slug, Some(&rollout.version))
                .installation(&id, &group_id)
        };
        if version == rollout.version && previous != rollout.version {
            let mut detail = format!(
                "rollout {}: {} -> {} with grants [{}]",
                rollout.id,
                version,
                previous,
                parse_list(&previous_grants)?.join(", ")
            );
            if let Err(conflict) = tx
                .claim_commands(&group_id, &id, &rollout.app_slug, &previous)
                .await?
            {
                detail.push_str(&format!(
                    "; {} of its commands are answered by another app now",
                    conflict.clashes.len()
                ));
            }
            // The health check disabled it on the new version's faults: the
            // version it goes back to starts clean.
            let re_enable = !enabled && disabled_by.as_deref() == Some("health");
            sqlx::query(
                "UPDATE installations SET version = $1, grants = $2, pending_version = NULL, \
                 enabled = CASE WHEN $3 = 1 THEN 1 ELSE enabled END, \
                 disabled_reason = CASE WHEN $3 = 1 THEN NULL ELSE disabled_reason END, \
                 disabled_by = CASE WHEN $3 = 1 THEN NULL ELSE disabled_by END WHERE id = $4",
            )
            .bind(&previous)
            .bind(&previous_grants)
            .bind(i64::from(re_enable))
            .bind(&id)
            .execute(&mut *tx.tx)
            .await?;
            if re_enable {
                sqlx::query("DELETE FROM invocation_faults WHERE installation_id = $1")
                    .bind(&id)
                    .execute(&mut *tx.tx)
                    .await?;
                detail.push_str("; re-enabled (the health check had disabled it)");
            }
            audit.push(record("installation.rollback").detail(detail));
            restored += 1;
        } else if pending.as_deref() == Some(rollout.version.as_str()) {
            sqlx::query("UPDATE installations SET pending_version = NULL WHERE id = $1")
                .bind(&id)
                .execute(&mut *tx.tx)
                .await?;
            audit.push(record("installation.rollback").detail(format!(
                "rollout {}: the upgrade to {} waiting for consent is withdrawn",
                rollout.id, rollout.version
            )));
        }
    }
    let status = if automatic {
        RolloutStatus::RolledBackAutomatically
    } else {
        RolloutStatus::RolledBack
    };
    let at = now_ms();
    sqlx::query(
        "UPDATE rollouts SET status = $1, ended_at = $2, updated_at = $2, end_reason = $3 WHERE id = $4",
    )
    .bind(status.as_str())
    .bind(at)
    .bind(reason)
    .bind(&rollout.id)
    .execute(&mut *tx.tx)
    .await?;
    let action = if automatic {
        "rollout.auto_rollback"
    } else {
        "rollout.rollback"
    };
    audit.insert(
        0,
        AuditRecord::decision(action, by)
            .app(&rollout.app_slug, Some(&rollout.version))
            .detail(format!(
                "rollout {}: {reason}; {restored} installations back on their previous version",
                rollout.id
            )),
    );
    tx.insert_audit(&audit).await?;
    if automatic {
        tx.insert_logs(&[LogLine {
            at,
            installation_id: None,
            app_slug: rollout.app_slug.clone(),
            app_version: rollout.version.clone(),
            level: "error".into(),
            message: reason.to_string(),
            fields: vec![
                ("code".into(), "rollout_rolled_back".into()),
                ("rollout".into(), rollout.id.clone()),
            ],
        }])
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn share_rounds_up() {
        assert_eq!(share(10, 50), 5);
        assert_eq!(share(10, 1), 1);
        assert_eq!(share(10, 0), 0);
        assert_eq!(share(10, 100), 10);
        assert_eq!(share(3, 50), 2);
        assert_eq!(share(0, 50), 0);
        assert_eq!(share(10, 250), 10);
    }

    #[test]
    fn rank_is_stable_and_depends_on_both_ids() {
        assert_eq!(rank_key("r_1", "i_1"), rank_key("r_1", "i_1"));
        assert_ne!(rank_key("r_1", "i_1"), rank_key("r_2", "i_1"));
        assert_ne!(rank_key("r_1", "i_1"), rank_key("r_1", "i_2"));
    }
}
