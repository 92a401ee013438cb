//! `/v1/groups/{gid}/forms/{fid}`: forms an app opened for one member
//! (issue 13 item 3). Only that member sees or submits one (404 for anyone
//! else); a submitted or expired one answers 410 `form_closed`.
//!
//! The host checks every submitted value against its input (and that a
//! picked member is in the group) BEFORE the app runs: a bad value answers
//! 422 `invalid_form` naming each field, and the app is not invoked. The
//! app may answer with its own field errors (the form stays open) or with
//! the next form (at most `MAX_FORM_STEPS` in a chain).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::Auth;
use super::error::{ApiError, ErrorBody};
use super::render::FormView;
use super::respond::{Acted, Actor, form_view, open_form, respond};
use super::{ApiJson, AppState};
use crate::runtime::{Answer, Call, Invocation};
use crate::store::{StoredForm, User, now_ms};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_form, submit_form))
}

/// A submission: each input's raw value by input id (text and decimal
/// numbers as strings or numbers, dates as `YYYY-MM-DD`, date-times as the
/// group's local `YYYY-MM-DDTHH:MM` or with an offset, choices as a value or
/// a list of values, a member as their id, a checkbox as `true`/`false`).
/// Inputs left empty may be absent.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Submission {
    /// Input id -> raw value.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub values: serde_json::Map<String, serde_json::Value>,
}

/// One refused field.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldErrorView {
    /// The input's id.
    pub input: String,
    /// What is wrong, for the member.
    pub message: String,
}

/// The body of a 422 `invalid_form`.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvalidFormBody {
    /// The error.
    pub error: InvalidFormDetail,
}

/// `invalid_form`: which fields were refused and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvalidFormDetail {
    /// `invalid_form`.
    pub code: String,
    /// A summary naming the fields.
    pub message: String,
    /// Each refused field.
    pub fields: Vec<FieldErrorView>,
}

/// Why a submission was not taken: an API error, or fields refused.
pub enum Refusal {
    /// Any other error.
    Api(ApiError),
    /// 422 `invalid_form`.
    Fields(Vec<qun_blocks::FieldError>),
}

impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Refusal {
        Refusal::Api(e)
    }
}

impl From<crate::store::StoreError> for Refusal {
    fn from(e: crate::store::StoreError) -> Refusal {
        Refusal::Api(e.into())
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Api(e) => e.into_response(),
            Refusal::Fields(errors) => {
                let names: Vec<&str> = errors.iter().map(|e| e.input.as_str()).collect();
                let body = InvalidFormBody {
                    error: InvalidFormDetail {
                        code: "invalid_form".into(),
                        message: format!("the form was not accepted; check: {}", names.join(", ")),
                        fields: errors
                            .into_iter()
                            .map(|e| FieldErrorView {
                                input: e.input,
                                message: e.message,
                            })
                            .collect(),
                    },
                };
                (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
            }
        }
    }
}

fn too_many_steps() -> ApiError {
    ApiError::conflict(
        "too_many_steps",
        format!(
            "the app opened more than {} forms in a row; the chain ends here",
            qun_blocks::MAX_FORM_STEPS
        ),
    )
}

/// A field error for each (input, member) whose member is not in the group.
async fn members_outside(
    state: &AppState,
    gid: &str,
    picked: &[(String, String)],
) -> Result<Vec<qun_blocks::FieldError>, ApiError> {
    let mut errors = Vec::new();
    for (input, member) in picked {
        if state.store().member(gid, member).await?.is_none() {
            errors.push(qun_blocks::FieldError {
                input: input.clone(),
                message: "pick a member of this group".into(),
            });
        }
    }
    Ok(errors)
}

