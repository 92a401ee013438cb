//! `/v1/apps/{slug}/rollouts` (issue 16): the app's developer (or a platform
//! admin) releases an approved version to a share of the app's
//! installations, watches its numbers beside the other versions', widens
//! it, completes it (100%) or rolls it back in one step. The host rolls it
//! back on its own when the new version faults too often. The rules of
//! choosing are in `store::rollouts`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::ApiJson;
use super::AppState;
use super::apps::managed_app;
use super::auth::Auth;
use super::error::{ApiError, ErrorBody};
use crate::store::rollouts::{DEFAULT_MAX_FAULT_PERCENT, DEFAULT_MIN_INVOCATIONS};
use crate::store::{
    AppVersion, NewRollout, Rollout, RolloutCounts, RolloutInstallation, RolloutRefusal,
    StoreError, User, VersionStatus,
};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start_rollout, list_rollouts))
        .routes(routes!(get_rollout, widen_rollout))
        .routes(routes!(roll_back_rollout))
}

/// A rollout to start.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRolloutBody {
    /// The approved version to release.
    pub version: String,
    /// The share of the app's installations (not in developer mode) that
    /// runs it, in percent (0 to 100; 100 releases it everywhere at once).
    #[serde(default, deserialize_with = "super::number::u32_field")]
    #[schema(minimum = 0, maximum = 100)]
    pub percent: u32,
    /// Groups released first, whatever the percentage.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Roll back automatically when more than this percentage of the new
    /// version's invocations fault (trap, timeout, memory); default 10.
    #[serde(default, deserialize_with = "super::number::opt_u32_field")]
    #[schema(minimum = 0, maximum = 100)]
    pub max_fault_percent: Option<u32>,
    /// Judge the fault rate only after the new version ran this many
    /// times; default 20.
    #[serde(default, deserialize_with = "super::number::opt_u32_field")]
    #[schema(minimum = 1)]
    pub min_invocations: Option<u32>,
}

/// A wider step of an active rollout.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RolloutStep {
    /// The new share, in percent (at least the current one; 100 completes it).
    #[serde(default, deserialize_with = "super::number::opt_u32_field")]
    #[schema(minimum = 0, maximum = 100)]
    pub percent: Option<u32>,
    /// More groups to release to.
    #[serde(default)]
    pub groups: Vec<String>,
}

/// Invocations of one side of a rollout while it runs.
#[derive(Debug, Serialize, ToSchema)]
pub struct RolloutCountsView {
    /// Invocations that ran.
    pub invocations: i64,
    /// Of those, failures the app caused (its error, a bad answer, a
    /// limit it broke, or a fault).
    pub errors: i64,
    /// Of those, faults: traps, timeouts, memory, stack.
    pub faults: i64,
    /// `errors` in percent of `invocations` (0 without invocations).
    pub error_percent: f64,
    /// `faults` in percent of `invocations` (0 without invocations).
    pub fault_percent: f64,
}

impl From<RolloutCounts> for RolloutCountsView {
    fn from(c: RolloutCounts) -> Self {
        let percent = |n: i64| {
            if c.invocations == 0 {
                0.0
            } else {
                n as f64 * 100.0 / c.invocations as f64
            }
        };
        RolloutCountsView {
            invocations: c.invocations,
            errors: c.errors,
            faults: c.faults,
            error_percent: percent(c.errors),
            fault_percent: percent(c.faults),
        }
    }
}

/// An installation a rollout chose.
#[derive(Debug, Serialize, ToSchema)]
pub struct RolloutInstallationView {
    /// The installation.
    pub installation_id: String,
    /// Its group.
    pub group_id: String,
    /// What choosing it did: `moved` (it runs the new version),
    /// `pending_consent` (the new version asks for capabilities the group's
    /// owner has not consented to: it waits as `pending_version`, the old
    /// version keeps running), `command_conflict` (left alone: the new
    /// version declares a command another app of the group answers),
    /// `already` (it ran the new version before), `newer` (left alone: it
    /// runs a version uploaded later).
    pub status: String,
    /// The version it ran before.
    pub previous_version: String,
    /// The version it runs now (absent: uninstalled since).
    pub version: Option<String>,
    /// When it was chosen (ms since the epoch).
    pub chosen_at: i64,
}

