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
use super::render;
use super::respond::{Actor, ResponseView, open_form, respond};
use super::views::MessageView;
use super::{ApiJson, AppState};
use crate::runtime::{Answer, Call, Invocation};
use crate::store::{CommandRoute, NewMessage, now_ms};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(post_message, list_messages))
        .routes(routes!(get_message))
        .routes(routes!(direct_messages))
}

/// The longest message text, in characters (at most four bytes each, so
/// always within the host's message size).
pub const MAX_MESSAGE_CHARS: usize = 4096;

/// A message to post.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewText {
    /// The text (1 to 4096 characters, not only white space — Unicode
    /// `White_Space`, what `str::trim` removes — and no NUL or control
    /// character but tab and line breaks); `/word args` runs the command
    /// `word` of an installed app. May be left out when `files` are attached.
    #[schema(
        min_length = 1,
        max_length = 4096,
        pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    #[serde(default)]
    pub text: Option<String>,
    /// Files you uploaded to this group (`POST /v1/groups/{gid}/files`) to
    /// attach, at most 10; images are shown, other files offered to download.
    #[serde(default)]
    #[schema(max_items = 10)]
    pub files: Vec<String>,
}

/// Files one member message may attach.
pub const MAX_MESSAGE_FILES: usize = 10;

/// What posting produced: your message, then whatever the app posted.
#[derive(Debug, Serialize, ToSchema)]
pub struct Posted {
    /// Messages in timeline order (yours first; private replies to you included).
    pub messages: Vec<MessageView>,
    /// Your message.
    pub message: MessageView,
    /// What you see of the command's answer: the app's post, a private
    /// reply (also `/help`), a form opened for you (a command with options
    /// missing opens its form pre-filled), or nothing (plain text).
    pub response: ResponseView,
}

/// A page of the timeline.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MessagesQuery {
    /// Messages with an id greater than this (default 0: from the start).
    after: Option<i64>,
    /// Messages with an id less than this: the page is then the newest ones
    /// before it (still oldest first), to read a timeline backwards from its
    /// end (`before=9007199254740991` for the newest page).
    before: Option<i64>,
    /// At most this many (default 50; 0 counts as 1, more than 500 as 500).
    #[param(minimum = 0, maximum = 4294967295.0, format = "uint32")]
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

/// A command, ready before anything is stored.
enum Prepared {
    /// `/help` with no app answering it: the host answers.
    Help,
    /// Run the app's command with these typed options.
    Run {
        route: CommandRoute,
        word: String,
        args: String,
        options: Vec<qun_blocks::NamedValue>,
    },
    /// Required options are missing: open the command's form, pre-filled.
    Form {
        route: CommandRoute,
        word: String,
        form: qun_blocks::Form,
    },
}

/// Resolve `/word args`: an unknown command is refused, typed options are
/// parsed (in the group's time zone) and a usage error names the option,
/// all before anything is stored or any app runs.
async fn prepare(
    state: &AppState,
    gid: &str,
    word: &str,
    args: &str,
) -> Result<Prepared, ApiError> {
    if word == "help" && !answered(state, gid, word).await? {
        return Ok(Prepared::Help);
    }
    let route = find_command(state, gid, word).await?;
    if route.options.is_empty() {
        return Ok(Prepared::Run {
            route,
            word: word.to_string(),
            args: args.to_string(),
            options: Vec::new(),
        });
    }
    let spec = qun_blocks::CommandSpec {
        name: word.to_string(),
        description: String::new(),
        options: route.options.clone(),
    };
    // The group's time zone came with the route (UTC when unset or unknown).
    let zone =
        qun_blocks::Zone::parse(&route.time_zone).unwrap_or_else(|_| qun_blocks::Zone::utc());
    match qun_blocks::parse_command(&spec, args, &zone, now_ms()) {
        qun_blocks::CommandArgs::Complete(options) => Ok(Prepared::Run {
            route,
            word: word.to_string(),
            args: args.to_string(),
            options,
        }),
        qun_blocks::CommandArgs::Incomplete { form, .. } => Ok(Prepared::Form {
            route,
            word: word.to_string(),
            form,
        }),
        qun_blocks::CommandArgs::Usage(e) => Err(ApiError::bad(
            "invalid_option",
            format!("/{word}: option `{}`: {}", e.option, e.message),
        )),
    }
}

