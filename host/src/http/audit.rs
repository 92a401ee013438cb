//! Reading the audit trail: platform admins read all of it, a group's owner
//! and admins their group's part, an app's developer their app's part. No
//! route changes or deletes a row.

use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::admin::require_admin;
use super::apps::managed_app;
use super::auth::Auth;
use super::error::{ApiError, ErrorBody};
use super::{ApiQuery, AppState};
use crate::store::{AuditQuery, AuditRow};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(all))
        .routes(routes!(verify))
        .routes(routes!(of_group))
        .routes(routes!(of_app))
}

/// Largest page.
const MAX_PAGE: u32 = 500;

/// Filters and paging, newest first.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Only this app's rows.
    pub app: Option<String>,
    /// Only this group's rows.
    pub group: Option<String>,
    /// Only rows at or after this time (ms since the epoch).
    pub since: Option<i64>,
    /// Only rows before this time (ms since the epoch).
    pub until: Option<i64>,
    /// Only this action: an invocation's summary (`calls.summary`), a capability
    /// call (`storage.set`) or a decision (`review.approve`, `installation.install`).
    #[param(max_length = 128)]
    pub action: Option<String>,
    /// Only this outcome: `ok`, `denied` or `error`.
    #[param(pattern = "^(ok|denied|error)$")]
    pub outcome: Option<String>,
    /// The `next_before` of the previous page.
    pub before: Option<i64>,
    /// Rows per page (default 100; 0 counts as 1, more than 500 as 500).
    #[param(minimum = 0, maximum = 4294967295.0, format = "uint32")]
    pub limit: Option<u32>,
}

/// One audited action.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntry {
    /// Position in the trail.
    pub id: i64,
    /// When (ms since the epoch).
    pub at: i64,
    /// The installation that acted or was acted on.
    pub installation_id: Option<String>,
    /// The app.
    pub app: Option<String>,
    /// The app version.
    pub app_version: Option<String>,
    /// The group.
    pub group_id: Option<String>,
    /// The member an invocation ran for, or the user who decided (`health` for
    /// the host's automatic decisions).
    pub actor: Option<String>,
    /// `interface.function` for a denied capability call (e.g.
    /// `messaging.post`), `calls.summary` for an invocation's other calls
    /// (grouped in `detail` as JSON: `invocations`, `calls`, and `by`: each
    /// call and outcome with its `count` and total `us`), the decision for
    /// people (e.g. `review.approve`, `installation.grants`).
    pub action: String,
    /// `ok`, `denied` or `error`.
    pub outcome: String,
    /// Why (denials, errors, reasons given).
    pub detail: Option<String>,
    /// Duration of a capability call, in microseconds.
    pub duration_us: i64,
    /// This row's link in the tamper-evident chain.
    pub hash: Option<String>,
    /// The chain it belongs to: its installation's id (`app:SLUG` or `host`
    /// for decisions about no installation); absent on rows from before
    /// chains were per installation.
    pub chain: Option<String>,
    /// Its position in that chain, from 1.
    pub seq: Option<i64>,
}

impl From<AuditRow> for AuditEntry {
    fn from(row: AuditRow) -> AuditEntry {
        let r = row.record;
        AuditEntry {
            id: row.id,
            at: r.at,
            installation_id: r.installation_id,
            app: r.app_slug,
            app_version: r.app_version,
            group_id: r.group_id,
            actor: r.actor,
            action: r.action,
            outcome: r.outcome,
            detail: r.detail,
            duration_us: r.duration_us,
            hash: row.hash,
            chain: row.chain,
            seq: row.seq,
        }
    }
}

/// A page of the audit trail.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    /// Rows, newest first.
    pub entries: Vec<AuditEntry>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    pub next_before: Option<i64>,
}