impl From<RolloutInstallation> for RolloutInstallationView {
    fn from(r: RolloutInstallation) -> Self {
        RolloutInstallationView {
            installation_id: r.installation_id,
            group_id: r.group_id,
            status: r.status,
            previous_version: r.previous_version,
            version: r.version,
            chosen_at: r.chosen_at,
        }
    }
}

/// A rollout, its numbers and the installations it chose.
#[derive(Debug, Serialize, ToSchema)]
pub struct RolloutView {
    /// Its id.
    pub id: String,
    /// The app.
    pub app: String,
    /// The version released.
    pub version: String,
    /// `active`, `completed`, `rolled_back` or `rolled_back_automatically`.
    pub status: String,
    /// The share of installations chosen, in percent.
    pub percent: u32,
    /// Groups released first.
    pub groups: Vec<String>,
    /// The fault rate (percent) past which the host rolls it back.
    pub max_fault_percent: u32,
    /// Invocations of the new version before the host judges it.
    pub min_invocations: u32,
    /// The new version's invocations during the rollout.
    pub new_version: RolloutCountsView,
    /// The other versions' invocations during the rollout.
    pub other_versions: RolloutCountsView,
    /// Who started it.
    pub created_by: String,
    /// When (ms since the epoch).
    pub created_at: i64,
    /// Its last step (ms since the epoch).
    pub updated_at: i64,
    /// When it completed or was rolled back (ms since the epoch).
    pub ended_at: Option<i64>,
    /// Why it was rolled back.
    pub end_reason: Option<String>,
    /// The installations it chose, in the order it chose them.
    pub installations: Vec<RolloutInstallationView>,
}

async fn view(state: &AppState, r: Rollout) -> Result<RolloutView, ApiError> {
    let installations = state.store().rollout_installations(&r.id).await?;
    Ok(RolloutView {
        id: r.id,
        app: r.app_slug,
        version: r.version,
        status: r.status.as_str().to_string(),
        percent: r.percent,
        groups: r.groups,
        max_fault_percent: r.max_fault_percent,
        min_invocations: r.min_invocations,
        new_version: r.new_version.into(),
        other_versions: r.other_versions.into(),
        created_by: r.created_by,
        created_at: r.created_at,
        updated_at: r.updated_at,
        ended_at: r.ended_at,
        end_reason: r.end_reason,
        installations: installations.into_iter().map(Into::into).collect(),
    })
}

/// A refused step as the API answers it (409, named codes).
fn refused(e: StoreError) -> ApiError {
    match e {
        StoreError::Rollout(r) => {
            let code = match r {
                RolloutRefusal::AlreadyActive { .. } => "rollout_active",
                RolloutRefusal::NotActive { .. } => "rollout_ended",
                RolloutRefusal::Narrowing { .. } => "cannot_narrow",
            };
            ApiError::conflict(code, r.to_string())
        }
        e => e.into(),
    }
}

fn check_percent(percent: u32) -> Result<(), ApiError> {
    if percent > 100 {
        return Err(ApiError::bad(
            "invalid_percent",
            format!("a share is 0 to 100 percent; got {percent}"),
        ));
    }
    Ok(())
}

/// Every named group must hold an installation of the app (not in
/// developer mode): 400 `group_not_installed` otherwise.
async fn check_groups(state: &AppState, slug: &str, groups: &[String]) -> Result<(), ApiError> {
    for gid in groups {
        let inst = state.store().installation_of(gid, slug).await?;
        let dev = match &inst {
            Some(inst) => state
                .store()
                .dev_installation_developer(&inst.id)
                .await?
                .is_some(),
            None => false,
        };
        if inst.is_none() || dev {
            return Err(ApiError::bad(
                "group_not_installed",
                format!("{slug} is not installed in group {gid} (outside developer mode)"),
            ));
        }
    }
    Ok(())
}