/// Whether an enabled app of the group answers `/word`.
async fn answered(state: &AppState, gid: &str, word: &str) -> Result<bool, ApiError> {
    Ok(state
        .store()
        .route_command(gid, word)
        .await?
        .is_some_and(|r| r.enabled))
}

/// Post a message; `/word args` also runs the installed app that answers `word`.
///
/// An unknown command, or a typed option that does not parse (400
/// `invalid_option` naming the option), is refused before anything is
/// stored. A known one is stored as your message first (the group sees what
/// was typed), then the app runs; if the app refuses or fails, the error
/// says why and the app posted nothing. When required options are missing,
/// the command's form opens for you, pre-filled with what you typed.
/// `/help` (unless an app answers it) is a private reply listing the
/// group's commands and their options.
#[utoipa::path(post, path = "/v1/groups/{gid}/messages", tag = "messages", request_body = NewText,
    params(("gid" = String, Path, description = "Group id")),
    responses((status = 201, body = Posted),
        (status = 400, description = "`empty_message`, `invalid_option` (a typed option did not parse; names the option), or the app refused (`app_invalid`)", body = ErrorBody),
        (status = 401, body = ErrorBody),
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
    let attached = attachments(&state, &gid, &user.id, &body.files).await?;
    let body_text = body.text.unwrap_or_default();
    if !attached.is_empty() && body_text.trim().is_empty() {
        return post_files(&state, &gid, &user.id, attached).await;
    }
    let body = NewText {
        text: Some(body_text),
        files: Vec::new(),
    };
    let text_in = body.text.as_deref().unwrap_or_default();
    let chars = text_in.chars().count();
    if chars > MAX_MESSAGE_CHARS {
        return Err(ApiError::bad(
            "message_too_long",
            format!("the message is {chars} characters; the limit is {MAX_MESSAGE_CHARS}"),
        ));
    }
    let text = text_in.trim();
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
        Some((word, args)) => Some(prepare(&state, &gid, word, args).await?),
        None => None,
    };
    let store = state.store();
    let mine = store
        .post_message(&NewMessage {
            group_id: gid.clone(),
            user_id: Some(user.id.clone()),
            text: Some(text.to_string()),
            blocks: file_blocks(text, &attached),
            ..NewMessage::default()
        })
        .await?;
    state.notifier.notify(&gid);
    let mine = render::view(store, mine).await?;
    let mut messages = vec![mine.clone()];
    let response = match command {
        None => ResponseView::None,
        Some(Prepared::Help) => {
            let reply = help(&state, &gid, &user.id).await?;
            messages.push(reply.clone());
            ResponseView::Private { message: reply }
        }
        Some(Prepared::Form { route, word, form }) => {
            let actor = Actor {
                group_id: &gid,
                installation_id: &route.installation_id,
                member_id: &user.id,
            };
            open_form(
                &state,
                &actor,
                form,
                1,
                serde_json::json!({"command": word}),
            )
            .await?
        }
        Some(Prepared::Run {
            route,
            word,
            args,
            options,
        }) => {
            let invocation = Invocation {
                installation_id: route.installation_id.clone(),
                actor: Some(user.id.clone()),
                call: Call::Command {
                    name: word,
                    args,
                    options,
                },
                invocation_id: None,
            };
            let outcome = state.invoke(&route.app_slug, &gid, invocation).await?;
            // Exactly what the app's own commit stored, read back by id:
            // its posts, and its private replies to the caller.
            let mut ids = outcome.posted.clone();
            ids.extend(
                outcome
                    .private
                    .iter()
                    .filter(|(_, to)| *to == user.id)
                    .map(|(id, _)| *id),
            );
            ids.sort_unstable();
            let posted = store.messages_by_ids(&gid, &ids).await?;
            messages.extend(render::views(store, posted).await?);
            let response = match &outcome.answer {
                Answer::Response(response) => response.clone(),
                other => {
                    return Err(ApiError::Internal(format!("a command answered {other:?}")));
                }
            };
            let actor = Actor {
                group_id: &gid,
                installation_id: &route.installation_id,
                member_id: &user.id,
            };
            respond(&state, &actor, response, &outcome, 1).await?
        }
    };
    Ok((
        StatusCode::CREATED,
        Json(Posted {
            messages,
            message: mine,
            response,
        }),
    ))
}

