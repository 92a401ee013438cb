//! Bearer tokens with a lifecycle (issue 11 item 7): named, scoped, with an
//! optional expiry, revocable; and users a platform admin can disable. Every
//! request checks its token against the cache of tokens that worked, which
//! every revocation or disabling drops on every host sharing the database
//! (`store::cache`); the expiry is checked on every request.

use sqlx::Row;

use super::users::{hash_token, user_from_row};
use super::{AuditRecord, Store, StoreError, User, new_id, now_ms};

/// What a token lets its holder do.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum TokenScope {
    /// Everything the user may do.
    Full,
    /// Uploading versions of the user's apps (and reading them): for the CLI.
    Publish,
}

impl TokenScope {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenScope::Full => "full",
            TokenScope::Publish => "publish",
        }
    }

    fn parse(name: &str) -> TokenScope {
        if name == "publish" {
            TokenScope::Publish
        } else {
            TokenScope::Full
        }
    }
}

/// A token as its owner sees it (never the secret).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct TokenInfo {
    /// Id, e.g. `t_3f9c…`.
    pub id: String,
    /// Its owner.
    pub user_id: String,
    /// The owner's name for it.
    pub name: String,
    /// What it allows.
    pub scope: TokenScope,
    /// When it was made (ms since the epoch).
    pub created_at: i64,
    /// When it stops working (ms), if ever.
    pub expires_at: Option<i64>,
    /// When it was revoked (ms).
    pub revoked_at: Option<i64>,
}

/// What a bearer token resolves to.
#[derive(Debug)]
pub enum Authenticated {
    /// A valid token of an enabled user.
    Ok(User, TokenInfo),
    /// No such token.
    Unknown,
    /// The token was revoked.
    Revoked,
    /// The token is past its expiry.
    Expired,
    /// The token's user is disabled.
    Disabled,
}

const TOKEN_COLUMNS: &str = "id, user_id, name, scope, created_at, expires_at, revoked_at";

