//! What a member sees after a command, a click or a form submission (issue
//! 13 items 3 and 9): the app's `response` turned into something a client
//! shows — the message it posted, the private reply only they see, or the
//! form opened for them (stored here as a pending form; its `state` never
//! leaves the server).

use serde::Serialize;
use serde_json::Value as Json;
use utoipa::ToSchema;

use super::AppState;
use super::error::ApiError;
use super::render::{self, FormView};
use super::views::MessageView;
use crate::runtime::Outcome;
use crate::store::{NewForm, StoredForm};

/// How long a form stays open for its member.
pub const FORM_TTL_MS: i64 = 24 * 60 * 60 * 1000;

/// What the member who acted sees, tagged with `type`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseView {
    /// Nothing more.
    None,
    /// A message the app posted to the group.
    Post {
        /// The message.
        message: MessageView,
    },
    /// A message only the acting member sees (a private reply).
    Private {
        /// The message.
        message: MessageView,
    },
    /// A form opened for the acting member: show it, then submit it with
    /// `POST /v1/groups/{gid}/forms/{id}`.
    Form {
        /// The form.
        form: FormView,
    },
}

/// What a click or a form submission produced.
#[derive(Debug, Serialize, ToSchema)]
pub struct Acted {
    /// The message that was acted on as it stands now (a click; absent once
    /// deleted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<MessageView>,
    /// What the member sees.
    pub response: ResponseView,
    /// The app's JSON answer to a click (`null` when it gave none).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub data: Option<Json>,
}

/// Who acted where, for turning a response into a view.
pub struct Actor<'a> {
    /// The group.
    pub group_id: &'a str,
    /// The installation that answered.
    pub installation_id: &'a str,
    /// The member who acted.
    pub member_id: &'a str,
}

/// A form as its member sees it.
pub fn form_view(stored: &StoredForm) -> FormView {
    FormView {
        id: stored.id.clone(),
        title: stored.form.title.clone(),
        blocks: render::form_blocks(&stored.form),
        submit_label: stored.form.submit_label.clone(),
        step: i64::from(stored.step),
        expires_at: stored.expires_at,
    }
}

/// Store `form` as pending for the actor (step `step`) and show it.
pub async fn open_form(
    state: &AppState,
    actor: &Actor<'_>,
    form: qun_blocks::Form,
    step: u8,
    origin: Json,
) -> Result<ResponseView, ApiError> {
    let stored = state
        .store()
        .create_form(&NewForm {
            group_id: actor.group_id.to_string(),
            installation_id: actor.installation_id.to_string(),
            member_id: actor.member_id.to_string(),
            form,
            step,
            origin,
            ttl_ms: FORM_TTL_MS,
        })
        .await?;
    Ok(ResponseView::Form {
        form: form_view(&stored),
    })
}

/// The app's `response` as the actor sees it. Posts and private replies
/// were committed by the invocation (`outcome`); a form is stored here
/// (step `step`). Field errors are only an answer to a submission: the
/// caller handles them before, so here they are the app's mistake.
pub async fn respond(
    state: &AppState,
    actor: &Actor<'_>,
    response: qun_blocks::Response,
    outcome: &Outcome,
    step: u8,
) -> Result<ResponseView, ApiError> {
    use qun_blocks::Response;
    let store = state.store();
    match response {
        Response::None => Ok(ResponseView::None),
        Response::Post { .. } => {
            // The reply is committed last, so it has the largest new id.
            let Some(id) = outcome.posted.iter().max() else {
                return Ok(ResponseView::None);
            };
            match store.message(actor.group_id, *id).await? {
                Some(m) => Ok(ResponseView::Post {
                    message: render::view(store, m).await?,
                }),
                None => Ok(ResponseView::None),
            }
        }
        Response::Private { .. } => {
            let id = outcome
                .private
                .iter()
                .filter(|(_, to)| to == actor.member_id)
                .map(|(id, _)| *id)
                .max();
            let Some(id) = id else {
                return Ok(ResponseView::None);
            };
            match store
                .message_for(actor.group_id, actor.member_id, id)
                .await?
            {
                Some(m) => Ok(ResponseView::Private {
                    message: render::view(store, m).await?,
                }),
                None => Ok(ResponseView::None),
            }
        }
        Response::Form { form } => open_form(state, actor, form, step, serde_json::json!({})).await,
        Response::FieldErrors { .. } => Err(ApiError::AppFailed {
            code: "bad_answer",
            message: "the app answered with field errors, but no form was submitted".into(),
        }),
    }
}