async fn page(state: &AppState, params: AuditParams) -> Result<Json<AuditPage>, ApiError> {
    if let Some(outcome) = &params.outcome
        && !["ok", "denied", "error"].contains(&outcome.as_str())
    {
        return Err(ApiError::bad(
            "bad_query",
            format!("outcome is ok, denied or error; got {outcome:?}"),
        ));
    }
    if let Some(action) = &params.action
        && action.chars().count() > 128
    {
        return Err(ApiError::bad(
            "bad_query",
            "action is at most 128 characters",
        ));
    }
    let limit = params.limit.unwrap_or(100).clamp(1, MAX_PAGE);
    let query = AuditQuery {
        app: params.app,
        group: params.group,
        since: params.since,
        until: params.until,
        action: params.action,
        outcome: params.outcome,
        before: params.before,
        limit,
    };
    let rows = state.store().audit(&query).await?;
    let next_before = (rows.len() == limit as usize)
        .then(|| rows.last().map(|r| r.id))
        .flatten();
    Ok(Json(AuditPage {
        entries: rows.into_iter().map(AuditEntry::from).collect(),
        next_before,
    }))
}

/// The whole audit trail (platform admins).
#[utoipa::path(get, path = "/v1/admin/audit", tag = "audit", params(AuditParams),
    responses((status = 200, body = AuditPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
async fn all(
    State(state): State<AppState>,
    Auth(user): Auth,
    ApiQuery(params): ApiQuery<AuditParams>,
) -> Result<Json<AuditPage>, ApiError> {
    require_admin(&user)?;
    page(&state, params).await
}

/// The group's part of the audit trail (its owner and admins).
#[utoipa::path(get, path = "/v1/groups/{gid}/audit", tag = "audit",
    params(("gid" = String, Path, description = "Group id"), AuditParams),
    responses((status = 200, body = AuditPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn of_group(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path(gid): Path<String>,
    ApiQuery(mut params): ApiQuery<AuditParams>,
) -> Result<Json<AuditPage>, ApiError> {
    state.manager_of(&gid, &user).await?;
    params.group = Some(gid);
    page(&state, params).await
}

/// The app's part of the audit trail (its developer and platform admins).
#[utoipa::path(get, path = "/v1/apps/{slug}/audit", tag = "audit",
    params(("slug" = String, Path, description = "App slug"), AuditParams),
    responses((status = 200, body = AuditPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn of_app(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path(slug): Path<String>,
    ApiQuery(mut params): ApiQuery<AuditParams>,
) -> Result<Json<AuditPage>, ApiError> {
    managed_app(&state, &user, &slug, "read its audit trail").await?;
    params.app = Some(slug);
    page(&state, params).await
}

/// The result of checking the audit trail's hash chains.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditVerificationView {
    /// Every chain is intact and every chain head is anchored.
    pub ok: bool,
    /// Rows checked.
    pub rows: u64,
    /// Rows from before the chain existed.
    pub unchained: u64,
    /// Chains checked.
    pub chains: u64,
    /// Chain heads anchored in the global anchor chain.
    pub anchors: u64,
    /// The first broken link (`null` when `ok`).
    pub broken: Option<BrokenLinkView>,
}

/// Where the chain breaks.
#[derive(Debug, Serialize, ToSchema)]
pub struct BrokenLinkView {
    /// The first row whose hash does not follow (0: a chain lost all its rows).
    pub id: i64,
    /// The chain it belongs to.
    pub chain: Option<String>,
    /// What is wrong, in words.
    pub reason: String,
}

/// Verify the audit trail's hash chains now, as `qun audit verify` does
/// (platform admins). Reads the whole trail.
#[utoipa::path(get, path = "/v1/admin/audit/verify", tag = "audit",
    responses((status = 200, body = AuditVerificationView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
async fn verify(
    State(state): State<AppState>,
    Auth(user): Auth,
) -> Result<Json<AuditVerificationView>, ApiError> {
    require_admin(&user)?;
    let checked = state.store().verify_audit().await?;
    Ok(Json(AuditVerificationView {
        ok: checked.broken.is_none(),
        rows: checked.rows,
        unchained: checked.unchained,
        chains: checked.chains,
        anchors: checked.anchors,
        broken: checked.broken.map(|b| BrokenLinkView {
            id: b.id,
            chain: b.chain,
            reason: b.reason,
        }),
    }))
}
