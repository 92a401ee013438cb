//! What the API returns: plain JSON shapes, decoupled from the store's rows.

use serde::Serialize;
use utoipa::ToSchema;

use crate::store::{App, AppVersion, Group, Installation, Member, StoredMessage, User};

/// A platform user.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    /// Id (also the member id in groups).
    pub id: String,
    /// Unique name.
    pub name: String,
    /// Platform admin.
    pub admin: bool,
    /// May upload apps.
    pub developer: bool,
}

impl From<User> for UserView {
    fn from(u: User) -> UserView {
        UserView {
            id: u.id,
            name: u.name,
            admin: u.is_admin,
            developer: u.is_developer,
        }
    }
}

/// A group.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupView {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// The owner's user id.
    pub owner_id: String,
    /// Number of members.
    pub member_count: i64,
}

impl From<Group> for GroupView {
    fn from(g: Group) -> GroupView {
        GroupView {
            id: g.id,
            name: g.name,
            owner_id: g.owner_id,
            member_count: g.member_count,
        }
    }
}

/// A member of a group.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberView {
    /// User id.
    pub user_id: String,
    /// User name.
    pub name: String,
    /// `owner`, `admin` or `member`.
    pub role: String,
    /// When they joined (ms since the epoch).
    pub joined_at: i64,
}

impl From<Member> for MemberView {
    fn from(m: Member) -> MemberView {
        MemberView {
            user_id: m.user_id,
            name: m.name,
            role: m.role.as_str().to_string(),
            joined_at: m.joined_at,
        }
    }
}

/// A message in a group's timeline.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MessageView {
    /// Position in the group's timeline (also the stream's event id).
    pub id: i64,
    /// The group.
    pub group_id: String,
    /// The member who wrote it (none when an app posted it).
    pub user_id: Option<String>,
    /// The installation (app) that posted it.
    pub installation_id: Option<String>,
    /// Text.
    pub text: Option<String>,
    /// A card with a title, fields and buttons.
    #[schema(value_type = Option<Object>)]
    pub card: Option<serde_json::Value>,
    /// When (ms since the epoch).
    pub created_at: i64,
}

impl From<StoredMessage> for MessageView {
    fn from(m: StoredMessage) -> MessageView {
        MessageView {
            id: m.id,
            group_id: m.group_id,
            user_id: m.user_id,
            installation_id: m.installation_id,
            text: m.text,
            card: m.card,
            created_at: m.created_at,
        }
    }
}

/// An uploaded version of an app.
#[derive(Debug, Serialize, ToSchema)]
pub struct VersionView {
    /// Semver, as the component's `describe` reports it.
    pub version: String,
    /// sha256 of the component, hex.
    pub sha256: String,
    /// Capabilities it asks for (read from its imports).
    pub capabilities: Vec<String>,
    /// Commands it answers (`/word`).
    pub commands: Vec<String>,
    /// Actions it answers.
    pub actions: Vec<String>,
    /// Review status: `pending`, `approved`, `rejected`.
    pub status: String,
    /// The reviewer's reason (always given for a rejection).
    pub review_reason: Option<String>,
    /// When it was reviewed (ms since the epoch).
    pub reviewed_at: Option<i64>,
    /// Upload time (ms since the epoch).
    pub created_at: i64,
}

/// Names listed under `key` (`commands`, `actions`) in a stored manifest.
pub fn manifest_names(manifest: &serde_json::Value, key: &str) -> Vec<String> {
    manifest[key]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

impl From<AppVersion> for VersionView {
    fn from(v: AppVersion) -> VersionView {
        VersionView {
            commands: manifest_names(&v.manifest, "commands"),
            actions: manifest_names(&v.manifest, "actions"),
            version: v.version,
            sha256: v.sha256,
            capabilities: v.capabilities,
            status: v.status.as_str().to_string(),
            review_reason: v.review_reason,
            reviewed_at: v.reviewed_at,
            created_at: v.created_at,
        }
    }
}

/// An app and its versions.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppView {
    /// Unique short name, used in URLs.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// What it does.
    pub description: String,
    /// The developer who owns it.
    pub developer_id: String,
    /// Whether a platform admin suspended it everywhere.
    pub suspended: bool,
    /// Why it was suspended.
    pub suspend_reason: Option<String>,
    /// Versions, newest first.
    pub versions: Vec<VersionView>,
}

impl AppView {
    /// An app with its versions.
    pub fn new(app: App, versions: Vec<AppVersion>) -> AppView {
        AppView {
            slug: app.slug,
            name: app.name,
            description: app.description,
            developer_id: app.developer_id,
            suspended: app.suspended_at.is_some(),
            suspend_reason: app.suspend_reason,
            versions: versions.into_iter().map(VersionView::from).collect(),
        }
    }
}

/// An app installed in a group.
#[derive(Debug, Serialize, ToSchema)]
pub struct InstallationView {
    /// Installation id.
    pub id: String,
    /// The app's slug.
    pub app: String,
    /// The version that runs.
    pub version: String,
    /// Capabilities the group granted.
    pub grants: Vec<String>,
    /// Whether it runs.
    pub enabled: bool,
    /// Why it is disabled (e.g. disabled automatically after repeated failures).
    pub disabled_reason: Option<String>,
    /// Who disabled it: `health` (automatically) or a user id.
    pub disabled_by: Option<String>,
    /// A newer version waiting for the owner's consent to new capabilities.
    pub pending_version: Option<String>,
    /// The capabilities the pending version newly asks for (what consent is
    /// needed for), with what each allows.
    pub pending_capabilities: Vec<String>,
    /// Commands it answers in this group.
    pub commands: Vec<String>,
    /// Actions it answers.
    pub actions: Vec<String>,
}

impl InstallationView {
    /// An installation with the commands of its version.
    pub fn new(inst: Installation, version: Option<&AppVersion>) -> InstallationView {
        let manifest = version.map(|v| v.manifest.clone()).unwrap_or_default();
        InstallationView {
            id: inst.id,
            app: inst.app_slug,
            version: inst.version,
            grants: inst.grants,
            enabled: inst.enabled,
            disabled_reason: inst.disabled_reason,
            disabled_by: inst.disabled_by,
            pending_version: inst.pending_version,
            pending_capabilities: Vec::new(),
            commands: manifest_names(&manifest, "commands"),
            actions: manifest_names(&manifest, "actions"),
        }
    }
}
