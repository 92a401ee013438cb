//! Typed manifests: the commands and subscriptions each version declares,
//! and which installation answers which command in a group (issue 10 items
//! 4 and 5). Routing a command and fanning out `message-posted` read these
//! rows with one indexed query; no manifest JSON is parsed on those paths.

use sqlx::Row;

use super::{Store, StoreError, WriteTx};

/// A command of a version that another installed app of the group already
/// answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandClash {
    /// The command (without the slash).
    pub command: String,
    /// The app that answers it in the group.
    pub owner_app: String,
    /// Its installation.
    pub owner_installation: String,
}

/// Why an install or upgrade cannot take its version's commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandConflict {
    /// The app being installed or upgraded.
    pub app: String,
    /// At this version.
    pub version: String,
    /// Each command already owned by another app.
    pub clashes: Vec<CommandClash>,
}

/// Where a command typed in a group goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandRoute {
    /// The installation that answers it.
    pub installation_id: String,
    /// Its app.
    pub app_slug: String,
    /// Whether it is enabled.
    pub enabled: bool,
    /// Its typed options (none for a `qun:app@0.1.0` app, whose commands
    /// parse their own arguments).
    pub options: Vec<qun_blocks::CommandOption>,
    /// The group's time zone, which typed times are read in (empty: unset).
    pub time_zone: String,
}

/// Who answers a command in a group (for `GET /v1/groups/{gid}/commands`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GroupCommand {
    /// The command (without the slash).
    pub command: String,
    /// Its help line.
    pub description: String,
    /// The app that answers it.
    pub app: String,
    /// The app's installation.
    pub installation_id: String,
    /// The installed version.
    pub version: String,
    /// Whether the installation is enabled (a disabled app's command answers nothing).
    pub enabled: bool,
    /// Its typed options.
    pub options: Vec<qun_blocks::CommandOption>,
}

/// Typed options as stored in `version_commands.options`.
fn options_from(json: Option<String>) -> Result<Vec<qun_blocks::CommandOption>, StoreError> {
    match json {
        Some(json) => serde_json::from_str(&json)
            .map_err(|e| StoreError::Corrupt(format!("command options: {e}"))),
        None => Ok(Vec::new()),
    }
}

/// A command's name, help and typed options (JSON; `None` without options).
type Declared = (String, String, Option<String>);

/// (name, help, options) of each command in a stored manifest, and its
/// subscriptions. Read once, when a version is stored.
fn declared(manifest: &serde_json::Value) -> (Vec<Declared>, Vec<String>) {
    let mut seen = std::collections::HashSet::new();
    let commands = manifest["commands"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|c| {
                    let name = c["name"].as_str()?;
                    let help = c["description"].as_str().unwrap_or_default();
                    let options = c["options"]
                        .as_array()
                        .filter(|o| !o.is_empty())
                        .map(|o| serde_json::Value::from(o.clone()).to_string());
                    seen.insert(name)
                        .then(|| (name.to_string(), help.to_string(), options))
                })
                .collect()
        })
        .unwrap_or_default();
    let mut subscriptions: Vec<String> = manifest["subscriptions"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    subscriptions.sort();
    subscriptions.dedup();
    (commands, subscriptions)
}

const CLASHES: &str = "SELECT vc.command, o.app_slug, o.id FROM version_commands vc \
     JOIN installation_commands ic ON ic.group_id = $1 AND ic.command = vc.command \
     JOIN installations o ON o.id = ic.installation_id \
     WHERE vc.app_slug = $2 AND vc.version = $3 AND o.app_slug <> $2 \
     ORDER BY vc.command";

fn clashes_from(rows: &[sqlx::any::AnyRow]) -> Result<Vec<CommandClash>, StoreError> {
    rows.iter()
        .map(|row| {
            Ok(CommandClash {
                command: row.try_get(0)?,
                owner_app: row.try_get(1)?,
                owner_installation: row.try_get(2)?,
            })
        })
        .collect()
}

