//! `/v1/groups/{gid}/apps`: installing apps in a group with grants, and
//! running an installed app's actions.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::Auth;
use super::error::{ApiError, ErrorBody, is_duplicate};
use super::views::InstallationView;
use super::{ApiJson, AppState};
use crate::runtime::{Answer, Call, Invocation};
use crate::store::{AppVersion, VersionStatus};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(install, list_installed))
        .routes(routes!(uninstall))
        .routes(routes!(run_action))
}

/// An app to install.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewInstallation {
    /// The app's slug.
    pub app: String,
    /// The version to install (default: the newest approved one).
    #[serde(default)]
    pub version: Option<String>,
    /// Capabilities to grant; each must be one the version asks for.
    #[serde(default)]
    pub grants: Vec<String>,
}

async fn pick_version(
    state: &AppState,
    slug: &str,
    wanted: Option<&str>,
) -> Result<AppVersion, ApiError> {
    let store = state.store();
    if store.app(slug).await?.is_none() {
        return Err(ApiError::not_found(
            "app_not_found",
            format!("no app {slug}"),
        ));
    }
    let version = match wanted {
        Some(v) => store.version(slug, v).await?.ok_or_else(|| {
            ApiError::not_found("version_not_found", format!("{slug} has no version {v}"))
        })?,
        None => store
            .versions(slug)
            .await?
            .into_iter()
            .find(|v| v.status == VersionStatus::Approved)
            .ok_or_else(|| {
                ApiError::not_found(
                    "version_not_found",
                    format!("{slug} has no approved version yet"),
                )
            })?,
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
        (status = 409, description = "already installed, or the version is not approved", body = ErrorBody)))]
async fn install(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path(gid): Path<String>,
    ApiJson(body): ApiJson<NewInstallation>,
) -> Result<(StatusCode, Json<InstallationView>), ApiError> {
    state.manager_of(&gid, &user).await?;
    let version = pick_version(&state, &body.app, body.version.as_deref()).await?;
    if let Some(extra) = body
        .grants
        .iter()
        .find(|g| !version.capabilities.contains(g))
    {
        return Err(ApiError::bad(
            "invalid_grant",
            format!(
                "{} {} does not ask for `{extra}`; it asks for: {}",
                body.app,
                version.version,
                version.capabilities.join(", ")
            ),
        ));
    }
    let mut grants = body.grants.clone();
    grants.sort();
    grants.dedup();
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
        .install(&gid, &body.app, &version.version, &grants)
        .await
    {
        Ok(inst) => inst,
        Err(e) if is_duplicate(&e) => return Err(installed()),
        Err(e) => return Err(e.into()),
    };
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
    let store = state.store();
    let mut out = Vec::new();
    for inst in store.installations_in(&gid).await? {
        let version = store.version(&inst.app_slug, &inst.version).await?;
        out.push(InstallationView::new(inst, version.as_ref()));
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
    state.store().uninstall(&inst.id).await?;
    Ok(StatusCode::NO_CONTENT)
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
    ApiJson(payload): ApiJson<serde_json::Value>,
) -> Result<Response, ApiError> {
    state.member_of(&gid, &user).await?;
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
        },
        invocation_id: None,
    };
    let outcome = state.invoke(&slug, &gid, invocation).await?;
    match outcome.answer {
        Answer::Action(json) => Ok(([(CONTENT_TYPE, "application/json")], json).into_response()),
        other => Err(ApiError::Internal(format!("an action answered {other:?}"))),
    }
}
