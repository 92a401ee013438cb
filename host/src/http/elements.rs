//! `POST /v1/groups/{gid}/messages/{mid}/elements/{ref}`: a member clicks a
//! button, chooses from a menu or picks a member on a message (issue 13
//! item 6). The reference is opaque and bound to its group and message: the
//! host finds the action and payload the app stored behind it, so a client
//! can neither see nor forge a payload. A reference that is not on this
//! message of this group answers 404 `unknown_element` and nothing runs.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::Auth;
use super::error::{ApiError, ErrorBody};
use super::render;
use super::respond::{Acted, Actor, respond};
use crate::runtime::{Answer, Call, Invocation};
use crate::store::ElementKind;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(act))
}

/// What the member chose (the body may be empty or `null` for a button).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ElementInput {
    /// A select menu: the chosen option's `value`. A member picker: the
    /// picked member's id. A button takes none.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub value: Option<serde_json::Value>,
}

fn unknown_element() -> ApiError {
    ApiError::not_found(
        "unknown_element",
        "no such element on this message of this group",
    )
}

/// Click a button, choose from a select menu or pick a member on a message.
///
/// Runs the app's action with the payload the app stored behind `ref` (and
/// the chosen value), as the caller. Answers what the member sees now: the
/// message as it stands after the action, the app's response (a post, a
/// private reply or a form) and the app's JSON data.
#[utoipa::path(post, path = "/v1/groups/{gid}/messages/{mid}/elements/{ref}", tag = "messages",
    request_body(content = Option<ElementInput>, description = "`{\"value\": ...}` for a select menu or member picker; nothing for a button"),
    params(("gid" = String, Path, description = "Group id"), ("mid" = i64, Path, description = "Message id"),
        ("ref" = String, Path, description = "The element's reference, as the message shows it")),
    responses((status = 200, body = Acted),
        (status = 400, description = "`missing_value`, `unexpected_value` or `invalid_value` (not one of the menu's options; not a member of the group), or the app refused (`app_invalid`)", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "no such group among yours, or `unknown_element`: the reference is not on this message of this group", body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 429, body = ErrorBody),
        (status = 502, body = ErrorBody), (status = 504, body = ErrorBody)))]
async fn act(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path((gid, mid, reference)): Path<(String, String, String)>,
    body: Bytes,
) -> Result<Json<Acted>, ApiError> {
    state.member_of(&gid, &user).await?;
    // Parsed after the membership check: a stranger learns nothing.
    let mid: i64 = mid.parse().map_err(|_| unknown_element())?;
    let input: ElementInput = if body.iter().all(u8::is_ascii_whitespace) {
        ElementInput::default()
    } else {
        let json: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad("bad_json", format!("the body is not JSON: {e}")))?;
        crate::text::check_json("", &json).map_err(|m| ApiError::bad("invalid_text", m))?;
        if json.is_null() {
            // `null` is "no body" too (the documented body is optional).
            ElementInput::default()
        } else if json.is_object() {
            serde_json::from_value(json).map_err(|e| ApiError::bad("bad_json", e.to_string()))?
        } else {
            return Err(ApiError::bad("bad_json", "the body must be a JSON object"));
        }
    };
    let store = state.store();
    let element = store
        .element(&gid, &reference)
        .await?
        .filter(|e| e.message_id == mid && e.group_id == gid)
        .ok_or_else(unknown_element)?;
    // The message must be one the caller sees (a private reply's elements
    // are its member's alone) and still there.
    store
        .message_for(&gid, &user.id, mid)
        .await?
        .filter(|m| m.deleted_at.is_none())
        .ok_or_else(unknown_element)?;
    let value = match (element.kind, input.value) {
        (ElementKind::Button, None) => None,
        (ElementKind::Button, Some(_)) => {
            return Err(ApiError::bad(
                "unexpected_value",
                "a button takes no value; send an empty body",
            ));
        }
        (_, None) => {
            return Err(ApiError::bad(
                "missing_value",
                "send {\"value\": ...}: the chosen option or the picked member",
            ));
        }
        (ElementKind::Select, Some(value)) => {
            let chosen = value.as_str().unwrap_or_default();
            if !element.options.iter().any(|o| o.value == chosen) {
                let values: Vec<&str> = element.options.iter().map(|o| o.value.as_str()).collect();
                return Err(ApiError::bad(
                    "invalid_value",
                    format!(
                        "`value` must be one of the menu's options: {}",
                        values.join(", ")
                    ),
                ));
            }
            Some(qun_blocks::Value::Choices(vec![chosen.to_string()]))
        }
        (ElementKind::MemberPicker, Some(value)) => {
            let picked = value.as_str().unwrap_or_default();
            if picked.is_empty() || store.member(&gid, picked).await?.is_none() {
                return Err(ApiError::bad(
                    "invalid_value",
                    "`value` must be the id of a member of this group",
                ));
            }
            Some(qun_blocks::Value::Member(picked.to_string()))
        }
    };
    let inst = store
        .installation(&element.installation_id)
        .await?
        .filter(|i| i.group_id == gid)
        .ok_or_else(|| {
            ApiError::not_found(
                "not_installed",
                "the app that posted this message is no longer installed here",
            )
        })?;
    let invocation = Invocation {
        installation_id: inst.id.clone(),
        actor: Some(user.id.clone()),
        call: Call::Action {
            name: element.action.clone(),
            payload: element.payload.clone(),
            value,
            message_id: Some(mid),
        },
        invocation_id: None,
    };
    let outcome = state.invoke(&inst.app_slug, &gid, invocation).await?;
    let (data, response) = match &outcome.answer {
        Answer::Action { data, response } => (data.clone(), response.clone()),
        other => {
            return Err(ApiError::Internal(format!("an action answered {other:?}")));
        }
    };
    let actor = Actor {
        group_id: &gid,
        installation_id: &inst.id,
        member_id: &user.id,
    };
    let response = respond(&state, &actor, response, &outcome, 1).await?;
    let message = match store.message_for(&gid, &user.id, mid).await? {
        Some(m) if m.deleted_at.is_none() => Some(render::view(store, m).await?),
        _ => None,
    };
    let data = if data.trim().is_empty() {
        None
    } else {
        Some(serde_json::from_str(&data).unwrap_or(serde_json::Value::String(data)))
    };
    Ok(Json(Acted {
        message,
        response,
        data,
    }))
}
