//! `GET /v1/apps/{slug}/logs`: the developer's view of their app's own log
//! lines, stdout/stderr and failures (traps, timeouts, automatic disabling).

use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::apps::managed_app;
use super::auth::Auth;
use super::error::{ApiError, ErrorBody};
use super::{ApiQuery, AppState};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(app_logs))
}

/// Most lines per page.
const MAX_LINES: u32 = 500;
/// Most bytes of messages per page; a page ends early rather than grow past it.
const MAX_PAGE_BYTES: usize = 256 << 10;

/// Which lines, newest first.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogParams {
    /// Only this version's lines.
    pub version: Option<String>,
    /// The `next_before` of the previous page.
    pub before: Option<i64>,
    /// Lines per page (default 100; 0 counts as 1, more than 500 as 500).
    #[param(minimum = 0, maximum = 4294967295.0, format = "uint32")]
    pub limit: Option<u32>,
}

/// One line.
#[derive(Debug, Serialize, ToSchema)]
pub struct LogEntry {
    /// Position (newer lines have larger ids).
    pub id: i64,
    /// When (ms since the epoch).
    pub at: i64,
    /// The installation it came from.
    pub installation_id: Option<String>,
    /// The app version.
    pub version: String,
    /// `trace`..`error` for log lines, `stdout`/`stderr`, `failure` for traps,
    /// timeouts and refused commits.
    pub level: String,
    /// The line.
    pub message: String,
    /// Structured fields.
    #[schema(value_type = Vec<Vec<String>>)]
    pub fields: Vec<(String, String)>,
}

/// A page of log lines.
#[derive(Debug, Serialize, ToSchema)]
pub struct LogPage {
    /// Lines, newest first.
    pub lines: Vec<LogEntry>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    pub next_before: Option<i64>,
}

/// The app's log, newest first (its developer and platform admins).
#[utoipa::path(get, path = "/v1/apps/{slug}/logs", tag = "apps",
    params(("slug" = String, Path, description = "App slug"), LogParams),
    responses((status = 200, body = LogPage), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn app_logs(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path(slug): Path<String>,
    ApiQuery(params): ApiQuery<LogParams>,
) -> Result<Json<LogPage>, ApiError> {
    managed_app(&state, &user, &slug, "read its log").await?;
    let limit = params.limit.unwrap_or(100).clamp(1, MAX_LINES);
    let rows = state
        .store()
        .app_logs(&slug, params.version.as_deref(), params.before, limit)
        .await?;
    let fetched = rows.len();
    let mut bytes = 0;
    let mut lines = Vec::new();
    for row in rows {
        bytes += row.line.message.len();
        if bytes > MAX_PAGE_BYTES && !lines.is_empty() {
            break;
        }
        lines.push(LogEntry {
            id: row.id,
            at: row.line.at,
            installation_id: row.line.installation_id,
            version: row.line.app_version,
            level: row.line.level,
            message: row.line.message,
            fields: row.line.fields,
        });
    }
    // More lines remain when the page is full, or was cut short by size.
    let more = fetched == limit as usize || lines.len() < fetched;
    let next_before = if more {
        lines.last().map(|l| l.id)
    } else {
        None
    };
    Ok(Json(LogPage { lines, next_before }))
}
