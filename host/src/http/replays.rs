//! `GET /v1/apps/{slug}/replays[/{id}]`: the replay records of an app's
//! failed invocations (issue 16), for its developer and platform admins
//! only (they hold group data: what the app was given). Fetching one leaves
//! an audit row naming who read it.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::apps::managed_app;
use super::auth::Auth;
use super::error::{ApiError, ErrorBody};
use super::{ApiQuery, AppState};
use crate::store::AuditRecord;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_replays))
        .routes(routes!(get_replay))
}

/// Most records per page.
const MAX_RECORDS: u32 = 100;

/// Which records, newest first.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReplayParams {
    /// Only this installation's records.
    pub installation_id: Option<String>,
    /// Only records made before this time (ms since the epoch): the
    /// `created_at` of the last record of the previous page.
    pub before: Option<i64>,
    /// Records per page (default 20; 0 counts as 1, more than 100 as 100).
    #[param(minimum = 0, maximum = 4294967295.0, format = "uint32")]
    pub limit: Option<u32>,
}

/// A record, as listed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReplayEntry {
    /// Id (`rp_...`): `qun app replay ID` fetches and runs it.
    pub id: String,
    /// When the invocation failed (ms since the epoch).
    pub created_at: i64,
    /// The version that ran.
    pub version: String,
    /// Where.
    pub installation_id: String,
    /// The group.
    pub group_id: String,
    /// The incident id the member was shown.
    pub incident: String,
    /// The error code (`trap`, `timeout`, `app_error`, ...).
    pub code: String,
    /// Its message.
    pub message: String,
    /// Capability calls recorded.
    pub calls: i64,
    /// Bytes of the record.
    pub size: i64,
}

/// A page of records.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReplayPage {
    /// Records, newest first.
    pub records: Vec<ReplayEntry>,
}

/// The app's replay records, newest first (its developer and platform admins).
#[utoipa::path(get, path = "/v1/apps/{slug}/replays", tag = "apps",
    params(("slug" = String, Path, description = "App slug"), ReplayParams),
    responses((status = 200, body = ReplayPage), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn list_replays(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path(slug): Path<String>,
    ApiQuery(params): ApiQuery<ReplayParams>,
) -> Result<Json<ReplayPage>, ApiError> {
    managed_app(&state, &user, &slug, "read its replay records").await?;
    let limit = params.limit.unwrap_or(20).clamp(1, MAX_RECORDS);
    let rows = state
        .store()
        .replays(
            &slug,
            params.installation_id.as_deref(),
            params.before,
            limit,
        )
        .await?;
    let records = rows
        .into_iter()
        .map(|r| ReplayEntry {
            id: r.id,
            created_at: r.created_at,
            version: r.app_version,
            installation_id: r.installation_id,
            group_id: r.group_id,
            incident: r.incident,
            code: r.code,
            message: r.message,
            calls: r.calls,
            size: r.size,
        })
        .collect();
    Ok(Json(ReplayPage { records }))
}

/// One replay record (format `qun-replay/1`): the call, its context, every
/// capability call with the host's answer, clock readings, random seeds, the
/// app's log lines. `qun app replay ID --wasm FILE` runs a component against it.
#[utoipa::path(get, path = "/v1/apps/{slug}/replays/{id}", tag = "apps",
    params(("slug" = String, Path, description = "App slug"), ("id" = String, Path, description = "Record id")),
    responses((status = 200, body = Object, description = "The record (JSON)"), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_replay(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path((slug, id)): Path<(String, String)>,
) -> Result<impl IntoResponse, ApiError> {
    managed_app(&state, &user, &slug, "read its replay records").await?;
    let Some(body) = state.store().replay_body(&slug, &id).await? else {
        return Err(ApiError::not_found(
            "replay_not_found",
            format!("app {slug} has no replay record {id}"),
        ));
    };
    // Who read group data, and which.
    let record = AuditRecord::decision("replay.read", &user.id)
        .app(&slug, None)
        .detail(id);
    state.store().append_audit(&[record]).await?;
    Ok(([(CONTENT_TYPE, "application/json")], body))
}
