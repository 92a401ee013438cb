//! `GET /v1/apps/{slug}/stats`: invocations, errors and latency per version,
//! for the app's developer (and platform admins).

use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::apps::managed_app;
use super::auth::Auth;
use super::error::{ApiError, ErrorBody};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(stats))
}

/// An app's invocations on this host since it started.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppStats {
    /// When counting started on this host (ms since the epoch).
    pub since: i64,
    /// Per version invoked since then, by version.
    pub versions: Vec<VersionStatsView>,
}

/// One version's invocations.
#[derive(Debug, Serialize, ToSchema)]
pub struct VersionStatsView {
    /// The version.
    pub version: String,
    /// Invocations (events, timers, actions, commands, forms).
    pub invocations: u64,
    /// Of those, the ones that failed (an error the app returned, a trap, a
    /// timeout, a refusal by the host).
    pub errors: u64,
    /// Mean time per invocation, in milliseconds.
    pub avg_ms: f64,
    /// The slowest invocation, in milliseconds.
    pub max_ms: f64,
}

/// Invocation counts, errors and latency per version (its developer and
/// platform admins). Counted by the host that answers, since it started.
#[utoipa::path(get, path = "/v1/apps/{slug}/stats", tag = "apps",
    params(("slug" = String, Path, description = "App slug")),
    responses((status = 200, body = AppStats), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn stats(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path(slug): Path<String>,
) -> Result<Json<AppStats>, ApiError> {
    managed_app(&state, &user, &slug, "read its numbers").await?;
    let stats = state.runtime.stats();
    let versions = stats
        .of_app(&slug)
        .into_iter()
        .map(|(version, s)| VersionStatsView {
            version,
            invocations: s.invocations,
            errors: s.errors,
            avg_ms: if s.invocations == 0 {
                0.0
            } else {
                s.total_us as f64 / s.invocations as f64 / 1000.0
            },
            max_ms: s.max_us as f64 / 1000.0,
        })
        .collect();
    Ok(Json(AppStats {
        since: stats.since,
        versions,
    }))
}
