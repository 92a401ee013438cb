//! Member consent and refunds: a payer lists, confirms or declines the
//! payments apps asked them for; a group owner refunds; owners and admins see
//! their group's payments. Also the background sweep that expires requests
//! nobody answered.

use std::time::Duration;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::Auth;
use super::error::{ApiError, ErrorBody};
use super::{ApiJson, AppState};
use crate::store::{Decision, PaymentError, PaymentRecord, PaymentState, Role, now_ms};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(my_payments))
        .routes(routes!(confirm))
        .routes(routes!(decline))
        .routes(routes!(group_payments))
        .routes(routes!(refund))
}

/// Which payments to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PaymentsQuery {
    /// Only payments in this state: `pending`, `settled`, `declined`, `expired`.
    #[param(pattern = "^(pending|settled|declined|expired)$")]
    status: Option<String>,
    /// At most this many (default 100; 0 counts as 1, more than 1000 as 1000).
    #[param(minimum = 0, maximum = 4294967295.0, format = "uint32")]
    limit: Option<u32>,
}

/// A list of payments, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentList {
    /// The payments.
    pub payments: Vec<PaymentRecord>,
}

/// A refund to make.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundRequest {
    /// Minor units to give back; positive, at most what is left.
    #[schema(minimum = 1)]
    #[serde(deserialize_with = "super::number::i64_field")]
    pub amount: i64,
    /// The same key with the same amount refunds once (1 to 255 visible
    /// ASCII characters).
    #[schema(pattern = "^[!-~]{1,255}$")]
    pub idempotency_key: String,
}

/// Whether `key` is a valid idempotency key: 1 to 255 visible ASCII characters.
fn valid_key(key: &str) -> bool {
    (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic())
}

fn payment_error(e: PaymentError) -> ApiError {
    match e {
        PaymentError::NotFound => ApiError::not_found("payment_not_found", "no such payment"),
        PaymentError::NotPending(_) => ApiError::conflict("not_pending", e.to_string()),
        PaymentError::Expired(_) => ApiError::conflict("expired", e.to_string()),
        PaymentError::NotSettled(_) => ApiError::conflict("not_settled", e.to_string()),
        PaymentError::InsufficientFunds { .. } => {
            ApiError::conflict("insufficient_funds", e.to_string())
        }
        PaymentError::RefundTooLarge { .. } => {
            ApiError::conflict("refund_exceeds_payment", e.to_string())
        }
        PaymentError::BadAmount => ApiError::bad("invalid_amount", e.to_string()),
        PaymentError::KeyReused(m) => ApiError::conflict("idempotency_key_reused", m),
        PaymentError::Store(e) => e.into(),
    }
}

/// The `Idempotency-Key` header, if given.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .filter(|k| valid_key(k))
        .ok_or_else(|| {
            ApiError::bad(
                "invalid_idempotency_key",
                "Idempotency-Key must be 1 to 255 visible ASCII characters",
            )
        })?;
    Ok(Some(key.to_string()))
}

fn parse_status(status: Option<&str>) -> Result<Option<PaymentState>, ApiError> {
    status
        .map(|name| {
            PaymentState::parse(name).ok_or_else(|| {
                ApiError::bad(
                    "invalid_status",
                    format!("unknown status {name:?}; use pending, settled, declined or expired"),
                )
            })
        })
        .transpose()
}

fn parse_limit(limit: Option<u32>) -> u32 {
    limit.unwrap_or(100).clamp(1, 1000)
}

