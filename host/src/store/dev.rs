//! Developer mode (issue 16): which installations follow their app's newest
//! upload. The rules (only the app's developer, only in a group they own)
//! are checked by the HTTP layer before an installation is marked.

use sqlx::Row;

use super::{Installation, Store, StoreError, now_ms};

impl Store {
    /// Mark `installation_id` as the developer's test installation.
    pub async fn mark_dev_installation(
        &self,
        installation_id: &str,
        developer_id: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO dev_installations (installation_id, developer_id, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (installation_id) DO NOTHING",
        )
        .bind(installation_id)
        .bind(developer_id)
        .bind(now_ms())
        .execute(&mut *tx.tx)
        .await?;
        tx.commit().await
    }

    /// The developer of `installation_id` when it is in developer mode.
    pub async fn dev_installation_developer(
        &self,
        installation_id: &str,
    ) -> Result<Option<String>, StoreError> {
        let row =
            sqlx::query("SELECT developer_id FROM dev_installations WHERE installation_id = $1")
                .bind(installation_id)
                .fetch_optional(self.pool())
                .await?;
        Ok(row.map(|r| r.try_get("developer_id")).transpose()?)
    }

    /// Make the pending timer `key` of `installation_id` due now (the
    /// delivery loop fires it on its next pass); false if there is none.
    pub async fn fire_timer_now(
        &self,
        installation_id: &str,
        key: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let done =
            sqlx::query("UPDATE timers SET due_at = $1 WHERE installation_id = $2 AND key = $3")
                .bind(now_ms())
                .bind(installation_id)
                .bind(key)
                .execute(&mut *tx.tx)
                .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    /// The installations of `app_slug` in developer mode, with their developer.
    pub async fn dev_installations(
        &self,
        app_slug: &str,
    ) -> Result<Vec<(Installation, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT d.installation_id, d.developer_id FROM dev_installations d \
             JOIN installations i ON i.id = d.installation_id WHERE i.app_slug = $1",
        )
        .bind(app_slug)
        .fetch_all(self.pool())
        .await?;
        let mut out = Vec::new();
        for row in rows {
            let id: String = row.try_get("installation_id")?;
            if let Some(inst) = self.installation(&id).await? {
                out.push((inst, row.try_get("developer_id")?));
            }
        }
        Ok(out)
    }
}
