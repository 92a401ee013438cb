//! Action `submit` (hand in) and action `submission` (see one hand-in).

use qun_sdk::prelude::*;

use crate::assignment::{Assignment, Submission, is_teacher, require_teacher};
use crate::payload;

/// Longest answer, in characters.
pub(crate) const MAX_ANSWER: usize = 5000;
const SUBMIT_EXAMPLE: &str = r#"{"assignment": "1", "answer": "my answer"}"#;
const SUBMISSION_EXAMPLE: &str = r#"{"assignment": "1"} or {"assignment": "1", "member": "<id>"}"#;

/// Action `submit`: `{"assignment": "<id>", "answer": "<text>"}`.
pub(crate) fn submit(ctx: &Context, payload: &Json) -> Result<Json> {
    let actor = ctx.actor()?;
    let fields = payload::object(payload, SUBMIT_EXAMPLE)?;
    let id = payload::assignment(fields, SUBMIT_EXAMPLE)?;
    let answer = payload::required_text(fields, "answer", MAX_ANSWER, SUBMIT_EXAMPLE)?;
    let assignment = Assignment::load(&id)?;
    if is_teacher(&ctx.actor_member()?) {
        return Err(Error::denied(
            "teachers (the group's owner and admins) set and grade homework; they do not hand it in",
        ));
    }
    let previous = assignment.submission(actor)?;
    if previous.as_ref().is_some_and(|s| s.grade.is_some()) {
        return Err(Error::invalid(format!(
            "your hand-in for homework #{id} is already graded; it can no longer be changed"
        )));
    }
    let now = ctx.now();
    let submission = Submission {
        answer,
        submitted_at: now.millis(),
        late: now > assignment.due(),
        versions: previous
            .as_ref()
            .map_or(0, |s| s.versions)
            .saturating_add(1),
        grade: None,
    };
    assignment.save_submission(actor, &submission)?;
    Ok(json!({
        "ok": true,
        "assignment": assignment.id,
        "member": actor,
        "late": submission.late,
        "resubmitted": previous.is_some(),
        "submitted_at": now.to_string(),
    }))
}

/// Action `submission`: `{"assignment": "<id>"}` shows the actor's own
/// hand-in; a teacher may add `"member": "<id>"` to see anyone's.
pub(crate) fn show(ctx: &Context, payload: &Json) -> Result<Json> {
    let actor = ctx.actor()?;
    let fields = payload::object(payload, SUBMISSION_EXAMPLE)?;
    let id = payload::assignment(fields, SUBMISSION_EXAMPLE)?;
    let member = payload::optional_text(fields, "member", 512)?
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| actor.to_owned());
    let assignment = Assignment::load(&id)?;
    if member != actor {
        require_teacher(ctx, "see another member's hand-in")?;
    }
    let submission = assignment.submission(&member)?.ok_or_else(|| {
        Error::not_found(if member == actor {
            format!("you have not handed in homework #{id} yet")
        } else {
            format!("`{member}` has not handed in homework #{id}")
        })
    })?;
    Ok(json!({
        "assignment": assignment.id,
        "title": assignment.title,
        "due": assignment.due().to_string(),
        "member": member,
        "answer": submission.answer,
        "submitted_at": Timestamp::from_millis(submission.submitted_at).to_string(),
        "late": submission.late,
        "versions": submission.versions,
        "grade": submission.grade.as_ref().map(|g| json!({"score": g.score, "feedback": g.feedback})),
    }))
}
