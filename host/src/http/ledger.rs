//! `GET /v1/admin/ledger/check`: prove the ledger balances.

use axum::Json;
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::Auth;
use super::error::{ApiError, ErrorBody};
use crate::store::LedgerReport;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(check))
}

/// Check the ledger (platform admins only): every transaction sums to zero,
/// every balance equals its entries, every payment was charged once if
/// settled. `ok` is false and the differences are listed otherwise.
#[utoipa::path(get, path = "/v1/admin/ledger/check", tag = "payments",
    responses((status = 200, body = LedgerReport), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn check(
    State(state): State<AppState>,
    Auth(caller): Auth,
) -> Result<Json<LedgerReport>, ApiError> {
    if !caller.is_admin {
        return Err(ApiError::forbidden(
            "only platform admins may check the ledger",
        ));
    }
    Ok(Json(state.store().ledger_check().await?))
}
