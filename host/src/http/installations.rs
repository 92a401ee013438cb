//! `/v1/groups/{gid}/apps`: installing apps in a group with grants, changing
//! grants, version and enabled, uninstalling, and running an installed app's
//! actions. Every decision is audited with who made it.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::apps::{listed, manages, no_app};
use super::auth::Auth;
use super::error::{ApiError, ErrorBody, is_duplicate};
use super::views::InstallationView;
use super::{ApiJson, ApiJsonAny, AppState};
use crate::runtime::{Answer, Call, Invocation};
use crate::store::{
    AppVersion, AuditRecord, CommandConflict, GroupCommand, Installation, InstallationChange,
    StoreError, VersionStatus,
};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(install, list_installed))
        .routes(routes!(uninstall, change))
        .routes(routes!(run_action))
        .routes(routes!(list_commands))
}

/// A capability's name, as used in grants.
pub struct GrantName;

impl utoipa::PartialSchema for GrantName {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("A capability's name, as used in grants"))
            .enum_values(Some(crate::capabilities::Capability::ALL.map(|c| c.name())))
            .into()
    }
}

impl ToSchema for GrantName {}

/// An app to install.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInstallation {
    /// The app's slug.
    pub app: String,
    /// The version to install (default: the newest approved one).
    #[serde(default)]
    pub version: Option<String>,
    /// Capabilities to grant; each must be one the version asks for.
    #[serde(default)]
    #[schema(value_type = Vec<GrantName>)]
    pub grants: Vec<String>,
    /// Developer mode: install the newest upload (or `version`), reviewed or
    /// not, and follow every later upload. Only the app's developer, only in
    /// a group they own (403 otherwise).
    #[serde(default)]
    pub dev: bool,
}

/// The version a developer-mode installation starts with: `wanted`, or the
/// newest upload, reviewed or not. Only the app's developer, in a group they
/// own, gets here.
async fn pick_dev_version(
    state: &AppState,
    user: &crate::store::User,
    member: &crate::store::Member,
    slug: &str,
    wanted: Option<&str>,
) -> Result<AppVersion, ApiError> {
    let store = state.store();
    let app = store.app(slug).await?.ok_or_else(|| no_app(slug))?;
    if app.developer_id != user.id {
        return Err(ApiError::Forbidden {
            code: "not_your_app",
            message: format!("developer mode is for {slug}'s developer"),
        });
    }
    if member.role != crate::store::Role::Owner {
        return Err(ApiError::Forbidden {
            code: "not_your_group",
            message: "developer mode installs only in a group you own (a test group)".into(),
        });
    }
    if app.suspended_at.is_some() {
        return Err(ApiError::conflict(
            "suspended",
            format!("{slug} is suspended by the platform"),
        ));
    }
    let version = match wanted {
        Some(v) => store.version(slug, v).await?,
        None => store.versions(slug).await?.into_iter().next(),
    };
    version.ok_or_else(|| {
        ApiError::not_found(
            "version_not_found",
            format!("{slug} has no such version; upload one first"),
        )
    })
}

/// After an upload: every developer-mode installation of the app runs the
/// new version, with the grants it had that the version still asks for.
pub(super) async fn follow_upload(state: &AppState, version: &AppVersion) {
    let store = state.store();
    let installations = match store.dev_installations(&version.app_slug).await {
        Ok(list) => list,
        Err(e) => {
            tracing::warn!("developer-mode installations of {}: {e}", version.app_slug);
            return;
        }
    };
    for (inst, developer) in installations {
        let grants: Vec<String> = inst
            .grants
            .iter()
            .filter(|g| version.capabilities.contains(g))
            .cloned()
            .collect();
        let change = crate::store::InstallationChange {
            version: version.version.clone(),
            grants,
            enabled: inst.enabled,
            pending_version: None,
            disabled_reason: inst.disabled_reason.clone(),
            audit: vec![
                crate::store::AuditRecord::decision("installation.dev_upgrade", &developer)
                    .app(&inst.app_slug, Some(&version.version))
                    .installation(&inst.id, &inst.group_id),
            ],
        };
        if let Err(e) = store
            .change_installation(&inst.id, &change, &developer)
            .await
        {
            tracing::warn!(installation = %inst.id, "developer mode could not follow the upload: {e}");
        }
    }
}

