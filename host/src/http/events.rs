//! `/v1/apps/{slug}/events`: the app's events in the outbox — above all the
//! parked ones, which its developer must look at. Only the app's developer
//! and platform admins may read them.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::apps::managed_app;
use super::auth::Auth;
use super::error::{ApiError, ErrorBody};
use crate::store::OutboxEvent;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_events))
}

/// Which events to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// `pending`, `delivered` or `parked` (default: all).
    #[param(pattern = "^(pending|delivered|parked)$")]
    status: Option<String>,
    /// At most this many, newest first (default 100; 0 counts as 1, more than 500 as 500).
    #[param(minimum = 0, maximum = 4294967295.0, format = "uint32")]
    limit: Option<u32>,
}

/// One event queued for an installation of the app.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    /// The stable id the app sees as its invocation id, e.g. `event:42`.
    pub id: String,
    /// The installation it is for.
    pub installation_id: String,
    /// The group where it happened.
    pub group_id: String,
    /// The event's kind, e.g. `member-joined`.
    pub kind: String,
    /// The event as delivered (`{"kind": ..., ...}`).
    #[schema(value_type = Object)]
    pub body: serde_json::Value,
    /// `pending`, `delivered` or `parked`.
    pub status: String,
    /// Failed attempts so far.
    pub attempts: i64,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When it was queued (ms since the epoch).
    pub created_at: i64,
    /// When it is tried next, while pending (ms).
    pub next_attempt_at: i64,
    /// When it was delivered (ms).
    pub delivered_at: Option<i64>,
}

impl From<OutboxEvent> for EventView {
    fn from(event: OutboxEvent) -> Self {
        EventView {
            id: event.stable_id(),
            kind: event.body.kind().to_string(),
            body: serde_json::to_value(&event.body).unwrap_or(serde_json::Value::Null),
            installation_id: event.installation_id,
            group_id: event.group_id,
            status: event.status,
            attempts: event.attempts,
            last_error: event.last_error,
            created_at: event.created_at,
            next_attempt_at: event.next_attempt_at,
            delivered_at: event.delivered_at,
        }
    }
}

/// Events of the app's installations, newest first (its developer and platform admins).
/// `?status=parked` lists the events that failed too often to be retried.
#[utoipa::path(get, path = "/v1/apps/{slug}/events", tag = "apps",
    params(("slug" = String, Path, description = "App slug"), EventsQuery),
    responses((status = 200, body = Vec<EventView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_events(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path(slug): Path<String>,
    query: Result<Query<EventsQuery>, QueryRejection>,
) -> Result<Json<Vec<EventView>>, ApiError> {
    let Query(query) = query?;
    managed_app(&state, &user, &slug, "read its events").await?;
    let status = query.status.as_deref();
    if let Some(status) = status
        && !matches!(status, "pending" | "delivered" | "parked")
    {
        return Err(ApiError::bad(
            "invalid_status",
            format!("status is pending, delivered or parked; got {status:?}"),
        ));
    }
    let limit = query.limit.unwrap_or(100).clamp(1, 500);
    let events = state.store().events_of_app(&slug, status, limit).await?;
    Ok(Json(events.into_iter().map(EventView::from).collect()))
}