/// The app's versions, and the app itself when `user` manages it (404/403
/// as the other developer routes).
async fn managed(state: &AppState, user: &User, slug: &str) -> Result<Vec<AppVersion>, ApiError> {
    let app = managed_app(state, user, slug, "roll out its versions").await?;
    if app.suspended_at.is_some() {
        return Err(ApiError::conflict(
            "suspended",
            format!("{slug} is suspended by the platform"),
        ));
    }
    Ok(state.store().versions(slug).await?)
}

/// The rollout `id` of `slug` (404 `rollout_not_found` otherwise).
async fn rollout_of(state: &AppState, slug: &str, id: &str) -> Result<Rollout, ApiError> {
    match state.store().rollout(id).await? {
        Some(r) if r.app_slug == slug => Ok(r),
        _ => Err(ApiError::not_found(
            "rollout_not_found",
            format!("{slug} has no rollout {id}"),
        )),
    }
}

/// Start a rollout of an approved version (the app's developer or a
/// platform admin). The chosen installations run it at once (or wait for
/// their owner's consent to new capabilities).
#[utoipa::path(post, path = "/v1/apps/{slug}/rollouts", tag = "rollouts", request_body = NewRolloutBody,
    params(("slug" = String, Path, description = "App slug")),
    responses((status = 201, body = RolloutView),
        (status = 400, description = "`invalid_percent`, `empty_rollout`, `group_not_installed`", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "`app_not_found`, `version_not_found`", body = ErrorBody),
        (status = 409, description = "`not_approved`, `rollout_active`, `suspended`", body = ErrorBody)))]
async fn start_rollout(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path(slug): Path<String>,
    ApiJson(body): ApiJson<NewRolloutBody>,
) -> Result<(StatusCode, Json<RolloutView>), ApiError> {
    let versions = managed(&state, &user, &slug).await?;
    check_percent(body.percent)?;
    if let Some(max) = body.max_fault_percent {
        check_percent(max)?;
    }
    let version = versions
        .iter()
        .find(|v| v.version == body.version)
        .ok_or_else(|| {
            ApiError::not_found(
                "version_not_found",
                format!("{slug} has no version {}", body.version),
            )
        })?;
    if version.status != VersionStatus::Approved {
        return Err(ApiError::conflict(
            "not_approved",
            format!(
                "{slug} {} is {}; only an approved version is rolled out",
                version.version,
                version.status.as_str()
            ),
        ));
    }
    if body.percent == 0 && body.groups.is_empty() {
        return Err(ApiError::bad(
            "empty_rollout",
            "a rollout needs a percentage above 0 or at least one group",
        ));
    }
    let mut groups: Vec<String> = Vec::new();
    for g in &body.groups {
        if !groups.contains(g) {
            groups.push(g.clone());
        }
    }
    check_groups(&state, &slug, &groups).await?;
    let new = NewRollout {
        version: body.version.clone(),
        percent: body.percent,
        groups,
        max_fault_percent: body.max_fault_percent.unwrap_or(DEFAULT_MAX_FAULT_PERCENT),
        min_invocations: body
            .min_invocations
            .unwrap_or(DEFAULT_MIN_INVOCATIONS)
            .max(1),
    };
    let rollout = state
        .store()
        .start_rollout(&slug, &new, &versions, &user.id)
        .await
        .map_err(refused)?;
    tracing::info!(app = %slug, rollout = %rollout.id, version = %rollout.version,
        percent = rollout.percent, "rollout started");
    Ok((StatusCode::CREATED, Json(view(&state, rollout).await?)))
}