fn token_from_row(row: &sqlx::any::AnyRow) -> Result<TokenInfo, StoreError> {
    Ok(TokenInfo {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        name: row.try_get("name")?,
        scope: TokenScope::parse(&row.try_get::<String, _>("scope")?),
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

impl Store {
    /// Resolve a bearer token, with why it does not work when it does not.
    /// A token that worked is cached (see `store::cache`); its expiry is
    /// checked on every use.
    pub async fn authenticate(&self, token: &str) -> Result<Authenticated, StoreError> {
        let hash = hash_token(token);
        let ticket = match self.cache().token(&hash) {
            Ok((_, info)) if info.expires_at.is_some_and(|at| at <= now_ms()) => {
                return Ok(Authenticated::Expired);
            }
            Ok((user, info)) => return Ok(Authenticated::Ok(user, info)),
            Err(ticket) => ticket,
        };
        let row = sqlx::query(
            "SELECT t.id AS t_id, t.name AS t_name, t.scope, t.created_at AS t_created_at, \
             t.expires_at, t.revoked_at, u.id, u.name, u.display_name, u.is_admin, \
             u.is_developer, u.disabled_at \
             FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1",
        )
        .bind(&hash)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else {
            return Ok(Authenticated::Unknown);
        };
        let user = user_from_row(&row)?;
        let info = TokenInfo {
            id: row.try_get("t_id")?,
            user_id: user.id.clone(),
            name: row.try_get("t_name")?,
            scope: TokenScope::parse(&row.try_get::<String, _>("scope")?),
            created_at: row.try_get("t_created_at")?,
            expires_at: row.try_get("expires_at")?,
            revoked_at: row.try_get("revoked_at")?,
        };
        let disabled: Option<i64> = row.try_get("disabled_at")?;
        Ok(if info.revoked_at.is_some() {
            Authenticated::Revoked
        } else if disabled.is_some() {
            Authenticated::Disabled
        } else if info.expires_at.is_some_and(|at| at <= now_ms()) {
            Authenticated::Expired
        } else {
            self.cache()
                .put_token(ticket, hash, (user.clone(), info.clone()));
            Authenticated::Ok(user, info)
        })
    }

    /// Add a token for `user_id` (the secret is stored hashed), audited as
    /// decided by `actor`.
    pub async fn create_token(
        &self,
        user_id: &str,
        name: &str,
        token: &str,
        scope: TokenScope,
        expires_at: Option<i64>,
        actor: &str,
    ) -> Result<TokenInfo, StoreError> {
        let info = TokenInfo {
            id: new_id("t"),
            user_id: user_id.to_string(),
            name: name.to_string(),
            scope,
            created_at: now_ms(),
            expires_at,
            revoked_at: None,
        };
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO tokens (id, user_id, name, token_hash, scope, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&info.id)
        .bind(user_id)
        .bind(name)
        .bind(hash_token(token))
        .bind(scope.as_str())
        .bind(info.created_at)
        .bind(expires_at)
        .execute(&mut *tx.tx)
        .await?;
        let detail = format!(
            "token {} ({:?}, scope {}, expires {}) of {user_id}",
            info.id,
            name,
            scope.as_str(),
            expires_at.map_or("never".to_string(), |at| at.to_string())
        );
        tx.insert_audit(&[AuditRecord::decision("token.create", actor).detail(detail)])
            .await?;
        tx.commit().await?;
        Ok(info)
    }

    /// A user's tokens, newest first (revoked ones included).
    pub async fn tokens_of(&self, user_id: &str) -> Result<Vec<TokenInfo>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {TOKEN_COLUMNS} FROM tokens WHERE user_id = $1 ORDER BY created_at DESC, id"
        )))
        .bind(user_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(token_from_row).collect()
    }

    /// Revoke `user_id`'s token `token_id`; `None` when they have no such
    /// token, else the token (already revoked ones unchanged).
    pub async fn revoke_token(
        &self,
        user_id: &str,
        token_id: &str,
        actor: &str,
    ) -> Result<Option<TokenInfo>, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
        )
        .bind(now_ms())
        .bind(token_id)
        .bind(user_id)
        .execute(&mut *tx.tx)
        .await?
        .rows_affected();
        if done > 0 {
            tx.invalidate_cache().await?;
            let detail = format!("token {token_id} of {user_id}");
            tx.insert_audit(&[AuditRecord::decision("token.revoke", actor).detail(detail)])
                .await?;
        }
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {TOKEN_COLUMNS} FROM tokens WHERE id = $1 AND user_id = $2"
        )))
        .bind(token_id)
        .bind(user_id)
        .fetch_optional(&mut *tx.tx)
        .await?;
        tx.commit().await?;
        row.as_ref().map(token_from_row).transpose()
    }

    /// Revoke every token of `user_id` (a platform admin's decision);
    /// returns how many were still valid.
    pub async fn revoke_tokens_of(&self, user_id: &str, actor: &str) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let revoked = sqlx::query(
            "UPDATE tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
        )
        .bind(now_ms())
        .bind(user_id)
        .execute(&mut *tx.tx)
        .await?
        .rows_affected();
        if revoked > 0 {
            tx.invalidate_cache().await?;
        }
        let detail = format!("{revoked} tokens of {user_id}");
        tx.insert_audit(&[AuditRecord::decision("token.revoke_all", actor).detail(detail)])
            .await?;
        tx.commit().await?;
        Ok(revoked)
    }

    /// Disable (or enable again) `user_id`: a disabled user's tokens are all
    /// refused. Returns whether anything changed.
    pub async fn set_user_disabled(
        &self,
        user_id: &str,
        disabled: bool,
        reason: Option<&str>,
        actor: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let query = if disabled {
            sqlx::query("UPDATE users SET disabled_at = $1 WHERE id = $2 AND disabled_at IS NULL")
                .bind(now_ms())
                .bind(user_id)
        } else {
            sqlx::query(
                "UPDATE users SET disabled_at = NULL WHERE id = $1 AND disabled_at IS NOT NULL",
            )
            .bind(user_id)
        };
        let changed = query.execute(&mut *tx.tx).await?.rows_affected() > 0;
        if changed {
            tx.invalidate_cache().await?;
            let action = if disabled {
                "user.disable"
            } else {
                "user.enable"
            };
            let mut detail = user_id.to_string();
            if let Some(reason) = reason {
                detail.push_str(": ");
                detail.push_str(reason);
            }
            tx.insert_audit(&[AuditRecord::decision(action, actor).detail(detail)])
                .await?;
        }
        tx.commit().await?;
        Ok(changed)
    }

    /// Whether `user_id` is disabled.
    pub async fn user_disabled(&self, user_id: &str) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT disabled_at FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(self.pool())
            .await?;
        Ok(match row {
            Some(row) => row.try_get::<Option<i64>, _>("disabled_at")?.is_some(),
            None => false,
        })
    }
}