/// Payments apps asked you for, newest first.
#[utoipa::path(get, path = "/v1/me/payments", tag = "payments", params(PaymentsQuery),
    responses((status = 200, body = PaymentList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn my_payments(
    State(state): State<AppState>,
    Auth(user): Auth,
    query: Result<Query<PaymentsQuery>, QueryRejection>,
) -> Result<Json<PaymentList>, ApiError> {
    let Query(query) = query?;
    let status = parse_status(query.status.as_deref())?;
    let payments = state
        .store()
        .payments_of_payer(&user.id, status, parse_limit(query.limit))
        .await?;
    Ok(Json(PaymentList { payments }))
}

async fn decide(
    state: &AppState,
    user_id: &str,
    id: &str,
    decision: Decision,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let key = idempotency_key(headers)?;
    let result = state
        .store()
        .decide_payment(
            id,
            user_id,
            decision,
            &state.runtime.limits().payments,
            key.as_deref(),
        )
        .await;
    let decided = result.map_err(payment_error)?;
    let status = StatusCode::from_u16(decided.status).unwrap_or(StatusCode::OK);
    Ok((
        status,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        decided.body,
    )
        .into_response())
}

/// Pay a payment an app asked you for: your wallet is debited, the group
/// owner, the app's developer and the platform are credited at once. Only the
/// payer may; for anybody else the payment does not exist. With an
/// `Idempotency-Key` header a repeat answers the first result.
#[utoipa::path(post, path = "/v1/payments/{id}/confirm", tag = "payments",
    params(("id" = String, Path, description = "Payment id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe key: 1 to 255 visible ASCII characters", pattern = "^[!-~]{1,255}$")),
    responses((status = 200, body = PaymentRecord), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "not pending, expired, insufficient_funds or key reused")))]
async fn confirm(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    decide(&state, &user.id, &id, Decision::Confirm, &headers).await
}

/// Refuse a payment an app asked you for (only the payer; the app hears
/// `payment-failed` with reason `declined`).
#[utoipa::path(post, path = "/v1/payments/{id}/decline", tag = "payments",
    params(("id" = String, Path, description = "Payment id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe key: 1 to 255 visible ASCII characters", pattern = "^[!-~]{1,255}$")),
    responses((status = 200, body = PaymentRecord), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn decline(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    decide(&state, &user.id, &id, Decision::Decline, &headers).await
}

/// Payments requested in the group, newest first (owner and group admins).
#[utoipa::path(get, path = "/v1/groups/{gid}/payments", tag = "payments",
    params(("gid" = String, Path, description = "Group id"), PaymentsQuery),
    responses((status = 200, body = PaymentList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn group_payments(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path(gid): Path<String>,
    query: Result<Query<PaymentsQuery>, QueryRejection>,
) -> Result<Json<PaymentList>, ApiError> {
    state.manager_of(&gid, &user).await?;
    let Query(query) = query?;
    let status = parse_status(query.status.as_deref())?;
    let payments = state
        .store()
        .payments_of_group(&gid, status, parse_limit(query.limit))
        .await?;
    Ok(Json(PaymentList { payments }))
}

/// Refund part or all of a settled payment made in the group (the group
/// owner only, who gives back their part; the platform fee and the
/// developer share are reversed in proportion).
#[utoipa::path(post, path = "/v1/groups/{gid}/payments/{id}/refund", tag = "payments", request_body = RefundRequest,
    params(("gid" = String, Path, description = "Group id"), ("id" = String, Path, description = "Payment id")),
    responses((status = 200, body = PaymentRecord), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn refund(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path((gid, id)): Path<(String, String)>,
    body: Result<ApiJson<RefundRequest>, ApiError>,
) -> Result<Json<PaymentRecord>, ApiError> {
    // Strangers learn nothing, not even whether their body would parse.
    let member = state.member_of(&gid, &user).await?;
    if member.role != Role::Owner {
        return Err(ApiError::forbidden(
            "only the group's owner may refund payments",
        ));
    }
    let ApiJson(body) = body?;
    let key = body.idempotency_key.as_str();
    if !valid_key(key) {
        return Err(ApiError::bad(
            "invalid_idempotency_key",
            "idempotency_key must be 1 to 255 visible ASCII characters",
        ));
    }
    if body.amount <= 0 {
        return Err(ApiError::bad(
            "invalid_amount",
            "the amount must be positive",
        ));
    }
    match state.store().payment(&id).await? {
        Some(p) if p.group_id == gid => {}
        _ => return Err(ApiError::not_found("payment_not_found", "no such payment")),
    }
    let (payment, _) = state
        .store()
        .refund_payment(&id, body.amount, key, &format!("user:{}", user.id))
        .await
        .map_err(payment_error)?;
    Ok(Json(payment))
}

/// Expire pending payments past their time every `every`; their apps hear
/// `payment-failed` (reason `expired`) through the event outbox.
pub fn spawn_payment_expiry(state: AppState, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            if let Err(e) = state.store().expire_payments(now_ms(), 100).await {
                tracing::error!("expiring payments failed: {e}");
            }
        }
    })
}
