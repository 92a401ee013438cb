//! Platform users and their bearer tokens.

use sha2::{Digest, Sha256};
use sqlx::Row;

use super::{Store, StoreError, flag, new_id, now_ms};

/// A platform user.
#[derive(Debug, Clone, serde::Serialize)]
pub struct User {
    /// The user's id (also their member id in groups).
    pub id: String,
    /// Unique login name, also shown in groups.
    pub name: String,
    /// Platform admin.
    pub is_admin: bool,
    /// May upload apps.
    pub is_developer: bool,
}

fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn user_from_row(row: &sqlx::any::AnyRow) -> Result<User, StoreError> {
    Ok(User {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        is_admin: row.try_get::<i64, _>("is_admin")? != 0,
        is_developer: row.try_get::<i64, _>("is_developer")? != 0,
    })
}

impl Store {
    /// Create a user with the given bearer token (stored hashed).
    pub async fn create_user(
        &self,
        name: &str,
        token: &str,
        is_admin: bool,
        is_developer: bool,
    ) -> Result<User, StoreError> {
        let id = new_id("u");
        sqlx::query(
            "INSERT INTO users (id, name, token_hash, is_admin, is_developer, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&id)
        .bind(name)
        .bind(hash_token(token))
        .bind(flag(is_admin))
        .bind(flag(is_developer))
        .bind(now_ms())
        .execute(self.pool())
        .await?;
        Ok(User {
            id,
            name: name.to_string(),
            is_admin,
            is_developer,
        })
    }

    /// The user a bearer token belongs to.
    pub async fn user_by_token(&self, token: &str) -> Result<Option<User>, StoreError> {
        let row =
            sqlx::query("SELECT id, name, is_admin, is_developer FROM users WHERE token_hash = $1")
                .bind(hash_token(token))
                .fetch_optional(self.pool())
                .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// A user by id.
    pub async fn user(&self, id: &str) -> Result<Option<User>, StoreError> {
        let row = sqlx::query("SELECT id, name, is_admin, is_developer FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// A user by name.
    pub async fn user_by_name(&self, name: &str) -> Result<Option<User>, StoreError> {
        let row = sqlx::query("SELECT id, name, is_admin, is_developer FROM users WHERE name = $1")
            .bind(name)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// Whether any platform admin exists.
    pub async fn admin_exists(&self) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM users WHERE is_admin = 1")
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get::<i64, _>("n")? > 0)
    }
}
