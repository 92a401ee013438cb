//! What the API returns: plain JSON shapes, decoupled from the store's rows.

use std::collections::HashMap;

use serde::Serialize;
use utoipa::ToSchema;

use crate::store::{App, AppVersion, Group, Installation, Member, Profile, StoredMessage, User};

/// A platform user.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    /// Id (also the member id in groups).
    pub id: String,
    /// Unique handle (login name).
    pub name: String,
    /// The name shown to people (the handle when unset).
    pub display_name: String,
    /// Platform admin.
    pub admin: bool,
    /// May upload apps.
    pub developer: bool,
}

impl From<User> for UserView {
    fn from(u: User) -> UserView {
        UserView {
            id: u.id,
            display_name: u.display_name.unwrap_or_else(|| u.name.clone()),
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
    /// Its IANA time zone ("UTC" unless the owner set one); dates members
    /// type and pick are read in it.
    pub time_zone: String,
    /// Its language, a BCP 47 tag ("en" unless the owner set one).
    pub locale: String,
}

impl From<Group> for GroupView {
    fn from(g: Group) -> GroupView {
        GroupView {
            id: g.id,
            name: g.name,
            owner_id: g.owner_id,
            member_count: g.member_count,
            time_zone: g.time_zone,
            locale: g.locale,
        }
    }
}

/// A member of a group.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberView {
    /// User id.
    pub user_id: String,
    /// User name (handle).
    pub name: String,
    /// The name shown to people (the handle when unset).
    pub display_name: String,
    /// `owner`, `admin` or `member`.
    pub role: String,
    /// When they joined (ms since the epoch).
    pub joined_at: i64,
    /// Their profile card, where they set it.
    pub profile: ProfileView,
}

/// What a member's profile card shows, where the member set it (`null`:
/// not set).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct ProfileView {
    /// An `https:` address of their picture.
    pub avatar_url: Option<String>,
    /// Their language, a BCP 47 tag such as "zh-CN".
    pub locale: Option<String>,
    /// Their IANA time zone, such as "Asia/Shanghai".
    pub time_zone: Option<String>,
}

impl From<Profile> for ProfileView {
    fn from(p: Profile) -> ProfileView {
        ProfileView {
            avatar_url: p.avatar_url,
            locale: p.locale,
            time_zone: p.time_zone,
        }
    }
}

impl From<Member> for MemberView {
    fn from(m: Member) -> MemberView {
        MemberView {
            user_id: m.user_id,
            name: m.name,
            display_name: m.display_name,
            role: m.role.as_str().to_string(),
            joined_at: m.joined_at,
            profile: m.profile.into(),
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
    /// Text (what clients that cannot show blocks display).
    pub text: Option<String>,
    /// A `qun:app@0.1.0` card: title, body, fields and buttons; each button
    /// carries its `ref` (see `blocks`), never its payload.
    #[schema(value_type = Option<Object>)]
    pub card: Option<serde_json::Value>,
    /// The message's blocks; buttons, menus and pickers carry an opaque `ref`
    /// to act on (`POST .../messages/{id}/elements/{ref}`), never a payload.
    /// Empty for a member's plain text.
    pub blocks: Vec<super::render::BlockView>,
    /// A private reply: only `visible_to` sees it.
    pub private: bool,
    /// The one member who sees it (a private reply); none: the whole group.
    pub visible_to: Option<String>,
    /// When (ms since the epoch).
    pub created_at: i64,
    /// When its app last changed it (ms since the epoch).
    pub updated_at: Option<i64>,
}

impl MessageView {
    /// A stored message as clients see it, with `refs` (element position ->
    /// reference) in place of its elements' payloads.
    pub fn render(
        m: StoredMessage,
        refs: &HashMap<i64, String>,
        files: &super::render::FileIndex,
    ) -> MessageView {
        MessageView {
            blocks: m
                .blocks
                .as_ref()
                .map(|b| super::render::message_blocks(&b.blocks, refs, &m.group_id, files))
                .unwrap_or_default(),
            card: m.card.as_ref().map(|c| super::render::legacy_card(c, refs)),
            private: m.visible_to.is_some(),
            visible_to: m.visible_to,
            id: m.id,
            group_id: m.group_id,
            user_id: m.user_id,
            installation_id: m.installation_id,
            text: m.text,
            created_at: m.created_at,
            updated_at: m.updated_at,
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
    /// Why a platform admin suspended the app everywhere (`null`: not
    /// suspended); a suspended app answers nothing.
    pub app_suspended: Option<String>,
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
            app_suspended: inst.app_suspended,
            pending_capabilities: Vec::new(),
            commands: manifest_names(&manifest, "commands"),
            actions: manifest_names(&manifest, "actions"),
        }
    }
}
