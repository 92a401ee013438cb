//! `/v1/groups`: groups and their members.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::Auth;
use super::error::{ApiError, ErrorBody};
use super::settings;
use super::users::check_name;
use super::views::{GroupView, MemberView};
use super::{ApiJson, AppState};
use crate::store::{GroupSettings, Role};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_group))
        .routes(routes!(get_group, update_group))
        .routes(routes!(add_member, list_members))
        .routes(routes!(remove_member))
}

/// A group to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGroup {
    /// The group's name: free text in any script, spaces included (1 to 100
    /// characters on one line, not only spaces), e.g. `Class 3`. Names need
    /// not be unique; the group's id is.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*[^\\u0000-\\u0020\\u007F-\\u009F][^\\u0000-\\u001F\\u007F-\\u009F]*$"
    )]
    pub name: String,
}

/// What to change about a group; leave a field out to keep it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupChange {
    /// A new name (the same rules as a new group's).
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*[^\\u0000-\\u0020\\u007F-\\u009F][^\\u0000-\\u001F\\u007F-\\u009F]*$"
    )]
    pub name: Option<String>,
    /// The group's IANA time zone, such as "Asia/Shanghai": dates and times
    /// members type and pick are read in it, and apps are told it.
    #[schema(value_type = Option<super::settings::TimeZoneName>, example = "Asia/Shanghai")]
    pub time_zone: Option<String>,
    /// The group's language, a BCP 47 tag such as "zh-CN" (stored in its
    /// usual letter case).
    #[schema(
        example = "zh-CN",
        pattern = "^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$",
        max_length = 35
    )]
    pub locale: Option<String>,
}

/// A user to add to a group.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMember {
    /// The user's id.
    pub user_id: String,
    /// `member` (default) or `admin` (a group has one owner).
    #[serde(default)]
    #[schema(value_type = Option<NewRole>, example = "member")]
    pub role: Option<Role>,
}

/// The roles a member can be given.
#[derive(Debug, ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)] // a schema only: `Role` is what is read
pub enum NewRole {
    /// Everyone else.
    Member,
    /// Helps run the group.
    Admin,
}

/// A page of members.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MembersQuery {
    /// Members with a user id greater than this.
    cursor: Option<String>,
    /// At most this many (default 100; 0 counts as 1, more than 1000 as 1000).
    #[param(minimum = 0, maximum = 4294967295.0, format = "uint32")]
    limit: Option<u32>,
}

/// Create a group; the caller owns it.
#[utoipa::path(post, path = "/v1/groups", tag = "groups", request_body = NewGroup,
    responses((status = 201, body = GroupView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn create_group(
    State(state): State<AppState>,
    Auth(user): Auth,
    ApiJson(body): ApiJson<NewGroup>,
) -> Result<(StatusCode, Json<GroupView>), ApiError> {
    let name = check_name("name", &body.name)?;
    let group = state.store().create_group(name, &user.id).await?;
    Ok((StatusCode::CREATED, Json(group.into())))
}

/// A group you are a member of.
#[utoipa::path(get, path = "/v1/groups/{gid}", tag = "groups", params(("gid" = String, Path, description = "Group id")),
    responses((status = 200, body = GroupView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_group(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path(gid): Path<String>,
) -> Result<Json<GroupView>, ApiError> {
    state.member_of(&gid, &user).await?;
    let group = state
        .store()
        .group(&gid)
        .await?
        .ok_or_else(|| ApiError::no_group(&gid))?;
    Ok(Json(group.into()))
}

/// Change the group's name, time zone or language (owner or group admins).
#[utoipa::path(patch, path = "/v1/groups/{gid}", tag = "groups", request_body = GroupChange,
    params(("gid" = String, Path, description = "Group id")),
    responses((status = 200, body = GroupView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn update_group(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path(gid): Path<String>,
    ApiJson(body): ApiJson<GroupChange>,
) -> Result<Json<GroupView>, ApiError> {
    state.manager_of(&gid, &user).await?;
    let name = body
        .name
        .as_deref()
        .map(|name| check_name("name", name).map(str::to_string))
        .transpose()?;
    let change = GroupSettings {
        name,
        time_zone: body
            .time_zone
            .as_deref()
            .map(settings::time_zone)
            .transpose()?,
        locale: body.locale.as_deref().map(settings::locale).transpose()?,
    };
    let group = state
        .store()
        .update_group(&gid, &change)
        .await?
        .ok_or_else(|| ApiError::no_group(&gid))?;
    Ok(Json(group.into()))
}

/// Add a user to the group, or change a member's role (owner or group admins).
#[utoipa::path(post, path = "/v1/groups/{gid}/members", tag = "groups", request_body = NewMember,
    params(("gid" = String, Path, description = "Group id")),
    responses((status = 201, body = MemberView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn add_member(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path(gid): Path<String>,
    ApiJson(body): ApiJson<NewMember>,
) -> Result<(StatusCode, Json<MemberView>), ApiError> {
    state.manager_of(&gid, &user).await?;
    let role = body.role.unwrap_or(Role::Member);
    if role == Role::Owner {
        return Err(ApiError::bad(
            "invalid_role",
            "a group has one owner; add members as `member` or `admin`",
        ));
    }
    let store = state.store();
    if store.user(&body.user_id).await?.is_none() {
        return Err(ApiError::not_found(
            "user_not_found",
            format!("no user {}", body.user_id),
        ));
    }
    if let Some(existing) = store.member(&gid, &body.user_id).await?
        && existing.role == Role::Owner
    {
        return Err(ApiError::conflict(
            "owner",
            "the group's owner keeps the owner role",
        ));
    }
    store.join_member(&gid, &body.user_id, role).await?;
    let member = store
        .member(&gid, &body.user_id)
        .await?
        .ok_or_else(|| ApiError::Internal("a member just added is missing".into()))?;
    Ok((StatusCode::CREATED, Json(member.into())))
}

/// Members of the group, ordered by user id.
#[utoipa::path(get, path = "/v1/groups/{gid}/members", tag = "groups",
    params(("gid" = String, Path, description = "Group id"), MembersQuery),
    responses((status = 200, body = Vec<MemberView>), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_members(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path(gid): Path<String>,
    query: Result<Query<MembersQuery>, QueryRejection>,
) -> Result<Json<Vec<MemberView>>, ApiError> {
    let Query(query) = query?;
    state.member_of(&gid, &user).await?;
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    let members = state
        .store()
        .members(&gid, query.cursor.as_deref(), limit)
        .await?;
    Ok(Json(members.into_iter().map(MemberView::from).collect()))
}

/// Remove a member (owner or group admins), or leave the group yourself.
#[utoipa::path(delete, path = "/v1/groups/{gid}/members/{uid}", tag = "groups",
    params(("gid" = String, Path, description = "Group id"), ("uid" = String, Path, description = "User id")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn remove_member(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path((gid, uid)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let caller = state.member_of(&gid, &user).await?;
    if uid != user.id && caller.role == Role::Member {
        return Err(ApiError::forbidden(
            "only the group's owner or admins may remove other members",
        ));
    }
    let store = state.store();
    let target = store.member(&gid, &uid).await?.ok_or_else(|| {
        ApiError::not_found(
            "member_not_found",
            format!("{uid} is not a member of this group"),
        )
    })?;
    if target.role == Role::Owner {
        return Err(ApiError::conflict(
            "owner",
            "the group's owner cannot be removed",
        ));
    }
    store.leave_member(&gid, &uid).await?;
    Ok(StatusCode::NO_CONTENT)
}