/// The app's rollouts, newest first, with their numbers.
#[utoipa::path(get, path = "/v1/apps/{slug}/rollouts", tag = "rollouts",
    params(("slug" = String, Path, description = "App slug")),
    responses((status = 200, body = Vec<RolloutView>), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_rollouts(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path(slug): Path<String>,
) -> Result<Json<Vec<RolloutView>>, ApiError> {
    managed_app(&state, &user, &slug, "see its rollouts").await?;
    let mut out = Vec::new();
    for r in state.store().rollouts(&slug).await? {
        out.push(view(&state, r).await?);
    }
    Ok(Json(out))
}

/// One rollout: its numbers (the new version's invocations, errors and
/// faults beside the other versions') and the installations it chose.
#[utoipa::path(get, path = "/v1/apps/{slug}/rollouts/{id}", tag = "rollouts",
    params(("slug" = String, Path, description = "App slug"), ("id" = String, Path, description = "Rollout id")),
    responses((status = 200, body = RolloutView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_rollout(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path((slug, id)): Path<(String, String)>,
) -> Result<Json<RolloutView>, ApiError> {
    managed_app(&state, &user, &slug, "see its rollouts").await?;
    let rollout = rollout_of(&state, &slug, &id).await?;
    Ok(Json(view(&state, rollout).await?))
}

/// Widen an active rollout: a higher percentage and/or more groups (only
/// ever adds installations); at 100 it completes.
#[utoipa::path(patch, path = "/v1/apps/{slug}/rollouts/{id}", tag = "rollouts", request_body = RolloutStep,
    params(("slug" = String, Path, description = "App slug"), ("id" = String, Path, description = "Rollout id")),
    responses((status = 200, body = RolloutView),
        (status = 400, description = "`invalid_percent`, `empty_step`, `group_not_installed`", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`rollout_ended`, `cannot_narrow`, `suspended`", body = ErrorBody)))]
async fn widen_rollout(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path((slug, id)): Path<(String, String)>,
    ApiJson(body): ApiJson<RolloutStep>,
) -> Result<Json<RolloutView>, ApiError> {
    let versions = managed(&state, &user, &slug).await?;
    rollout_of(&state, &slug, &id).await?;
    if let Some(percent) = body.percent {
        check_percent(percent)?;
    } else if body.groups.is_empty() {
        return Err(ApiError::bad(
            "empty_step",
            "a step needs a higher percentage or more groups",
        ));
    }
    check_groups(&state, &slug, &body.groups).await?;
    let rollout = state
        .store()
        .widen_rollout(&id, body.percent, &body.groups, &versions, &user.id)
        .await
        .map_err(refused)?;
    tracing::info!(app = %slug, rollout = %rollout.id, percent = rollout.percent,
        status = rollout.status.as_str(), "rollout widened");
    Ok(Json(view(&state, rollout).await?))
}

/// Roll an active rollout back in one step: every installation it moved
/// runs the version (and grants) it ran before; upgrades it left waiting
/// for consent are withdrawn.
#[utoipa::path(post, path = "/v1/apps/{slug}/rollouts/{id}/rollback", tag = "rollouts",
    params(("slug" = String, Path, description = "App slug"), ("id" = String, Path, description = "Rollout id")),
    responses((status = 200, body = RolloutView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "`rollout_ended`", body = ErrorBody)))]
async fn roll_back_rollout(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path((slug, id)): Path<(String, String)>,
) -> Result<Json<RolloutView>, ApiError> {
    managed_app(&state, &user, &slug, "roll back its rollouts").await?;
    rollout_of(&state, &slug, &id).await?;
    let rollout = state
        .store()
        .roll_back(&id, &user.id)
        .await
        .map_err(refused)?;
    tracing::warn!(app = %slug, rollout = %rollout.id, by = %user.id, "rollout rolled back");
    Ok(Json(view(&state, rollout).await?))
}
