//! Groups and their members.

use sqlx::Row;

use super::{Store, StoreError, new_id, now_ms};

/// A member's role in a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Created the group.
    Owner,
    /// Helps run the group.
    Admin,
    /// Everyone else.
    Member,
}

impl Role {
    /// The role's name as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }

    /// Parse a stored role name.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "owner" => Some(Role::Owner),
            "admin" => Some(Role::Admin),
            "member" => Some(Role::Member),
            _ => None,
        }
    }
}

/// A group.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Group {
    /// The group's id.
    pub id: String,
    /// The group's name.
    pub name: String,
    /// The owner's user id.
    pub owner_id: String,
    /// How many members it has.
    pub member_count: i64,
    /// Its IANA time zone ("UTC" unless the owner set one).
    pub time_zone: String,
    /// Its language, a BCP 47 tag ("en" unless the owner set one).
    pub locale: String,
}

/// A member of a group.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Member {
    /// The user's id.
    pub user_id: String,
    /// The user's name (handle).
    pub name: String,
    /// The name shown to people (the handle when unset).
    pub display_name: String,
    /// Role in the group.
    pub role: Role,
    /// When they joined (ms).
    pub joined_at: i64,
    /// Their profile card, where they set it.
    pub profile: Profile,
}

/// What a member's profile card shows, where the member set it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Profile {
    /// An `https:` address of their picture.
    pub avatar_url: Option<String>,
    /// Their language (BCP 47).
    pub locale: Option<String>,
    /// Their IANA time zone.
    pub time_zone: Option<String>,
}

fn member_from_row(row: &sqlx::any::AnyRow) -> Result<Member, StoreError> {
    let role: String = row.try_get("role")?;
    let name: String = row.try_get("name")?;
    let display_name: Option<String> = row.try_get("display_name")?;
    Ok(Member {
        user_id: row.try_get("user_id")?,
        display_name: display_name.unwrap_or_else(|| name.clone()),
        name,
        role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role {role:?}")))?,
        joined_at: row.try_get("joined_at")?,
        profile: Profile {
            avatar_url: row.try_get("avatar_url")?,
            locale: row.try_get("locale")?,
            time_zone: row.try_get("time_zone")?,
        },
    })
}

impl Store {
    /// Create a group owned by `owner_id`, who becomes its first member.
    pub async fn create_group(&self, name: &str, owner_id: &str) -> Result<Group, StoreError> {
        let id = new_id("g");
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO groups (id, name, owner_id, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&id)
            .bind(name)
            .bind(owner_id)
            .bind(now)
            .execute(&mut *tx.tx)
            .await?;
        sqlx::query(
            "INSERT INTO members (group_id, user_id, role, joined_at) VALUES ($1, $2, 'owner', $3)",
        )
        .bind(&id)
        .bind(owner_id)
        .bind(now)
        .execute(&mut *tx.tx)
        .await?;
        tx.commit().await?;
        Ok(Group {
            id,
            name: name.to_string(),
            owner_id: owner_id.to_string(),
            member_count: 1,
            time_zone: "UTC".into(),
            locale: "en".into(),
        })
    }