/// The files a member attaches to a message: each one they uploaded to
/// this group (404 `file_not_found` otherwise), at most ten.
async fn attachments(
    state: &AppState,
    gid: &str,
    member: &str,
    ids: &[String],
) -> Result<Vec<crate::store::FileRow>, ApiError> {
    if ids.len() > MAX_MESSAGE_FILES {
        return Err(ApiError::bad(
            "too_many_files",
            format!("a message may attach at most {MAX_MESSAGE_FILES} files"),
        ));
    }
    let found = state.store().files_in_group(gid, ids).await?;
    let mut out: Vec<crate::store::FileRow> = Vec::with_capacity(ids.len());
    for id in ids {
        match found
            .iter()
            .find(|f| &f.id == id && f.uploaded_by.as_deref() == Some(member))
        {
            Some(f) if !out.iter().any(|o| o.id == f.id) => out.push(f.clone()),
            Some(_) => {}
            None => {
                return Err(ApiError::not_found(
                    "file_not_found",
                    format!(
                        "no file {} that you uploaded to this group",
                        id.chars().take(64).collect::<String>()
                    ),
                ));
            }
        }
    }
    Ok(out)
}

/// A member's message showing `files` (an image block for images, a file
/// block for anything else); `None` without files.
fn file_blocks(text: &str, files: &[crate::store::FileRow]) -> Option<qun_blocks::Message> {
    if files.is_empty() {
        return None;
    }
    let mut blocks = Vec::new();
    if !text.is_empty() {
        blocks.push(qun_blocks::Block::Text {
            text: text.to_string(),
        });
    }
    for f in files {
        blocks.push(if crate::blobs::is_inline_safe(&f.content_type) {
            qun_blocks::Block::Image {
                file: f.id.clone(),
                alt: f.name.clone(),
            }
        } else {
            qun_blocks::Block::File { file: f.id.clone() }
        });
    }
    Some(qun_blocks::Message {
        text: text.to_string(),
        blocks,
    })
}

/// Post a message of files only (no text, so no command).
async fn post_files(
    state: &AppState,
    gid: &str,
    member: &str,
    files: Vec<crate::store::FileRow>,
) -> Result<(StatusCode, Json<Posted>), ApiError> {
    let store = state.store();
    let mine = store
        .post_message(&NewMessage {
            group_id: gid.to_string(),
            user_id: Some(member.to_string()),
            text: None,
            blocks: file_blocks("", &files),
            ..NewMessage::default()
        })
        .await?;
    state.notifier.notify(gid);
    let mine = render::view(store, mine).await?;
    Ok((
        StatusCode::CREATED,
        Json(Posted {
            messages: vec![mine.clone()],
            message: mine,
            response: ResponseView::None,
        }),
    ))
}

