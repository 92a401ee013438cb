//! Developer mode (issue 16): an app's developer, in their own test group,
//! lists the app's pending timers and fires one now instead of waiting.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::Auth;
use super::error::{ApiError, ErrorBody};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_timers))
        .routes(routes!(fire_timer))
}

/// A pending timer of an app.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimerView {
    /// Its key.
    pub key: String,
    /// When it is due (ms since the epoch).
    pub due_at: i64,
    /// What it hands the app.
    pub payload: String,
    /// It fires again (a recurring timer).
    pub recurring: bool,
}

/// The installation of `slug` in `gid` when the caller is its developer and
/// it is in developer mode: 404 outside the group or without the app, 403
/// for anyone else in it.
async fn dev_installation(
    state: &AppState,
    user: &crate::store::User,
    gid: &str,
    slug: &str,
) -> Result<crate::store::Installation, ApiError> {
    state.member_of(gid, user).await?;
    let store = state.store();
    let inst = store.installation_of(gid, slug).await?.ok_or_else(|| {
        ApiError::not_found(
            "not_installed",
            format!("{slug} is not installed in this group"),
        )
    })?;
    match store.dev_installation_developer(&inst.id).await? {
        Some(developer) if developer == user.id => Ok(inst),
        _ => Err(ApiError::Forbidden {
            code: "not_developer_mode",
            message: format!(
                "only {slug}'s developer sees its timers, in a group where they installed it in developer mode"
            ),
        }),
    }
}

/// The app's pending timers in this group (developer mode).
#[utoipa::path(get, path = "/v1/groups/{gid}/apps/{slug}/timers", tag = "installations",
    params(("gid" = String, Path, description = "Group id"), ("slug" = String, Path, description = "App slug")),
    responses((status = 200, body = Vec<TimerView>), (status = 401, body = ErrorBody),
        (status = 403, description = "`not_developer_mode`", body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_timers(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path((gid, slug)): Path<(String, String)>,
) -> Result<Json<Vec<TimerView>>, ApiError> {
    let inst = dev_installation(&state, &user, &gid, &slug).await?;
    let timers = state.store().timers(&inst.id).await?;
    Ok(Json(
        timers
            .into_iter()
            .map(|t| TimerView {
                recurring: t.rule.is_some(),
                key: t.key,
                due_at: t.due_at,
                payload: t.payload,
            })
            .collect(),
    ))
}

/// Fire a pending timer now (developer mode): it becomes due at once and
/// the host delivers it as usual (a recurring one then re-arms itself).
#[utoipa::path(post, path = "/v1/groups/{gid}/apps/{slug}/timers/{key}/fire", tag = "installations",
    params(("gid" = String, Path, description = "Group id"), ("slug" = String, Path, description = "App slug"),
        ("key" = String, Path, description = "The timer's key")),
    responses((status = 202, description = "due now; delivered on the next pass"), (status = 401, body = ErrorBody),
        (status = 403, description = "`not_developer_mode`", body = ErrorBody),
        (status = 404, description = "no such group, app or timer", body = ErrorBody)))]
async fn fire_timer(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path((gid, slug, key)): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    let inst = dev_installation(&state, &user, &gid, &slug).await?;
    if !state.store().fire_timer_now(&inst.id, &key).await? {
        return Err(ApiError::not_found(
            "timer_not_found",
            format!("{slug} has no pending timer {key:?} in this group"),
        ));
    }
    Ok(StatusCode::ACCEPTED)
}
