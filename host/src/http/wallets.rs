//! Wallets: a platform admin's top-up (standing in for a payment provider)
//! and `GET /v1/me/wallet`.

use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::Auth;
use super::error::{ApiError, ErrorBody};
use super::{ApiJson, AppState};
use crate::store::AuditRecord;
use crate::store::Balance;
use crate::store::ledger::{AdminCredit, PaymentProvider, valid_currency};

/// The largest single top-up, in minor units (keeps balances far from overflow).
pub const MAX_CREDIT: i64 = 1_000_000_000_000;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(credit))
        .routes(routes!(wallet))
}

/// Money to put into a wallet.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Credit {
    /// Minor units (cents, fen): 1 to 10^12.
    #[schema(minimum = 1, maximum = 1000000000000_i64)]
    #[serde(deserialize_with = "super::number::i64_field")]
    pub amount: i64,
    /// An active ISO 4217 code, e.g. `CNY`.
    #[schema(value_type = Currency)]
    pub currency: String,
}

/// An active ISO 4217 currency code (the schema of `currency` in requests).
pub struct Currency;

impl utoipa::PartialSchema for Currency {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("An active ISO 4217 currency code"))
            .enum_values(Some(crate::store::iso4217::codes().iter().copied()))
            .into()
    }
}

impl ToSchema for Currency {}

/// A wallet's balance after a top-up.
#[derive(Debug, Serialize, ToSchema)]
pub struct Credited {
    /// Whose wallet.
    pub user_id: String,
    /// Currency.
    pub currency: String,
    /// The new balance, in minor units.
    pub balance: i64,
}

/// Your balances.
#[derive(Debug, Serialize, ToSchema)]
pub struct Wallet {
    /// One entry per currency you hold or held.
    pub balances: Vec<Balance>,
}

/// Put money into a user's wallet (platform admins only; stands in for an
/// external payment provider).
#[utoipa::path(post, path = "/v1/admin/wallets/{user_id}/credit", tag = "payments", request_body = Credit,
    params(("user_id" = String, Path, description = "User id")),
    responses((status = 200, body = Credited), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn credit(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(user_id): Path<String>,
    ApiJson(body): ApiJson<Credit>,
) -> Result<Json<Credited>, ApiError> {
    if !caller.is_admin {
        return Err(ApiError::forbidden(
            "only platform admins may credit wallets",
        ));
    }
    if !valid_currency(&body.currency) {
        return Err(ApiError::bad(
            "invalid_currency",
            format!(
                "currency {:?} is not an ISO 4217 code such as \"CNY\"",
                body.currency
            ),
        ));
    }
    if body.amount <= 0 || body.amount > MAX_CREDIT {
        return Err(ApiError::bad(
            "invalid_amount",
            format!("the amount must be between 1 and {MAX_CREDIT} minor units"),
        ));
    }
    if state.store().user(&user_id).await?.is_none() {
        return Err(ApiError::not_found(
            "user_not_found",
            format!("no user {user_id}"),
        ));
    }
    let note = format!("top-up by {}", caller.id);
    let balance = AdminCredit
        .credit(state.store(), &user_id, body.amount, &body.currency, &note)
        .await?;
    // The ledger holds the money movement itself; the trail records who decided it.
    let record = AuditRecord::decision("wallet.credit", &caller.id)
        .detail(format!("{} {} to {user_id}", body.amount, body.currency));
    if let Err(e) = state.store().append_audit(&[record]).await {
        tracing::error!("could not audit a wallet credit of {user_id}: {e}");
    }
    Ok(Json(Credited {
        user_id,
        currency: body.currency,
        balance,
    }))
}

/// Your wallet: one balance per currency, in minor units.
#[utoipa::path(get, path = "/v1/me/wallet", tag = "payments",
    responses((status = 200, body = Wallet), (status = 401, body = ErrorBody)))]
async fn wallet(State(state): State<AppState>, Auth(user): Auth) -> Result<Json<Wallet>, ApiError> {
    Ok(Json(Wallet {
        balances: state.store().wallet(&user.id).await?,
    }))
}
