//! `/v1/users` (admin creates users) and `/v1/me`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::Auth;
use super::error::{ApiError, ErrorBody, is_duplicate};
use super::views::{GroupView, UserView};
use super::{ApiJson, AppState};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_user))
        .routes(routes!(me))
}

/// A user to create.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewUser {
    /// Unique name (letters, digits, `-`, `_`, `.`; at most 64).
    pub name: String,
    /// Make them a platform admin.
    #[serde(default)]
    pub admin: bool,
    /// Let them upload apps.
    #[serde(default)]
    pub developer: bool,
}

/// A created user with their token (shown only once).
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedUser {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Bearer token; only its hash is stored.
    pub token: String,
    /// Platform admin.
    pub admin: bool,
    /// May upload apps.
    pub developer: bool,
}

/// The caller and their groups.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// Who you are.
    #[serde(flatten)]
    pub user: UserView,
    /// Groups you are a member of.
    pub groups: Vec<GroupView>,
}

/// A fresh random bearer token.
pub fn new_token() -> String {
    format!("qun_{}", hex::encode(rand::random::<[u8; 24]>()))
}

/// Check a user or group name.
pub(super) fn check_name(what: &str, name: &str) -> Result<(), ApiError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad(
            "invalid_name",
            format!("{what} must be 1 to 64 letters, digits, `-`, `_` or `.`; got {name:?}"),
        ))
    }
}

/// Create a user (platform admins only); the answer holds their token.
#[utoipa::path(post, path = "/v1/users", tag = "users", request_body = NewUser,
    responses((status = 201, body = CreatedUser), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn create_user(
    State(state): State<AppState>,
    Auth(caller): Auth,
    ApiJson(body): ApiJson<NewUser>,
) -> Result<(StatusCode, Json<CreatedUser>), ApiError> {
    if !caller.is_admin {
        return Err(ApiError::forbidden("only platform admins may create users"));
    }
    check_name("a user name", &body.name)?;
    let taken = || {
        ApiError::conflict(
            "name_taken",
            format!("a user named {:?} already exists", body.name),
        )
    };
    if state.store().user_by_name(&body.name).await?.is_some() {
        return Err(taken());
    }
    let token = new_token();
    let user = match state
        .store()
        .create_user(&body.name, &token, body.admin, body.developer)
        .await
    {
        Ok(user) => user,
        Err(e) if is_duplicate(&e) => return Err(taken()),
        Err(e) => return Err(e.into()),
    };
    let created = CreatedUser {
        id: user.id,
        name: user.name,
        token,
        admin: user.is_admin,
        developer: user.is_developer,
    };
    Ok((StatusCode::CREATED, Json(created)))
}

/// Who the token belongs to, and their groups.
#[utoipa::path(get, path = "/v1/me", tag = "users",
    responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
async fn me(State(state): State<AppState>, Auth(user): Auth) -> Result<Json<Me>, ApiError> {
    let groups = state
        .store()
        .groups_of(&user.id)
        .await?
        .into_iter()
        .map(GroupView::from)
        .collect();
    Ok(Json(Me {
        user: user.into(),
        groups,
    }))
}
