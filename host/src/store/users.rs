//! Platform users and their bearer tokens.

use sha2::{Digest, Sha256};
use sqlx::Row;

use super::{Profile, Store, StoreError, flag, new_id, now_ms};

/// A platform user.
#[derive(Debug, Clone, serde::Serialize)]
pub struct User {
    /// The user's id (also their member id in groups).
    pub id: String,
    /// Unique handle (login name).
    pub name: String,
    /// The name shown to people (free text); the handle when unset.
    pub display_name: Option<String>,
    /// Platform admin.
    pub is_admin: bool,
    /// May upload apps.
    pub is_developer: bool,
}

pub(super) fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub(super) fn user_from_row(row: &sqlx::any::AnyRow) -> Result<User, StoreError> {
    Ok(User {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        display_name: row.try_get("display_name")?,
        is_admin: row.try_get::<i64, _>("is_admin")? != 0,
        is_developer: row.try_get::<i64, _>("is_developer")? != 0,
    })
}

impl Store {
    /// Create a user with the given bearer token (stored hashed), their
    /// first named token (`initial`, full scope, no expiry).
    pub async fn create_user(
        &self,
        name: &str,
        token: &str,
        is_admin: bool,
        is_developer: bool,
    ) -> Result<User, StoreError> {
        let id = new_id("u");
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO users (id, name, token_hash, is_admin, is_developer, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&id)
        .bind(name)
        .bind(hash_token(token))
        .bind(flag(is_admin))
        .bind(flag(is_developer))
        .bind(now)
        .execute(&mut *tx.tx)
        .await?;
        sqlx::query(
            "INSERT INTO tokens (id, user_id, name, token_hash, scope, created_at) \
             VALUES ($1, $2, 'initial', $3, 'full', $4)",
        )
        .bind(new_id("t"))
        .bind(&id)
        .bind(hash_token(token))
        .bind(now)
        .execute(&mut *tx.tx)
        .await?;
        tx.commit().await?;
        Ok(User {
            id,
            name: name.to_string(),
            display_name: None,
            is_admin,
            is_developer,
        })
    }

    /// The user a bearer token belongs to, while it works (not revoked or
    /// expired, the user not disabled).
    pub async fn user_by_token(&self, token: &str) -> Result<Option<User>, StoreError> {
        Ok(match self.authenticate(token).await? {
            super::tokens::Authenticated::Ok(user, _) => Some(user),
            _ => None,
        })
    }

    /// A user by id.
    pub async fn user(&self, id: &str) -> Result<Option<User>, StoreError> {
        let row = sqlx::query(
            "SELECT id, name, display_name, is_admin, is_developer FROM users WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// A user by name.
    pub async fn user_by_name(&self, name: &str) -> Result<Option<User>, StoreError> {
        let row = sqlx::query(
            "SELECT id, name, display_name, is_admin, is_developer FROM users WHERE name = $1",
        )
        .bind(name)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// Set (or clear) a user's display name.
    pub async fn set_display_name(
        &self,
        user_id: &str,
        display_name: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE users SET display_name = $1 WHERE id = $2")
            .bind(display_name)
            .bind(user_id)
            .execute(self.pool())
            .await?;
        self.cache_changed().await
    }

    /// Whether any platform admin exists.
    pub async fn admin_exists(&self) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM users WHERE is_admin = 1")
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get::<i64, _>("n")? > 0)
    }
}

/// A change to a member's profile card. For each field, `None` keeps it,
/// `Some(None)` clears it and `Some(Some(value))` sets it (values checked by
/// the caller).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileChange {
    /// An `https:` address of their picture.
    pub avatar_url: Option<Option<String>>,
    /// Their language (BCP 47).
    pub locale: Option<Option<String>>,
    /// Their IANA time zone.
    pub time_zone: Option<Option<String>>,
}

impl Store {
    /// A user's profile card; `None` when there is no such user.
    pub async fn profile(&self, user_id: &str) -> Result<Option<Profile>, StoreError> {
        let row = sqlx::query("SELECT avatar_url, locale, time_zone FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(self.pool())
            .await?;
        row.map(|row| {
            Ok(Profile {
                avatar_url: row.try_get("avatar_url")?,
                locale: row.try_get("locale")?,
                time_zone: row.try_get("time_zone")?,
            })
        })
        .transpose()
    }

    /// Change a user's profile card in one statement (two changes of
    /// different fields at once both hold); the card as it now is.
    pub async fn update_profile(
        &self,
        user_id: &str,
        change: &ProfileChange,
    ) -> Result<Option<Profile>, StoreError> {
        let given = |field: &Option<Option<String>>| i64::from(field.is_some());
        let value = |field: &Option<Option<String>>| field.clone().flatten();
        sqlx::query(
            "UPDATE users SET \
             avatar_url = CASE WHEN $1 = 1 THEN $2 ELSE avatar_url END, \
             locale = CASE WHEN $3 = 1 THEN $4 ELSE locale END, \
             time_zone = CASE WHEN $5 = 1 THEN $6 ELSE time_zone END \
             WHERE id = $7",
        )
        .bind(given(&change.avatar_url))
        .bind(value(&change.avatar_url))
        .bind(given(&change.locale))
        .bind(value(&change.locale))
        .bind(given(&change.time_zone))
        .bind(value(&change.time_zone))
        .bind(user_id)
        .execute(self.pool())
        .await?;
        self.cache_changed().await?;
        self.profile(user_id).await
    }
}
