//! Tokens have a lifecycle (issue 11 item 7): a user lists, names, creates
//! and revokes their own tokens (`/v1/me/tokens`); a platform admin revokes
//! every token of a user or disables the user (`/v1/admin/users/{uid}/…`).
//! Every request reads its token's row, so each change holds on the next
//! request on every host; every change is audited.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::admin::require_admin;
use super::auth::Auth;
use super::error::{ApiError, ErrorBody};
use super::users::{check_name, new_token};
use super::views::UserView;
use super::{ApiJson, AppState};
use crate::store::{TokenInfo, TokenScope, now_ms};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
        .routes(routes!(revoke_all))
        .routes(routes!(disable_user))
        .routes(routes!(enable_user))
}

/// The longest lifetime a token can be given: ten years, in seconds.
const MAX_EXPIRY_SECS: u64 = 10 * 365 * 24 * 3600;

/// A token to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// Your name for it, e.g. `laptop CLI` (1 to 100 characters on one line,
    /// not only spaces).
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*[^\\u0000-\\u0020\\u007F-\\u009F][^\\u0000-\\u001F\\u007F-\\u009F]*$"
    )]
    pub name: String,
    /// `full` (default: everything you may do) or `publish` (uploading and
    /// reading your apps' versions only, for the CLI).
    #[serde(default)]
    pub scope: Option<TokenScope>,
    /// Seconds until it stops working (default: never), at most ten years.
    #[serde(default, deserialize_with = "super::number::opt_u64_field")]
    #[schema(minimum = 1, maximum = 315360000)]
    pub expires_in_secs: Option<u64>,
}

/// A token just created, with its secret (shown only this once).
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    /// The token.
    #[serde(flatten)]
    pub info: TokenInfo,
    /// The bearer token; only its hash is stored.
    pub token: String,
}

/// Why a user is disabled.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisableReason {
    /// Recorded in the audit trail (at most 2000 characters).
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub reason: Option<String>,
}

/// How many tokens were revoked.
#[derive(Debug, Serialize, ToSchema)]
pub struct Revoked {
    /// Tokens that worked until now.
    pub revoked: u64,
}

/// Your tokens, newest first, revoked and expired ones included (never the secrets).
#[utoipa::path(get, path = "/v1/me/tokens", tag = "users",
    responses((status = 200, body = Vec<TokenInfo>)))]
async fn list_tokens(
    State(state): State<AppState>,
    Auth(user): Auth,
) -> Result<Json<Vec<TokenInfo>>, ApiError> {
    Ok(Json(state.store().tokens_of(&user.id).await?))
}

/// Create a token for yourself: named, `full` or `publish`, with an optional expiry.
#[utoipa::path(post, path = "/v1/me/tokens", tag = "users", request_body = NewToken,
    responses((status = 201, body = CreatedToken), (status = 403, body = ErrorBody)))]
async fn create_token(
    State(state): State<AppState>,
    Auth(user): Auth,
    ApiJson(body): ApiJson<NewToken>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    let name = check_name("name", &body.name)?;
    let expires_at = match body.expires_in_secs {
        None => None,
        Some(secs) if (1..=MAX_EXPIRY_SECS).contains(&secs) => {
            Some(now_ms().saturating_add(i64::try_from(secs * 1000).unwrap_or(i64::MAX)))
        }
        Some(_) => {
            return Err(ApiError::bad(
                "invalid_expiry",
                format!("expires_in_secs is 1 to {MAX_EXPIRY_SECS}"),
            ));
        }
    };
    let token = new_token();
    let info = state
        .store()
        .create_token(
            &user.id,
            name,
            &token,
            body.scope.unwrap_or(TokenScope::Full),
            expires_at,
            &user.id,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(CreatedToken { info, token })))
}