/// The host's answer to `/help`: a private reply listing every command of
/// the group's enabled apps with its options, from their declarations.
async fn help(state: &AppState, gid: &str, member: &str) -> Result<MessageView, ApiError> {
    let store = state.store();
    let mut apps: Vec<(String, Vec<qun_blocks::CommandSpec>)> = Vec::new();
    for command in store.group_commands(gid).await? {
        if !command.enabled {
            continue;
        }
        let spec = qun_blocks::CommandSpec {
            name: command.command.clone(),
            description: command.description.clone(),
            options: command.options.clone(),
        };
        match apps.iter_mut().find(|(slug, _)| *slug == command.app) {
            Some((_, specs)) => specs.push(spec),
            None => apps.push((command.app.clone(), vec![spec])),
        }
    }
    let mut titled = Vec::with_capacity(apps.len());
    for (slug, specs) in apps {
        let title = store.app(&slug).await?.map(|a| a.name).unwrap_or(slug);
        titled.push((title, specs));
    }
    let message = qun_blocks::help_message(&titled);
    let stored = store
        .post_message(&NewMessage {
            group_id: gid.to_string(),
            text: Some(message.text.clone()).filter(|t| !t.is_empty()),
            blocks: Some(message),
            visible_to: Some(member.to_string()),
            ..NewMessage::default()
        })
        .await?;
    state.notifier.notify(gid);
    Ok(render::view(store, stored).await?)
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

/// The group's messages you see, oldest first, after a given id (or the
/// newest before one): deleted messages are absent, private replies appear
/// only for their member.
#[utoipa::path(get, path = "/v1/groups/{gid}/messages", tag = "messages",
    params(("gid" = String, Path, description = "Group id"), MessagesQuery),
    responses((status = 200, body = Vec<MessageView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_messages(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path(gid): Path<String>,
    query: Result<Query<MessagesQuery>, QueryRejection>,
) -> Result<Json<Vec<MessageView>>, ApiError> {
    let Query(query) = query?;
    state.member_of(&gid, &user).await?;
    let limit = query.limit.unwrap_or(50).clamp(1, 500);
    // A private reply is its member's alone.
    let store = state.store();
    let after = query.after.unwrap_or(0);
    let messages = match query.before {
        Some(before) => {
            store
                .messages_visible_before(&gid, &user.id, after, before, limit)
                .await?
        }
        None => store.messages_visible(&gid, &user.id, after, limit).await?,
    };
    let messages = messages
        .into_iter()
        .filter(|m| m.deleted_at.is_none())
        .collect();
    Ok(Json(render::views(state.store(), messages).await?))
}

/// One message of the group, as you see it (404 `message_not_found` for a
/// deleted one, and for a private reply to someone else).
#[utoipa::path(get, path = "/v1/groups/{gid}/messages/{mid}", tag = "messages",
    params(("gid" = String, Path, description = "Group id"), ("mid" = i64, Path, description = "Message id")),
    responses((status = 200, body = MessageView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, description = "no such group among yours, or `message_not_found`", body = ErrorBody)))]
async fn get_message(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path((gid, mid)): Path<(String, String)>,
) -> Result<Json<MessageView>, ApiError> {
    state.member_of(&gid, &user).await?;
    // Parsed after the membership check: a stranger learns nothing.
    let not_found = || ApiError::not_found("message_not_found", format!("no message {mid} here"));
    let id: i64 = mid.parse().map_err(|_| not_found())?;
    let message = state
        .store()
        .message_for(&gid, &user.id, id)
        .await?
        .filter(|m| m.deleted_at.is_none())
        .ok_or_else(not_found)?;
    Ok(Json(render::view(state.store(), message).await?))
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
    /// A `qun:app@0.1.0` card (its buttons are not shown: a direct message
    /// has nothing to click).
    #[schema(value_type = Option<Object>)]
    pub card: Option<serde_json::Value>,
    /// Its blocks (without buttons, menus or pickers).
    pub blocks: Vec<render::BlockView>,
    /// When (ms since the epoch).
    pub created_at: i64,
}

impl DirectView {
    /// A stored direct message as its recipient sees it, with the files it shows.
    fn render(d: crate::store::DirectMessage, files: &render::FileIndex) -> DirectView {
        let none = std::collections::HashMap::new();
        let blocks = d
            .blocks
            .as_ref()
            .map(|b| render::message_blocks(&b.blocks, &none, &d.group_id, files))
            .unwrap_or_default();
        DirectView {
            id: d.id,
            group_id: d.group_id,
            installation_id: d.installation_id,
            text: d.text,
            card: d.card.as_ref().map(|c| render::legacy_card(c, &none)),
            blocks,
            created_at: d.created_at,
        }
    }
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
    Ok(Json(direct_views(state.store(), directs).await?))
}

/// Stored direct messages as their recipients see them, with the files
/// they show read in one go.
pub(super) async fn direct_views(
    store: &crate::store::Store,
    directs: Vec<crate::store::DirectMessage>,
) -> Result<Vec<DirectView>, crate::store::StoreError> {
    let mut files = render::FileIndex::new();
    for d in &directs {
        let wanted: Vec<String> = d
            .blocks
            .iter()
            .flat_map(|b| b.files())
            .map(String::from)
            .collect();
        if !wanted.is_empty() {
            for row in store.files_in_group(&d.group_id, &wanted).await? {
                files.insert(row.id.clone(), row);
            }
        }
    }
    Ok(directs
        .into_iter()
        .map(|d| DirectView::render(d, &files))
        .collect())
}
