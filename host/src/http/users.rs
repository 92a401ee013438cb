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
use super::settings;
use super::views::{GroupView, ProfileView, UserView};
use super::{ApiJson, AppState};
use crate::store::ProfileChange;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_user))
        .routes(routes!(me))
        .routes(routes!(update_profile))
}

/// A user to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// Unique handle, the login name: 1 to 64 ASCII letters, digits, `-`,
    /// `_` or `.`.
    #[schema(pattern = "^[A-Za-z0-9._-]{1,64}$")]
    pub name: String,
    /// The name shown to people: free text in any script, spaces included
    /// (1 to 100 characters on one line, not only spaces); default the handle.
    #[serde(default)]
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*[^\\u0000-\\u0020\\u007F-\\u009F][^\\u0000-\\u001F\\u007F-\\u009F]*$"
    )]
    pub display_name: Option<String>,
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
    /// Handle.
    pub name: String,
    /// The name shown to people.
    pub display_name: String,
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
    /// Your profile card, as members of your groups and their apps see it.
    pub profile: ProfileView,
    /// Groups you are a member of.
    pub groups: Vec<GroupView>,
}

/// A change to your profile card: a value sets a field, `null` clears it,
/// a field left out stays as it is.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileUpdate {
    /// An `https:` address of your picture (at most 2,048 characters).
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = Option<String>, nullable, example = "https://cdn.example.com/me.png",
        pattern = "^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[^\\s\\x22<>\\\\\\u0000-\\u001F\\u007F-\\u009F]*)?$", max_length = 2048)]
    pub avatar_url: Option<Option<String>>,
    /// Your language, a BCP 47 tag such as "zh-CN".
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = Option<String>, nullable, example = "zh-CN",
        pattern = "^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$", max_length = 35)]
    pub locale: Option<Option<String>>,
    /// Your IANA time zone, such as "Asia/Shanghai".
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = Option<super::settings::TimeZoneName>, nullable, example = "Asia/Shanghai")]
    pub time_zone: Option<Option<String>>,
}

/// A field that is present: `Some(None)` for `null`, `Some(Some(v))` for a value.
fn given<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// A fresh random bearer token.
pub fn new_token() -> String {
    format!("qun_{}", hex::encode(rand::random::<[u8; 24]>()))
}

/// A name for people (a group's, a user's display name, an app's): the
/// name without surrounding spaces, or 400 `invalid_name`.
pub(super) fn check_name<'a>(field: &str, name: &'a str) -> Result<&'a str, ApiError> {
    crate::text::name(field, name).map_err(|m| ApiError::bad("invalid_name", m))
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
    crate::text::handle("name", &body.name).map_err(|m| ApiError::bad("invalid_name", m))?;
    let display_name = body
        .display_name
        .as_deref()
        .map(|n| check_name("display_name", n))
        .transpose()?;
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
    if let Some(display_name) = display_name {
        state
            .store()
            .set_display_name(&user.id, Some(display_name))
            .await?;
    }
    let created = CreatedUser {
        id: user.id,
        display_name: display_name.unwrap_or(&user.name).to_string(),
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
    let profile = state
        .store()
        .profile(&user.id)
        .await?
        .unwrap_or_default()
        .into();
    Ok(Json(Me {
        user: user.into(),
        profile,
        groups,
    }))
}

/// Change your profile card: avatar, language and time zone.
#[utoipa::path(patch, path = "/v1/me/profile", tag = "users", request_body = ProfileUpdate,
    responses((status = 200, body = ProfileView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn update_profile(
    State(state): State<AppState>,
    Auth(user): Auth,
    ApiJson(body): ApiJson<ProfileUpdate>,
) -> Result<Json<ProfileView>, ApiError> {
    let check = |field: Option<Option<String>>,
                 valid: fn(&str) -> Result<String, ApiError>|
     -> Result<Option<Option<String>>, ApiError> {
        match field {
            Some(Some(value)) => Ok(Some(Some(valid(&value)?))),
            other => Ok(other),
        }
    };
    let change = ProfileChange {
        avatar_url: check(body.avatar_url, settings::avatar_url)?,
        locale: check(body.locale, settings::locale)?,
        time_zone: check(body.time_zone, settings::time_zone)?,
    };
    let profile = state
        .store()
        .update_profile(&user.id, &change)
        .await?
        .ok_or_else(|| ApiError::Internal("the caller's user row is missing".into()))?;
    Ok(Json(profile.into()))
}