/// A field error for each file input naming a file the member did not
/// upload to this group, or one of a type the input does not accept
/// (issue 17). The type is the one the host read from the bytes.
async fn files_refused(
    state: &AppState,
    gid: &str,
    member: &str,
    form: &qun_blocks::Form,
    given: &[(String, Vec<String>)],
) -> Result<Vec<qun_blocks::FieldError>, ApiError> {
    let mut errors = Vec::new();
    for (input_id, ids) in given {
        let Some(qun_blocks::InputKind::File(input)) =
            form.inputs().find(|i| &i.id == input_id).map(|i| &i.kind)
        else {
            continue;
        };
        let found = state.store().files_in_group(gid, ids).await?;
        for id in ids {
            let file = found
                .iter()
                .find(|f| &f.id == id && f.uploaded_by.as_deref() == Some(member));
            let problem = match file {
                None => Some("names a file you did not upload to this group".to_string()),
                Some(f) if !input.accepts(&f.content_type) => Some(format!(
                    "{} is {}, which this input does not accept",
                    f.name.chars().take(60).collect::<String>(),
                    f.content_type
                )),
                Some(_) => None,
            };
            if let Some(message) = problem {
                errors.push(qun_blocks::FieldError {
                    input: input_id.clone(),
                    message,
                });
                break;
            }
        }
    }
    Ok(errors)
}

fn form_closed() -> ApiError {
    ApiError::Limited {
        status: StatusCode::GONE,
        code: "form_closed",
        message: "this form was already submitted or has expired".into(),
        retry_after: None,
    }
}

/// The caller's open form `fid` in `gid`: 404 unless it was opened for
/// them there, 410 once submitted or expired.
async fn open_form_of(
    state: &AppState,
    gid: &str,
    user: &User,
    fid: &str,
) -> Result<StoredForm, ApiError> {
    state.member_of(gid, user).await?;
    let form = state
        .store()
        .form(gid, &user.id, fid)
        .await?
        .ok_or_else(|| ApiError::not_found("form_not_found", "no such form of yours here"))?;
    if form.closed_at.is_some() || form.expires_at <= now_ms() {
        return Err(form_closed());
    }
    Ok(form)
}

/// A form opened for you (its title, blocks and inputs, submit label).
#[utoipa::path(get, path = "/v1/groups/{gid}/forms/{fid}", tag = "forms",
    params(("gid" = String, Path, description = "Group id"), ("fid" = String, Path, description = "Form id")),
    responses((status = 200, body = FormView), (status = 401, body = ErrorBody),
        (status = 404, description = "no such group among yours, or `form_not_found` (also a form opened for someone else)", body = ErrorBody),
        (status = 410, description = "`form_closed`: already submitted, or expired", body = ErrorBody)))]
async fn get_form(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path((gid, fid)): Path<(String, String)>,
) -> Result<Json<FormView>, ApiError> {
    let form = open_form_of(&state, &gid, &user, &fid).await?;
    Ok(Json(form_view(&form)))
}

/// Submit a form opened for you.
///
/// Every value is checked against its input first (and a picked member
/// must be in the group); a refused value answers 422 `invalid_form` with
/// `fields` naming each input, and the app does not run. Otherwise the app
/// receives the typed values; it may answer with its own field errors (422
/// `invalid_form`; the form stays open), the next form (`response.type`
/// `form`), a post, a private reply or nothing (the form is then closed).
#[utoipa::path(post, path = "/v1/groups/{gid}/forms/{fid}", tag = "forms", request_body = Submission,
    params(("gid" = String, Path, description = "Group id"), ("fid" = String, Path, description = "Form id")),
    responses((status = 200, body = Acted), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, description = "no such group among yours, or `form_not_found` (also a form opened for someone else)", body = ErrorBody),
        (status = 409, description = "`too_many_steps`: the app opened one form too many in this chain", body = ErrorBody),
        (status = 410, description = "`form_closed`: already submitted, or expired", body = ErrorBody),
        (status = 422, description = "`invalid_form`: the host or the app refused fields", body = InvalidFormBody),
        (status = 429, body = ErrorBody), (status = 502, body = ErrorBody), (status = 504, body = ErrorBody)))]