    /// A group by id.
    pub async fn group(&self, id: &str) -> Result<Option<Group>, StoreError> {
        let row = sqlx::query(
            "SELECT g.id, g.name, g.owner_id, g.time_zone, g.locale, \
             (SELECT COUNT(*) FROM members m WHERE m.group_id = g.id) AS member_count \
             FROM groups g WHERE g.id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.map(|row| {
            Ok(Group {
                id: row.try_get("id")?,
                name: row.try_get("name")?,
                owner_id: row.try_get("owner_id")?,
                member_count: row.try_get("member_count")?,
                time_zone: row.try_get("time_zone")?,
                locale: row.try_get("locale")?,
            })
        })
        .transpose()
    }

    /// Add `user_id` to a group (or change their role if already a member).
    pub async fn add_member(
        &self,
        group_id: &str,
        user_id: &str,
        role: Role,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO members (group_id, user_id, role, joined_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (group_id, user_id) DO UPDATE SET role = excluded.role",
        )
        .bind(group_id)
        .bind(user_id)
        .bind(role.as_str())
        .bind(now_ms())
        .execute(self.pool())
        .await?;
        self.cache_changed().await
    }

    /// Remove a member; true if they were one.
    pub async fn remove_member(&self, group_id: &str, user_id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "DELETE FROM members WHERE group_id = $1 AND user_id = $2 AND role <> 'owner'",
        )
        .bind(group_id)
        .bind(user_id)
        .execute(self.pool())
        .await?;
        if done.rows_affected() > 0 {
            self.cache_changed().await?;
        }
        Ok(done.rows_affected() > 0)
    }

    /// One member of a group, if `user_id` is a member (cached: see
    /// `store::cache`).
    pub async fn member(
        &self,
        group_id: &str,
        user_id: &str,
    ) -> Result<Option<Member>, StoreError> {
        let ticket = match self.cache().member(group_id, user_id) {
            Ok(member) => return Ok(Some(member)),
            Err(ticket) => ticket,
        };
        let row = sqlx::query(
            "SELECT m.user_id, u.name, u.display_name, m.role, m.joined_at, u.avatar_url, u.locale, u.time_zone FROM members m JOIN users u ON u.id = m.user_id \
             WHERE m.group_id = $1 AND m.user_id = $2",
        )
        .bind(group_id)
        .bind(user_id)
        .fetch_optional(self.pool())
        .await?;
        let member = row.as_ref().map(member_from_row).transpose()?;
        if let Some(member) = &member {
            self.cache().put_member(ticket, group_id, member.clone());
        }
        Ok(member)
    }

    /// Members of a group ordered by user id, `limit` after `cursor`.
    pub async fn members(
        &self,
        group_id: &str,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Member>, StoreError> {
        let rows = sqlx::query(
            "SELECT m.user_id, u.name, u.display_name, m.role, m.joined_at, u.avatar_url, u.locale, u.time_zone FROM members m JOIN users u ON u.id = m.user_id \
             WHERE m.group_id = $1 AND m.user_id > $2 ORDER BY m.user_id LIMIT CAST($3 AS BIGINT)",
        )
        .bind(group_id)
        .bind(cursor.unwrap_or(""))
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(member_from_row).collect()
    }

    /// Groups `user_id` is a member of.
    pub async fn groups_of(&self, user_id: &str) -> Result<Vec<Group>, StoreError> {
        let rows = sqlx::query("SELECT group_id FROM members WHERE user_id = $1 ORDER BY group_id")
            .bind(user_id)
            .fetch_all(self.pool())
            .await?;
        let mut groups = Vec::new();
        for row in rows {
            let id: String = row.try_get("group_id")?;
            if let Some(group) = self.group(&id).await? {
                groups.push(group);
            }
        }
        Ok(groups)
    }
}

/// What a group's owner or admins change about it; `None` keeps a setting.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupSettings {
    /// A new name.
    pub name: Option<String>,
    /// A new IANA time zone (checked by the caller).
    pub time_zone: Option<String>,
    /// A new language, a BCP 47 tag (checked by the caller).
    pub locale: Option<String>,
}

impl Store {
    /// Change a group's name, time zone or language; the group as it now
    /// is, or `None` when there is no such group.
    pub async fn update_group(
        &self,
        id: &str,
        settings: &GroupSettings,
    ) -> Result<Option<Group>, StoreError> {
        sqlx::query(
            "UPDATE groups SET name = COALESCE($1, name), time_zone = COALESCE($2, time_zone), \
             locale = COALESCE($3, locale) WHERE id = $4",
        )
        .bind(settings.name.clone())
        .bind(settings.time_zone.clone())
        .bind(settings.locale.clone())
        .bind(id)
        .execute(self.pool())
        .await?;
        self.cache_changed().await?;
        self.group(id).await
    }
}
