//! Forms an app opened for one member, waiting to be submitted. Only that
//! member can read or submit one; for anyone else it does not exist.

use sqlx::Row;

use super::{Store, StoreError, now_ms};

/// A pending (or closed) form.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StoredForm {
    /// Its id (unguessable).
    pub id: String,
    /// The group it was opened in.
    pub group_id: String,
    /// The installation whose `on-submit` receives it.
    pub installation_id: String,
    /// The member it was opened for.
    pub member_id: String,
    /// The form.
    pub form: qun_blocks::Form,
    /// 1 for the first form of a chain, one more for each next form.
    pub step: u8,
    /// Where it came from (for a command's form: `{"command": name}`).
    pub origin: serde_json::Value,
    /// When it was opened (ms).
    pub created_at: i64,
    /// When it can no longer be submitted (ms).
    pub expires_at: i64,
    /// When it was submitted or abandoned (ms).
    pub closed_at: Option<i64>,
}

/// A form to store.
#[derive(Debug, Clone)]
pub struct NewForm {
    /// The group.
    pub group_id: String,
    /// The installation.
    pub installation_id: String,
    /// The member it is for.
    pub member_id: String,
    /// The form.
    pub form: qun_blocks::Form,
    /// Its step.
    pub step: u8,
    /// Where it came from.
    pub origin: serde_json::Value,
    /// How long it stays open (ms).
    pub ttl_ms: i64,
}

fn form_from_row(row: &sqlx::any::AnyRow) -> Result<StoredForm, StoreError> {
    let form: String = row.try_get("form")?;
    let origin: String = row.try_get("origin")?;
    let step: i64 = row.try_get("step")?;
    Ok(StoredForm {
        id: row.try_get("id")?,
        group_id: row.try_get("group_id")?,
        installation_id: row.try_get("installation_id")?,
        member_id: row.try_get("member_id")?,
        form: serde_json::from_str(&form).map_err(|e| StoreError::Corrupt(format!("form: {e}")))?,
        step: u8::try_from(step).unwrap_or(u8::MAX),
        origin: serde_json::from_str(&origin)
            .map_err(|e| StoreError::Corrupt(format!("form origin: {e}")))?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        closed_at: row.try_get("closed_at")?,
    })
}

impl Store {
    /// Store a form opened for one member; its id.
    pub async fn create_form(&self, form: &NewForm) -> Result<StoredForm, StoreError> {
        let id = format!("f_{}", hex::encode(rand::random::<[u8; 16]>()));
        let now = now_ms();
        let json =
            serde_json::to_string(&form.form).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO forms (id, group_id, installation_id, member_id, form, step, origin, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&id)
        .bind(&form.group_id)
        .bind(&form.installation_id)
        .bind(&form.member_id)
        .bind(&json)
        .bind(i64::from(form.step))
        .bind(form.origin.to_string())
        .bind(now)
        .bind(now.saturating_add(form.ttl_ms))
        .execute(&mut *tx.tx)
        .await?;
        tx.commit().await?;
        Ok(StoredForm {
            id,
            group_id: form.group_id.clone(),
            installation_id: form.installation_id.clone(),
            member_id: form.member_id.clone(),
            form: form.form.clone(),
            step: form.step,
            origin: form.origin.clone(),
            created_at: now,
            expires_at: now.saturating_add(form.ttl_ms),
            closed_at: None,
        })
    }

    /// The form `id` of `group_id`, only for the member it was opened for
    /// (closed and expired ones too: the caller decides what they answer).
    pub async fn form(
        &self,
        group_id: &str,
        member_id: &str,
        id: &str,
    ) -> Result<Option<StoredForm>, StoreError> {
        let row = sqlx::query(
            "SELECT id, group_id, installation_id, member_id, form, step, origin, created_at, expires_at, closed_at \
             FROM forms WHERE id = $1 AND group_id = $2 AND member_id = $3",
        )
        .bind(id)
        .bind(group_id)
        .bind(member_id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(form_from_row).transpose()
    }

    /// Close an open form (submitted or abandoned); true if it was open
    /// (so one submission wins when two race).
    pub async fn close_form(&self, id: &str) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let done =
            sqlx::query("UPDATE forms SET closed_at = $1 WHERE id = $2 AND closed_at IS NULL")
                .bind(now_ms())
                .bind(id)
                .execute(&mut *tx.tx)
                .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }
}