async fn pick_version(
    state: &AppState,
    slug: &str,
    wanted: Option<&str>,
) -> Result<AppVersion, ApiError> {
    let store = state.store();
    let Some(app) = store.app(slug).await? else {
        return Err(ApiError::not_found(
            "app_not_found",
            format!("no app {slug}"),
        ));
    };
    if app.suspended_at.is_some() {
        return Err(ApiError::conflict(
            "suspended",
            format!(
                "{slug} is suspended by the platform: {}",
                app.suspend_reason.unwrap_or_default()
            ),
        ));
    }
    let version = match wanted {
        Some(v) => store.version(slug, v).await?.ok_or_else(|| {
            ApiError::not_found("version_not_found", format!("{slug} has no version {v}"))
        })?,
        None => {
            // While a rollout releases a version to a share of the
            // installations, a new installation gets the version the others
            // run (issue 16); the rollout decides who gets the new one.
            let rolling = store.active_rollout_cached(slug).await?.map(|r| r.version);
            let approved: Vec<AppVersion> = store
                .versions(slug)
                .await?
                .into_iter()
                .filter(|v| v.status == VersionStatus::Approved)
                .collect();
            let stable = approved
                .iter()
                .position(|v| Some(&v.version) != rolling.as_ref())
                .unwrap_or(0);
            let found = approved.into_iter().nth(stable);
            found.ok_or_else(|| {
                ApiError::not_found(
                    "version_not_found",
                    format!("{slug} has no approved version yet"),
                )
            })?
        }
    };
    if version.status != VersionStatus::Approved {
        return Err(ApiError::conflict(
            "not_approved",
            format!(
                "{slug} {} is {}, not approved",
                version.version,
                version.status.as_str()
            ),
        ));
    }
    Ok(version)
}

/// Install an app in the group (owner or group admins).
#[utoipa::path(post, path = "/v1/groups/{gid}/apps", tag = "installations", request_body = NewInstallation,
    params(("gid" = String, Path, description = "Group id")),
    responses((status = 201, body = InstallationView), (status = 400, description = "a grant the version does not ask for", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "already installed, the version is not approved, or `command_conflict`: it declares a command another installed app answers", body = ErrorBody)))]
async fn install(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path(gid): Path<String>,
    ApiJson(body): ApiJson<NewInstallation>,
) -> Result<(StatusCode, Json<InstallationView>), ApiError> {
    let member = state.manager_of(&gid, &user).await?;
    // An app the caller cannot see (no approved version, or suspended, and
    // not theirs) answers exactly like one that does not exist, and so does
    // a version of it that is not approved.
    let visible = match state.store().app(&body.app).await? {
        Some(app) if manages(&user, &app) => true,
        Some(app) if listed(&state, &app).await? => false,
        _ => return Err(no_app(&body.app)),
    };
    if !visible
        && let Some(wanted) = body.version.as_deref()
        && state
            .store()
            .version(&body.app, wanted)
            .await?
            .is_none_or(|v| v.status != VersionStatus::Approved)
    {
        return Err(ApiError::not_found(
            "version_not_found",
            format!("{} has no version {wanted}", body.app),
        ));
    }
    let version = if body.dev {
        pick_dev_version(&state, &user, &member, &body.app, body.version.as_deref()).await?
    } else {
        pick_version(&state, &body.app, body.version.as_deref()).await?
    };
    let grants = check_grants(&body.app, &version, &body.grants)?;
    let installed = || {
        ApiError::conflict(
            "already_installed",
            format!("{} is already installed in this group", body.app),
        )
    };
    if state
        .store()
        .installation_of(&gid, &body.app)
        .await?
        .is_some()
    {
        return Err(installed());
    }
    let inst = match state
        .store()
        .install(&gid, &body.app, &version.version, &grants, &user.id)
        .await
    {
        Ok(inst) => inst,
        Err(StoreError::CommandConflict(conflict)) => return Err(command_conflict(&conflict)),
        Err(e) if is_duplicate(&e) => return Err(installed()),
        Err(e) => return Err(e.into()),
    };
    if body.dev {
        state
            .store()
            .mark_dev_installation(&inst.id, &user.id)
            .await?;
    }
    Ok((
        StatusCode::CREATED,
        Json(InstallationView::new(inst, Some(&version))),
    ))
}

