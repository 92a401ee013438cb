//! `/v1/groups/{gid}/messages`: posting (and `/commands` for installed apps)
//! and reading a group's timeline.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::Auth;
use super::error::{ApiError, ErrorBody};
use super::views::MessageView;
use super::{ApiJson, AppState};
use crate::runtime::{Call, Invocation};
use crate::store::{CommandRoute, NewMessage};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(post_message, list_messages))
        .routes(routes!(direct_messages))
}

/// A message to post.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewText {
    /// The text; `/word args` runs the command `word` of an installed app.
    pub text: String,
}

/// What posting produced: your message, then whatever the app posted.
#[derive(Debug, Serialize, ToSchema)]
pub struct Posted {
    /// Messages in timeline order.
    pub messages: Vec<MessageView>,
}

/// A page of the timeline.
#[derive(Debug, Deserialize, IntoParams)]
pub struct MessagesQuery {
    /// Messages with an id greater than this (default 0: from the start).
    after: Option<i64>,
    /// At most this many (default 50, at most 500).
    limit: Option<u32>,
}

/// `/word rest` → (`word`, `rest`); `None` when the text is not a command.
fn parse_command(text: &str) -> Option<(&str, &str)> {
    let body = text.strip_prefix('/')?;
    let end = body.find(char::is_whitespace).unwrap_or(body.len());
    let word = &body[..end];
    let valid = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_');
    valid.then(|| (word, body[end..].trim_start()))
}

/// Post a message; `/word args` also runs the installed app that answers `word`.
///
/// An unknown command is refused before anything is stored. A known one is
/// stored as your message first (the group sees what was typed), then the app
/// runs; if the app refuses or fails, the error says why and the app posted nothing.
#[utoipa::path(post, path = "/v1/groups/{gid}/messages", tag = "messages", request_body = NewText,
    params(("gid" = String, Path, description = "Group id")),
    responses((status = 201, body = Posted), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, description = "no such group, or `unknown_command`", body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 429, body = ErrorBody),
        (status = 502, body = ErrorBody), (status = 504, body = ErrorBody)))]
async fn post_message(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path(gid): Path<String>,
    ApiJson(body): ApiJson<NewText>,
) -> Result<(StatusCode, Json<Posted>), ApiError> {
    state.member_of(&gid, &user).await?;
    state.posting(&gid, &user.id)?;
    let text = body.text.trim();
    if text.is_empty() {
        return Err(ApiError::bad("empty_message", "the message text is empty"));
    }
    let max = state.runtime.limits().message_bytes;
    if text.len() > max {
        return Err(ApiError::TooLarge(format!(
            "the message is {} bytes; the limit is {max}",
            text.len()
        )));
    }
    // Resolve a command before storing anything: an unknown one is refused.
    let command = match parse_command(text) {
        Some((word, args)) => Some((find_command(&state, &gid, word).await?, word, args)),
        None => None,
    };
    let mine = state
        .store()
        .post_message(&NewMessage {
            group_id: gid.clone(),
            user_id: Some(user.id.clone()),
            text: Some(text.to_string()),
            ..NewMessage::default()
        })
        .await?;
    state.notifier.notify(&gid);
    let mut messages = vec![MessageView::from(mine)];
    if let Some((inst, word, args)) = command {
        let invocation = Invocation {
            installation_id: inst.installation_id.clone(),
            actor: Some(user.id.clone()),
            call: Call::Command {
                name: word.to_string(),
                args: args.to_string(),
            },
            invocation_id: None,
        };
        let outcome = state.invoke(&inst.app_slug, &gid, invocation).await?;
        // Exactly what the app's own commit stored, read back by id.
        let posted = state.store().messages_by_ids(&gid, &outcome.posted).await?;
        messages.extend(posted.into_iter().map(MessageView::from));
    }
    Ok((StatusCode::CREATED, Json(Posted { messages })))
}

/// The enabled installation in `gid` that answers the command `word`: one
/// indexed lookup (a command belongs to one app per group).
async fn find_command(state: &AppState, gid: &str, word: &str) -> Result<CommandRoute, ApiError> {
    let store = state.store();
    if let Some(route) = store.route_command(gid, word).await?
        && route.enabled
    {
        return Ok(route);
    }
    // Only on the error path: tell the member what this group answers.
    let available: Vec<String> = store
        .group_commands(gid)
        .await?
        .into_iter()
        .filter(|c| c.enabled)
        .map(|c| format!("/{}", c.command))
        .collect();
    let hint = if available.is_empty() {
        "no app installed in this group answers commands".to_string()
    } else {
        format!("available: {}", available.join(", "))
    };
    Err(ApiError::not_found(
        "unknown_command",
        format!("no app in this group answers /{word}; {hint}"),
    ))
}

/// The group's messages, oldest first, after a given id.
#[utoipa::path(get, path = "/v1/groups/{gid}/messages", tag = "messages",
    params(("gid" = String, Path, description = "Group id"), MessagesQuery),
    responses((status = 200, body = Vec<MessageView>), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_messages(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path(gid): Path<String>,
    query: Result<Query<MessagesQuery>, QueryRejection>,
) -> Result<Json<Vec<MessageView>>, ApiError> {
    let Query(query) = query?;
    state.member_of(&gid, &user).await?;
    let limit = query.limit.unwrap_or(50).clamp(1, 500);
    let messages = state
        .store()
        .messages(&gid, query.after.unwrap_or(0), limit)
        .await?;
    Ok(Json(messages.into_iter().map(MessageView::from).collect()))
}

#[cfg(test)]
mod tests {
    use super::parse_command;

    #[test]
    fn commands_are_a_slash_and_a_word() {
        assert_eq!(
            parse_command("/poll Lunch? | a | b"),
            Some(("poll", "Lunch? | a | b"))
        );
        assert_eq!(parse_command("/poll"), Some(("poll", "")));
        assert_eq!(parse_command("hello /poll"), None);
        assert_eq!(parse_command("/ poll"), None);
        assert_eq!(parse_command("/path/to/file"), None);
    }
}

/// A direct message an app sent to the caller.
#[derive(Debug, Serialize, ToSchema)]
pub struct DirectView {
    /// Its id (increasing).
    pub id: i64,
    /// The group whose app sent it.
    pub group_id: String,
    /// The installation (app) that sent it.
    pub installation_id: String,
    /// Text.
    pub text: Option<String>,
    /// A card.
    #[schema(value_type = Option<Object>)]
    pub card: Option<serde_json::Value>,
    /// When (ms since the epoch).
    pub created_at: i64,
}

/// Direct messages apps sent to you, oldest first (any signed-in user; only
/// their own), a page at a time like the timeline: `?after=ID&limit=N`
/// (default 50, at most 500); ask again with the last id for the next page.
#[utoipa::path(get, path = "/v1/me/direct-messages", tag = "messages",
    params(MessagesQuery),
    responses((status = 200, body = Vec<DirectView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn direct_messages(
    State(state): State<AppState>,
    Auth(user): Auth,
    query: Result<Query<MessagesQuery>, QueryRejection>,
) -> Result<Json<Vec<DirectView>>, ApiError> {
    let Query(query) = query?;
    let limit = query.limit.unwrap_or(50).clamp(1, 500);
    let directs = state
        .store()
        .direct_messages_page(&user.id, query.after.unwrap_or(0), limit)
        .await?;
    Ok(Json(
        directs
            .into_iter()
            .map(|d| DirectView {
                id: d.id,
                group_id: d.group_id,
                installation_id: d.installation_id,
                text: d.text,
                card: d.card,
                created_at: d.created_at,
            })
            .collect(),
    ))
}