async fn submit_form(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path((gid, fid)): Path<(String, String)>,
    ApiJson(body): ApiJson<Submission>,
) -> Result<Json<Acted>, Refusal> {
    let stored = open_form_of(&state, &gid, &user, &fid).await?;
    let store = state.store();
    let group = store
        .group(&gid)
        .await?
        .ok_or_else(|| ApiError::no_group(&gid))?;
    let zone =
        qun_blocks::Zone::parse(&group.time_zone).unwrap_or_else(|_| qun_blocks::Zone::utc());
    // Every field is checked, so every refused one is named at once: the
    // values, and that each picked member is in the group.
    let (submitted, mut errors) =
        match qun_blocks::check_submission(&stored.form, &body.values, &zone) {
            Ok(submitted) => {
                let members = submitted.members.clone();
                let mut errors = members_outside(&state, &gid, &members).await?;
                errors.extend(
                    files_refused(&state, &gid, &user.id, &stored.form, &submitted.files).await?,
                );
                (Some(submitted), errors)
            }
            Err(errors) => {
                let picked: Vec<(String, String)> = stored
                    .form
                    .inputs()
                    .filter(|i| matches!(i.kind, qun_blocks::InputKind::Member(_)))
                    .filter(|i| !errors.iter().any(|e| e.input == i.id))
                    .filter_map(|i| {
                        let member = body.values.get(&i.id)?.as_str()?;
                        (!member.is_empty()).then(|| (i.id.clone(), member.to_string()))
                    })
                    .collect();
                let mut errors = errors;
                errors.extend(members_outside(&state, &gid, &picked).await?);
                (None, errors)
            }
        };
    let submitted = match submitted {
        Some(submitted) if errors.is_empty() => submitted,
        _ => {
            let order: Vec<&str> = stored.form.inputs().map(|i| i.id.as_str()).collect();
            errors.sort_by_key(|e| {
                order
                    .iter()
                    .position(|id| *id == e.input)
                    .unwrap_or(usize::MAX)
            });
            return Err(Refusal::Fields(errors));
        }
    };
    // One submission wins; a second one at the same time finds it closed.
    if !store.close_form(&stored.id).await? {
        return Err(form_closed().into());
    }
    let inst = match store.installation(&stored.installation_id).await? {
        Some(inst) if inst.group_id == gid => inst,
        _ => {
            return Err(ApiError::not_found(
                "not_installed",
                "the app that opened this form is no longer installed here",
            )
            .into());
        }
    };
    let call = match stored.origin["command"].as_str() {
        // A command's form: the command runs with the options filled in.
        Some(command) => Call::Command {
            name: command.to_string(),
            args: String::new(),
            options: submitted.values,
        },
        None => Call::Submit {
            callback: stored.form.callback.clone(),
            state: stored.form.state.clone(),
            values: submitted.values,
            step: stored.step,
        },
    };
    let invocation = Invocation {
        installation_id: inst.id.clone(),
        actor: Some(user.id.clone()),
        call,
        invocation_id: None,
    };
    let outcome = match state.invoke(&inst.app_slug, &gid, invocation).await {
        Ok(outcome) => outcome,
        // The runtime refuses a form past the last step (nothing the app
        // did is kept); the chain ends here.
        Err(e) if e.code() == "invalid_response" && stored.step >= qun_blocks::MAX_FORM_STEPS => {
            return Err(too_many_steps().into());
        }
        Err(e) => {
            // Nothing happened: the member may send it again.
            store.reopen_form(&stored.id).await?;
            return Err(e.into());
        }
    };
    let response = match &outcome.answer {
        Answer::Response(response) => response.clone(),
        other => {
            return Err(ApiError::Internal(format!("a submission answered {other:?}")).into());
        }
    };
    let actor = Actor {
        group_id: &gid,
        installation_id: &inst.id,
        member_id: &user.id,
    };
    let response = match response {
        qun_blocks::Response::FieldErrors { errors } => {
            store.reopen_form(&stored.id).await?;
            return Err(Refusal::Fields(errors));
        }
        qun_blocks::Response::Form { form } => {
            if stored.step >= qun_blocks::MAX_FORM_STEPS {
                return Err(too_many_steps().into());
            }
            open_form(&state, &actor, form, stored.step + 1, serde_json::json!({})).await?
        }
        other => respond(&state, &actor, other, &outcome, stored.step).await?,
    };
    Ok(Json(Acted {
        message: None,
        response,
        data: None,
    }))
}