/// Apps installed in the group.
#[utoipa::path(get, path = "/v1/groups/{gid}/apps", tag = "installations",
    params(("gid" = String, Path, description = "Group id")),
    responses((status = 200, body = Vec<InstallationView>), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_installed(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path(gid): Path<String>,
) -> Result<Json<Vec<InstallationView>>, ApiError> {
    state.member_of(&gid, &user).await?;
    let mut out = Vec::new();
    for inst in state.store().installations_in(&gid).await? {
        out.push(view(&state, inst).await?);
    }
    Ok(Json(out))
}

/// Uninstall an app from the group; its data in this group is deleted.
#[utoipa::path(delete, path = "/v1/groups/{gid}/apps/{slug}", tag = "installations",
    params(("gid" = String, Path, description = "Group id"), ("slug" = String, Path, description = "App slug")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn uninstall(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path((gid, slug)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state.manager_of(&gid, &user).await?;
    let inst = state
        .store()
        .installation_of(&gid, &slug)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(
                "not_installed",
                format!("{slug} is not installed in this group"),
            )
        })?;
    // The app hears `uninstalled` while it still has its data and grants.
    state.runtime.notify_uninstalled(&inst.id).await;
    state.store().uninstall(&inst, &user.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The installation view, with what a pending upgrade newly asks for.
async fn view(state: &AppState, inst: Installation) -> Result<InstallationView, ApiError> {
    let store = state.store();
    let current = store.version(&inst.app_slug, &inst.version).await?;
    let pending = match &inst.pending_version {
        Some(v) => store.version(&inst.app_slug, v).await?,
        None => None,
    };
    let new_asks = match (&current, &pending) {
        (Some(current), Some(pending)) => new_capabilities(current, pending),
        _ => Vec::new(),
    };
    let mut view = InstallationView::new(inst, current.as_ref());
    view.pending_capabilities = new_asks;
    Ok(view)
}

/// Capabilities `next` asks for that `current` did not.
fn new_capabilities(current: &AppVersion, next: &AppVersion) -> Vec<String> {
    next.capabilities
        .iter()
        .filter(|c| !current.capabilities.contains(c))
        .cloned()
        .collect()
}

/// A change to an installation; every field is optional.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InstallationPatch {
    /// The complete set of capabilities to grant (each must be one the
    /// version asks for). Giving grants together with a `version` is the
    /// owner's consent to that version's capabilities.
    #[serde(default)]
    #[schema(value_type = Option<Vec<GrantName>>)]
    pub grants: Option<Vec<String>>,
    /// An approved version to run. When it asks for capabilities the current
    /// version did not, and no `grants` are given, the upgrade waits for
    /// consent (`202`, `pending_version`) and the current version keeps running.
    #[serde(default)]
    pub version: Option<String>,
    /// Enable or disable the app in this group. Enabling also re-enables an
    /// installation the health check disabled.
    #[serde(default)]
    pub enabled: Option<bool>,
}

fn check_grants(
    slug: &str,
    version: &AppVersion,
    grants: &[String],
) -> Result<Vec<String>, ApiError> {
    if let Some(extra) = grants.iter().find(|g| !version.capabilities.contains(g)) {
        return Err(ApiError::bad(
            "invalid_grant",
            format!(
                "{slug} {} does not ask for `{extra}`; it asks for: {}",
                version.version,
                version.capabilities.join(", ")
            ),
        ));
    }
    let mut grants = grants.to_vec();
    grants.sort();
    grants.dedup();
    Ok(grants)
}

/// Change an installation's grants, version or enabled (owner or group admins).
#[utoipa::path(patch, path = "/v1/groups/{gid}/apps/{slug}", tag = "installations", request_body = InstallationPatch,
    params(("gid" = String, Path, description = "Group id"), ("slug" = String, Path, description = "App slug")),
    responses((status = 200, description = "Changed", body = InstallationView),
        (status = 202, description = "The upgrade waits for consent to new capabilities; the current version keeps running", body = InstallationView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "the version is not approved, the app is suspended, or `command_conflict`: the version declares a command another installed app answers", body = ErrorBody)))]