impl WriteTx {
    /// Store the typed rows of a version's manifest (with the version).
    pub(crate) async fn insert_declarations(
        &mut self,
        app_slug: &str,
        version: &str,
        manifest: &serde_json::Value,
    ) -> Result<(), StoreError> {
        let (commands, subscriptions) = declared(manifest);
        for (command, help, options) in commands {
            sqlx::query(
                "INSERT INTO version_commands (app_slug, version, command, description, options) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(app_slug)
            .bind(version)
            .bind(command)
            .bind(help)
            .bind(options)
            .execute(&mut *self.tx)
            .await?;
        }
        for subscription in subscriptions {
            sqlx::query(
                "INSERT INTO version_subscriptions (app_slug, version, subscription) VALUES ($1, $2, $3)",
            )
            .bind(app_slug)
            .bind(version)
            .bind(subscription)
            .execute(&mut *self.tx)
            .await?;
        }
        Ok(())
    }

    /// Give the installation `installation_id` of `app_slug` the commands of
    /// `version` in its group (dropping those of its previous version), or
    /// answer which ones another installed app already owns. Claims in one
    /// group are serialised, so two concurrent installs cannot both take a
    /// command.
    pub(crate) async fn claim_commands(
        &mut self,
        group_id: &str,
        installation_id: &str,
        app_slug: &str,
        version: &str,
    ) -> Result<Result<(), CommandConflict>, StoreError> {
        self.lock(&format!("commands:{group_id}")).await?;
        let rows = sqlx::query(CLASHES)
            .bind(group_id)
            .bind(app_slug)
            .bind(version)
            .fetch_all(&mut *self.tx)
            .await?;
        let clashes = clashes_from(&rows)?;
        if !clashes.is_empty() {
            return Ok(Err(CommandConflict {
                app: app_slug.to_string(),
                version: version.to_string(),
                clashes,
            }));
        }
        sqlx::query("DELETE FROM installation_commands WHERE installation_id = $1")
            .bind(installation_id)
            .execute(&mut *self.tx)
            .await?;
        sqlx::query(
            "INSERT INTO installation_commands (group_id, command, installation_id) \
             SELECT $1, command, $2 FROM version_commands WHERE app_slug = $3 AND version = $4",
        )
        .bind(group_id)
        .bind(installation_id)
        .bind(app_slug)
        .bind(version)
        .execute(&mut *self.tx)
        .await?;
        Ok(Ok(()))
    }
}

impl Store {
    /// The commands of `app_slug` at `version` that other apps installed in
    /// the group already answer (empty: it may be installed there).
    pub async fn command_clashes(
        &self,
        group_id: &str,
        app_slug: &str,
        version: &str,
    ) -> Result<Vec<CommandClash>, StoreError> {
        let rows = sqlx::query(CLASHES)
            .bind(group_id)
            .bind(app_slug)
            .bind(version)
            .fetch_all(self.pool())
            .await?;
        clashes_from(&rows)
    }

    /// Who answers `/command` in a group: one indexed lookup.
    pub async fn route_command(
        &self,
        group_id: &str,
        command: &str,
    ) -> Result<Option<CommandRoute>, StoreError> {
        let row = sqlx::query(
            "SELECT i.id, i.app_slug, i.enabled, vc.options, g.time_zone FROM installation_commands ic \
             JOIN installations i ON i.id = ic.installation_id \
             JOIN groups g ON g.id = ic.group_id \
             LEFT JOIN version_commands vc ON vc.app_slug = i.app_slug AND vc.version = i.version \
                  AND vc.command = ic.command \
             WHERE ic.group_id = $1 AND ic.command = $2",
        )
        .bind(group_id)
        .bind(command)
        .fetch_optional(self.pool())
        .await?;
        row.map(|row| {
            Ok(CommandRoute {
                installation_id: row.try_get(0)?,
                app_slug: row.try_get(1)?,
                enabled: row.try_get::<i64, _>(2)? != 0,
                options: options_from(row.try_get(3)?)?,
                time_zone: row.try_get(4)?,
            })
        })
        .transpose()
    }

    /// Every command answered in a group, by name, with the app answering it.
    pub async fn group_commands(&self, group_id: &str) -> Result<Vec<GroupCommand>, StoreError> {
        let rows = sqlx::query(
            "SELECT ic.command, COALESCE(vc.description, '') AS description, i.app_slug, i.id, i.version, i.enabled, vc.options \
             FROM installation_commands ic \
             JOIN installations i ON i.id = ic.installation_id \
             LEFT JOIN version_commands vc ON vc.app_slug = i.app_slug AND vc.version = i.version \
                  AND vc.command = ic.command \
             WHERE ic.group_id = $1 ORDER BY ic.command",
        )
        .bind(group_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(GroupCommand {
                    command: row.try_get(0)?,
                    description: row.try_get(1)?,
                    app: row.try_get(2)?,
                    installation_id: row.try_get(3)?,
                    version: row.try_get(4)?,
                    enabled: row.try_get::<i64, _>(5)? != 0,
                    options: options_from(row.try_get(6)?)?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::declared;
    use serde_json::json;

    #[test]
    fn declarations_are_read_from_a_stored_manifest() {
        let manifest = json!({
            "commands": [{"name": "poll", "description": "Ask"}, {"bad": 1}],
            "subscriptions": ["message-posted", "message-posted"],
        });
        let (commands, subscriptions) = declared(&manifest);
        assert_eq!(
            commands,
            vec![("poll".to_string(), "Ask".to_string(), None)]
        );
        assert_eq!(subscriptions, vec!["message-posted".to_string()]);
        assert_eq!(declared(&json!({})), (Vec::new(), Vec::new()));
    }
}