/// Revoke one of your tokens (it is refused from the next request on, on
/// every host). Anybody else's token does not exist for you.
#[utoipa::path(delete, path = "/v1/me/tokens/{id}", tag = "users",
    params(("id" = String, Path, description = "Token id")),
    responses((status = 200, description = "Revoked (or already revoked)", body = TokenInfo),
        (status = 404, description = "`token_not_found`", body = ErrorBody)))]
async fn revoke_token(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path(id): Path<String>,
) -> Result<Json<TokenInfo>, ApiError> {
    state
        .store()
        .revoke_token(&user.id, &id, &user.id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("token_not_found", format!("you have no token {id}")))
}

async fn known_user(state: &AppState, uid: &str) -> Result<crate::store::User, ApiError> {
    state
        .store()
        .user(uid)
        .await?
        .ok_or_else(|| ApiError::not_found("user_not_found", format!("no user {uid}")))
}

/// Revoke every token of a user (platform admins).
#[utoipa::path(post, path = "/v1/admin/users/{uid}/tokens/revoke", tag = "admin",
    params(("uid" = String, Path, description = "User id")),
    responses((status = 200, body = Revoked), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`self`: admins revoke their own tokens one by one", body = ErrorBody)))]
async fn revoke_all(
    State(state): State<AppState>,
    Auth(admin): Auth,
    Path(uid): Path<String>,
) -> Result<Json<Revoked>, ApiError> {
    require_admin(&admin)?;
    known_user(&state, &uid).await?;
    if uid == admin.id {
        return Err(ApiError::conflict(
            "self",
            "revoke your own tokens one by one at /v1/me/tokens",
        ));
    }
    let revoked = state.store().revoke_tokens_of(&uid, &admin.id).await?;
    Ok(Json(Revoked { revoked }))
}

/// Disable a user (platform admins): every token of theirs is refused with
/// `user_disabled` from the next request on, on every host.
#[utoipa::path(post, path = "/v1/admin/users/{uid}/disable", tag = "admin", request_body = DisableReason,
    params(("uid" = String, Path, description = "User id")),
    responses((status = 200, body = UserView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`unchanged`: already disabled; `self`: admins cannot disable themselves", body = ErrorBody)))]
async fn disable_user(
    State(state): State<AppState>,
    Auth(admin): Auth,
    Path(uid): Path<String>,
    ApiJson(body): ApiJson<DisableReason>,
) -> Result<Json<UserView>, ApiError> {
    require_admin(&admin)?;
    let reason = body.reason.as_deref();
    if reason.is_some_and(|r| r.chars().count() > 2000) {
        return Err(ApiError::bad(
            "invalid_reason",
            "a reason is at most 2000 characters",
        ));
    }
    let user = known_user(&state, &uid).await?;
    if user.id == admin.id {
        return Err(ApiError::conflict(
            "self",
            "admins cannot disable themselves",
        ));
    }
    if !state
        .store()
        .set_user_disabled(&uid, true, reason, &admin.id)
        .await?
    {
        return Err(ApiError::conflict(
            "unchanged",
            format!("{uid} is already disabled"),
        ));
    }
    Ok(Json(user.into()))
}

/// Enable a disabled user again (platform admins); tokens that were not
/// revoked work again.
#[utoipa::path(post, path = "/v1/admin/users/{uid}/enable", tag = "admin",
    params(("uid" = String, Path, description = "User id")),
    responses((status = 200, body = UserView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`unchanged`: not disabled", body = ErrorBody)))]
async fn enable_user(
    State(state): State<AppState>,
    Auth(admin): Auth,
    Path(uid): Path<String>,
) -> Result<Json<UserView>, ApiError> {
    require_admin(&admin)?;
    let user = known_user(&state, &uid).await?;
    if !state
        .store()
        .set_user_disabled(&uid, false, None, &admin.id)
        .await?
    {
        return Err(ApiError::conflict(
            "unchanged",
            format!("{uid} is not disabled"),
        ));
    }
    Ok(Json(user.into()))
}