async fn change(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path((gid, slug)): Path<(String, String)>,
    ApiJson(body): ApiJson<InstallationPatch>,
) -> Result<(StatusCode, Json<InstallationView>), ApiError> {
    state.manager_of(&gid, &user).await?;
    let store = state.store();
    let inst = store.installation_of(&gid, &slug).await?.ok_or_else(|| {
        ApiError::not_found(
            "not_installed",
            format!("{slug} is not installed in this group"),
        )
    })?;
    let current = store
        .version(&slug, &inst.version)
        .await?
        .ok_or_else(|| ApiError::Internal(format!("{slug} {} is missing", inst.version)))?;
    let target = match body.version.as_deref() {
        Some(v) if v != inst.version => pick_version(&state, &slug, Some(v)).await?,
        _ => current.clone(),
    };
    let upgrading = target.version != current.version;
    if upgrading {
        // Refused up front, also when the upgrade would wait for consent.
        let clashes = store.command_clashes(&gid, &slug, &target.version).await?;
        if !clashes.is_empty() {
            return Err(command_conflict(&CommandConflict {
                app: slug.clone(),
                version: target.version.clone(),
                clashes,
            }));
        }
    }
    let audit = |action: &str| {
        AuditRecord::decision(action, &user.id)
            .app(&slug, Some(&inst.version))
            .installation(&inst.id, &gid)
    };
    let mut change = InstallationChange {
        version: inst.version.clone(),
        grants: inst.grants.clone(),
        enabled: inst.enabled,
        pending_version: inst.pending_version.clone(),
        disabled_reason: inst.disabled_reason.clone(),
        audit: Vec::new(),
    };
    let mut waiting = false;
    match &body.grants {
        Some(grants) => {
            let grants = check_grants(&slug, &target, grants)?;
            if grants != inst.grants {
                change
                    .audit
                    .push(audit("installation.grants").detail(format!(
                        "grants [{}] -> [{}]",
                        inst.grants.join(", "),
                        grants.join(", ")
                    )));
            }
            change.grants = grants;
            if upgrading {
                change.version = target.version.clone();
                change.pending_version = None;
            }
        }
        None if upgrading => {
            let asks = new_capabilities(&current, &target);
            if asks.is_empty() {
                change.version = target.version.clone();
                change.pending_version = None;
                change.grants.retain(|g| target.capabilities.contains(g));
            } else {
                // Keep running the current version until the owner consents.
                waiting = true;
                change.pending_version = Some(target.version.clone());
                change
                    .audit
                    .push(audit("installation.upgrade_requested").detail(format!(
                        "{} -> {} waits for consent to: {}",
                        current.version,
                        target.version,
                        asks.join(", ")
                    )));
            }
        }
        None => {}
    }
    if change.version != inst.version {
        change
            .audit
            .push(audit("installation.upgrade").detail(format!(
                "{} -> {} with grants [{}]",
                inst.version,
                change.version,
                change.grants.join(", ")
            )));
    }
    if let Some(enabled) = body.enabled
        && enabled != inst.enabled
    {
        change.enabled = enabled;
        change.disabled_reason = (!enabled).then(|| format!("disabled by {}", user.name));
        let action = if enabled {
            "installation.enable"
        } else {
            "installation.disable"
        };
        change.audit.push(audit(action));
    } else if body.enabled == Some(true) {
        change.disabled_reason = None;
    }
    if change.audit.is_empty() && change.pending_version == inst.pending_version {
        return Ok((StatusCode::OK, Json(view(&state, inst).await?)));
    }
    match store.change_installation(&inst.id, &change, &user.id).await {
        Ok(_) => {}
        Err(StoreError::CommandConflict(conflict)) => return Err(command_conflict(&conflict)),
        Err(e) => return Err(e.into()),
    }
    let changed = store
        .installation(&inst.id)
        .await?
        .ok_or_else(|| ApiError::not_found("not_installed", format!("{slug} was uninstalled")))?;
    let status = if waiting {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(view(&state, changed).await?)))
}

/// Run one of the app's actions as the caller; answers the app's JSON.
#[utoipa::path(post, path = "/v1/groups/{gid}/apps/{slug}/actions/{action}", tag = "installations",
    request_body(content = Object, description = "The action's JSON payload, e.g. `{\"poll\":\"p1\",\"choices\":[0]}`"),
    params(("gid" = String, Path, description = "Group id"), ("slug" = String, Path, description = "App slug"),
        ("action" = String, Path, description = "Action name")),
    responses((status = 200, description = "The app's JSON answer", body = Object), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 429, body = ErrorBody),
        (status = 502, body = ErrorBody), (status = 504, body = ErrorBody)))]
