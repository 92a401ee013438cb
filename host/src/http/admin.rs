//! `/v1/admin/...` for platform admins: reviewing uploaded versions and
//! suspending apps everywhere. Every decision is written to the audit trail
//! in the same transaction as the change.

use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::Auth;
use super::error::{ApiError, ErrorBody};
use super::views::{AppView, VersionView};
use super::{ApiJson, AppState};
use crate::store::{User, VersionStatus};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(reviews))
        .routes(routes!(approve))
        .routes(routes!(reject))
        .routes(routes!(suspend))
        .routes(routes!(resume))
}

/// 403 unless the caller is a platform admin.
pub(super) fn require_admin(user: &User) -> Result<(), ApiError> {
    if user.is_admin {
        Ok(())
    } else {
        Err(ApiError::forbidden("only platform admins may do this"))
    }
}

/// A version waiting for review.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewItem {
    /// The app's slug.
    pub app: String,
    /// The version, with what it asks for.
    #[serde(flatten)]
    pub version: VersionView,
}

/// Why a version is rejected or an app suspended.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    /// Shown to the developer (rejection) or to everybody asking
    /// (suspension): 1 to 2000 characters, not only white space.
    #[schema(
        min_length = 1,
        max_length = 2000,
        pattern = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*[^\\u0000-\\u0020\\u007F-\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000][^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$"
    )]
    pub reason: String,
}

/// The longest reason, in characters.
const MAX_REASON_CHARS: usize = 2000;

fn reason(body: &Reason) -> Result<&str, ApiError> {
    let chars = body.reason.chars().count();
    if chars > MAX_REASON_CHARS {
        return Err(ApiError::bad(
            "invalid_reason",
            format!("a reason is at most {MAX_REASON_CHARS} characters; got {chars}"),
        ));
    }
    let reason = body.reason.trim();
    if reason.is_empty() {
        return Err(ApiError::bad("missing_reason", "give a reason"));
    }
    Ok(reason)
}

/// Versions waiting for review, oldest first.
#[utoipa::path(get, path = "/v1/admin/reviews", tag = "admin",
    responses((status = 200, body = Vec<ReviewItem>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn reviews(
    State(state): State<AppState>,
    Auth(user): Auth,
) -> Result<Json<Vec<ReviewItem>>, ApiError> {
    require_admin(&user)?;
    let items = state
        .store()
        .pending_versions()
        .await?
        .into_iter()
        .map(|v| ReviewItem {
            app: v.app_slug.clone(),
            version: v.into(),
        })
        .collect();
    Ok(Json(items))
}

async fn decide(
    state: &AppState,
    user: &User,
    slug: &str,
    version: &str,
    status: VersionStatus,
    why: Option<&str>,
) -> Result<Json<VersionView>, ApiError> {
    require_admin(user)?;
    let store = state.store();
    let current = store.version(slug, version).await?.ok_or_else(|| {
        ApiError::not_found(
            "version_not_found",
            format!("{slug} has no version {version}"),
        )
    })?;
    if !store
        .review_version(slug, version, status, why, &user.id)
        .await?
    {
        return Err(ApiError::conflict(
            "already_reviewed",
            format!("{slug} {version} is already {}", current.status.as_str()),
        ));
    }
    let reviewed = store
        .version(slug, version)
        .await?
        .ok_or_else(|| ApiError::Internal(format!("{slug} {version} vanished")))?;
    tracing::info!(app = %slug, version = %version, status = status.as_str(), by = %user.id, "version reviewed");
    Ok(Json(reviewed.into()))
}

/// Approve a pending version: it appears in the catalog and can be installed.
#[utoipa::path(post, path = "/v1/admin/apps/{slug}/versions/{version}/approve", tag = "admin",
    params(("slug" = String, Path, description = "App slug"), ("version" = String, Path, description = "Version")),
    responses((status = 200, body = VersionView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "already reviewed", body = ErrorBody)))]
async fn approve(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path((slug, version)): Path<(String, String)>,
) -> Result<Json<VersionView>, ApiError> {
    decide(
        &state,
        &user,
        &slug,
        &version,
        VersionStatus::Approved,
        None,
    )
    .await
}

/// Reject a pending version with a reason the developer sees.
#[utoipa::path(post, path = "/v1/admin/apps/{slug}/versions/{version}/reject", tag = "admin", request_body = Reason,
    params(("slug" = String, Path, description = "App slug"), ("version" = String, Path, description = "Version")),
    responses((status = 200, body = VersionView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "already reviewed", body = ErrorBody)))]
async fn reject(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path((slug, version)): Path<(String, String)>,
    ApiJson(body): ApiJson<Reason>,
) -> Result<Json<VersionView>, ApiError> {
    require_admin(&user)?;
    let why = reason(&body)?;
    decide(
        &state,
        &user,
        &slug,
        &version,
        VersionStatus::Rejected,
        Some(why),
    )
    .await
}

async fn set_suspended(
    state: &AppState,
    user: &User,
    slug: &str,
    why: Option<&str>,
) -> Result<Json<AppView>, ApiError> {
    let store = state.store();
    if store.app(slug).await?.is_none() {
        return Err(ApiError::not_found(
            "app_not_found",
            format!("no app {slug}"),
        ));
    }
    if !store.set_suspended(slug, why, &user.id).await? {
        let state = if why.is_some() {
            "suspended"
        } else {
            "not suspended"
        };
        return Err(ApiError::conflict(
            "unchanged",
            format!("{slug} is already {state}"),
        ));
    }
    tracing::warn!(app = %slug, suspended = why.is_some(), by = %user.id, "app suspension changed");
    let app = store
        .app(slug)
        .await?
        .ok_or_else(|| ApiError::Internal(format!("{slug} vanished")))?;
    let versions = store.versions(slug).await?;
    Ok(Json(AppView::new(app, versions)))
}

/// Suspend an app everywhere: it is not invoked in any group (answers
/// `suspended`), its timers wait, and it leaves the catalog.
#[utoipa::path(post, path = "/v1/admin/apps/{slug}/suspend", tag = "admin", request_body = Reason,
    params(("slug" = String, Path, description = "App slug")),
    responses((status = 200, body = AppView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "already suspended", body = ErrorBody)))]
async fn suspend(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path(slug): Path<String>,
    ApiJson(body): ApiJson<Reason>,
) -> Result<Json<AppView>, ApiError> {
    require_admin(&user)?;
    let why = reason(&body)?;
    set_suspended(&state, &user, &slug, Some(why)).await
}

/// Resume a suspended app: everything it had runs again, and timers that
/// came due meanwhile fire.
#[utoipa::path(post, path = "/v1/admin/apps/{slug}/resume", tag = "admin",
    params(("slug" = String, Path, description = "App slug")),
    responses((status = 200, body = AppView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "not suspended", body = ErrorBody)))]
async fn resume(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path(slug): Path<String>,
) -> Result<Json<AppView>, ApiError> {
    require_admin(&user)?;
    set_suspended(&state, &user, &slug, None).await
}