async fn run_action(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path((gid, slug, action)): Path<(String, String, String)>,
    ApiJsonAny(payload): ApiJsonAny<serde_json::Value>,
) -> Result<Response, ApiError> {
    state.member_of(&gid, &user).await?;
    let inst = state
        .store()
        .installation_of_cached(&gid, &slug)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(
                "not_installed",
                format!("{slug} is not installed in this group"),
            )
        })?;
    let payload = payload.to_string();
    let max = state.runtime.limits().payload_bytes;
    if payload.len() > max {
        return Err(ApiError::TooLarge(format!(
            "the action payload is {} bytes; the limit is {max}",
            payload.len()
        )));
    }
    let invocation = Invocation {
        installation_id: inst.id.clone(),
        actor: Some(user.id.clone()),
        call: Call::Action {
            name: action,
            payload,
            value: None,
            message_id: None,
        },
        invocation_id: None,
    };
    let outcome = state.invoke(&slug, &gid, invocation).await?;
    match outcome.answer {
        // An app with nothing to say answers JSON `null`.
        Answer::Action { data, .. } if data.is_empty() => {
            Ok(([(CONTENT_TYPE, "application/json")], "null").into_response())
        }
        Answer::Action { data, .. } => {
            Ok(([(CONTENT_TYPE, "application/json")], data).into_response())
        }
        other => Err(ApiError::Internal(format!("an action answered {other:?}"))),
    }
}

/// 409 `command_conflict`, naming the app that wanted the commands and the
/// apps that answer them.
fn command_conflict(conflict: &CommandConflict) -> ApiError {
    let owners: Vec<String> = conflict
        .clashes
        .iter()
        .map(|c| format!("/{} is answered by {}", c.command, c.owner_app))
        .collect();
    let mut apps: Vec<&str> = conflict
        .clashes
        .iter()
        .map(|c| c.owner_app.as_str())
        .collect();
    apps.sort_unstable();
    apps.dedup();
    ApiError::conflict(
        "command_conflict",
        format!(
            "{} {} declares commands another app installed in this group already answers ({}); \
             a command belongs to one app per group: uninstall {} first, or keep the other app",
            conflict.app,
            conflict.version,
            owners.join(", "),
            apps.join(", ")
        ),
    )
}

/// Who answers a command in the group.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommandView {
    /// The command, without the slash.
    pub command: String,
    /// Its help line, as the app declared it.
    pub description: String,
    /// The app that answers it.
    pub app: String,
    /// The app's installation in this group.
    pub installation_id: String,
    /// The installed version.
    pub version: String,
    /// Whether the app is enabled (a disabled app answers nothing).
    pub enabled: bool,
    /// Its options, in the order members type them.
    pub options: Vec<CommandOptionView>,
}

/// An option of a command.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommandOptionView {
    /// Its name.
    pub name: String,
    /// One line of help.
    pub description: String,
    /// The command cannot run without it.
    pub required: bool,
    /// What it takes: `text`, `number`, `date`, `date_time`, `choice`,
    /// `member` or `checkbox`.
    pub kind: String,
}

/// The options `command` declares in a stored manifest.
fn command_options(manifest: &serde_json::Value, command: &str) -> Vec<CommandOptionView> {
    manifest["commands"]
        .as_array()
        .and_then(|all| all.iter().find(|c| c["name"] == command))
        .and_then(|c| c["options"].as_array())
        .map(|options| {
            options
                .iter()
                .map(|o| CommandOptionView {
                    name: o["name"].as_str().unwrap_or_default().to_string(),
                    description: o["description"].as_str().unwrap_or_default().to_string(),
                    required: o["required"].as_bool().unwrap_or(false),
                    kind: o["kind"]["type"].as_str().unwrap_or("text").to_string(),
                })
                .collect()
        })
        .unwrap_or_default()
}

impl From<GroupCommand> for CommandView {
    fn from(c: GroupCommand) -> CommandView {
        CommandView {
            command: c.command,
            description: c.description,
            app: c.app,
            installation_id: c.installation_id,
            version: c.version,
            enabled: c.enabled,
            options: Vec::new(),
        }
    }
}

/// The commands answered in the group and the app that owns each (members).
#[utoipa::path(get, path = "/v1/groups/{gid}/commands", tag = "installations",
    params(("gid" = String, Path, description = "Group id")),
    responses((status = 200, body = Vec<CommandView>), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_commands(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path(gid): Path<String>,
) -> Result<Json<Vec<CommandView>>, ApiError> {
    state.member_of(&gid, &user).await?;
    let store = state.store();
    let mut views = Vec::new();
    for command in store.group_commands(&gid).await? {
        // Versions are cached: this reads the database once per version.
        let version = store.version_cached(&command.app, &command.version).await?;
        let mut view = CommandView::from(command);
        if let Some(version) = version {
            view.options = command_options(&version.manifest, &view.command);
        }
        views.push(view);
    }
    Ok(Json(views))
}
