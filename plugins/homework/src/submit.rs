//! Action `submit` (hand in; without an answer it opens the hand-in form),
//! the hand-in form (a text answer and files: either or both), and action
//! `submission` (see one hand-in; the member's own status as a private reply).

use qun_sdk::prelude::*;

use crate::AssignmentRef;
use crate::assignment::{Assignment, HandedFile, Submission, is_teacher, require_teacher};
use crate::payload;

/// Longest answer, in characters.
pub(crate) const MAX_ANSWER: usize = 5000;
/// The hand-in form's file input.
pub(crate) const WORK: &str = "work";
/// Most files in one hand-in.
pub(crate) const MAX_FILES: u8 = 5;
/// The types a hand-in may hold: photos, PDF and text documents.
pub(crate) const ACCEPTED: [&str; 3] = ["image/", "application/pdf", "text/plain"];
const SUBMIT_EXAMPLE: &str = r#"{"assignment": "1", "answer": "my answer"}"#;
const SUBMISSION_EXAMPLE: &str = r#"{"assignment": "1"} or {"assignment": "1", "member": "<id>"}"#;

/// Action `submit`: `{"assignment": "<id>", "answer": "<text>"}` hands in;
/// `{"assignment": "<id>"}` (the card's **Hand in**) opens the hand-in form.
pub(crate) fn submit(ctx: &Context, payload: &Json) -> Result<ActionAnswer> {
    let fields = payload::object(payload, SUBMIT_EXAMPLE)?;
    let id = payload::assignment(fields, SUBMIT_EXAMPLE)?;
    if fields.get("answer").is_none_or(Json::is_null) {
        let assignment = Assignment::load(&id)?;
        let previous = may_hand_in(ctx, &assignment)?;
        let form = hand_in_form(ctx, &assignment, previous.as_ref())?;
        return Ok(ActionAnswer::new(
            json!({"assignment": assignment.id, "form": "hand-in"}),
            form,
        ));
    }
    let answer = payload::required_text(fields, "answer", MAX_ANSWER, SUBMIT_EXAMPLE)?;
    let assignment = Assignment::load(&id)?;
    let (data, reply) = hand_in(ctx, &assignment, answer, Vec::new())?;
    Ok(ActionAnswer::new(data, reply))
}

/// The actor's earlier hand-in; `denied` for teachers and `invalid` once graded.
fn may_hand_in(ctx: &Context, assignment: &Assignment) -> Result<Option<Submission>> {
    if is_teacher(&ctx.actor_member()?) {
        return Err(Error::denied(
            "teachers (the group's owner and admins) set and grade homework; they do not hand it in",
        ));
    }
    let previous = assignment.submission(ctx.actor()?)?;
    if previous.as_ref().is_some_and(|s| s.grade.is_some()) {
        return Err(Error::invalid(format!(
            "your hand-in for homework #{} is already graded; it can no longer be changed",
            assignment.id
        )));
    }
    Ok(previous)
}

fn hand_in_form(
    ctx: &Context,
    assignment: &Assignment,
    previous: Option<&Submission>,
) -> Result<Form> {
    // Text, files or both: the app checks that one is there.
    let mut answer = Input::text("answer", "Your answer")
        .multiline()
        // A form's text input takes at most MAX_INPUT_CHARS; the API takes longer answers.
        .max_length(MAX_ANSWER.min(qun_sdk::blocks::MAX_INPUT_CHARS) as u32);
    let mut work = Input::file(WORK, "Your work")
        .max_files(MAX_FILES)
        .accept(ACCEPTED)
        .hint(format!(
            "Photos or documents (PDF, text), up to {MAX_FILES} files"
        ));
    if let Some(previous) = previous {
        answer = answer
            .initial(&previous.answer)
            .hint("Handing in again replaces your earlier answer");
        if !previous.files.is_empty() {
            work = work.hint(format!(
                "Handing in again replaces the {} file(s) you handed in; choose them again to keep them",
                previous.files.len()
            ));
        }
    }
    let mut form = Form::new(format!("Hand in: {}", assignment.title), "hand-in");
    if !assignment.instructions.is_empty() {
        form = form.text(&assignment.instructions);
    }
    form.context(format!("Due {}", ctx.format_time(assignment.due())))
        .input(answer)
        .input(work)
        .submit_label("Hand in")
        .state(&AssignmentRef {
            assignment: assignment.id.clone(),
        })
}

/// The hand-in form was submitted: a text answer, files, or both. The host
/// already checked that the files are the student's own uploads, at most
/// [`MAX_FILES`], of an accepted type; the app reads what they are.
pub(crate) fn handed_in(ctx: &Context, submission: &qun_sdk::Submission) -> Result<Reply> {
    let state: AssignmentRef = submission.state()?;
    let answer: Option<String> = submission.value("answer")?;
    let answer = answer.unwrap_or_default().trim().to_owned();
    let ids = submission.files(WORK)?;
    if answer.is_empty() && ids.is_empty() {
        return Ok(Reply::field_errors([
            ("answer", "write your answer, or attach your work below"),
            (
                WORK,
                "attach photos or documents of your work, or write your answer above",
            ),
        ]));
    }
    let mut handed = Vec::with_capacity(ids.len());
    for id in ids {
        let info = files::stat(&id)?;
        if !accepted(&info.content_type) {
            return Ok(Reply::field_error(
                WORK,
                format!(
                    "“{}” is {}; hand in photos, PDF or text documents",
                    info.name, info.content_type
                ),
            ));
        }
        handed.push(HandedFile {
            id: info.id,
            name: info.name,
            content_type: info.content_type,
            size: info.size,
        });
    }
    let assignment = Assignment::load(&state.assignment)?;
    Ok(hand_in(ctx, &assignment, answer, handed)?.1)
}

/// A type a hand-in may hold.
fn accepted(content_type: &str) -> bool {
    ACCEPTED.iter().any(|a| {
        if a.ends_with('/') {
            content_type.starts_with(a)
        } else {
            content_type == *a
        }
    })
}

/// Stores the actor's answer and files (replacing an earlier hand-in, whose
/// files no longer handed in are deleted): the JSON for API callers and a
/// private confirmation for the member.
fn hand_in(
    ctx: &Context,
    assignment: &Assignment,
    answer: String,
    files: Vec<HandedFile>,
) -> Result<(Json, Reply)> {
    let actor = ctx.actor()?;
    let previous = may_hand_in(ctx, assignment)?;
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
        files,
    };
    assignment.save_submission(actor, &submission)?;
    // The replaced hand-in's files no longer count against the quotas; one
    // that cannot be deleted (the `files` grant withdrawn since) just stays.
    for old in previous.iter().flat_map(|p| &p.files) {
        if !submission.files.iter().any(|f| f.id == old.id) {
            match files::delete(&old.id) {
                Ok(_) | Err(Error::Denied(_) | Error::NotFound(_)) => {}
                Err(err) => return Err(err),
            }
        }
    }
    let attached = match submission.files.len() {
        0 => String::new(),
        1 => " with 1 file".to_owned(),
        n => format!(" with {n} files"),
    };
    let line = format!(
        "You handed in homework #{} “{}”{attached}{}{}.",
        assignment.id,
        assignment.title,
        if previous.is_some() { " again" } else { "" },
        if submission.late { " (late)" } else { "" }
    );
    let data = json!({
        "ok": true,
        "assignment": assignment.id,
        "member": actor,
        "late": submission.late,
        "resubmitted": previous.is_some(),
        "submitted_at": now.to_string(),
        "files": submission.files.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(),
    });
    Ok((data, Reply::private(Message::new(line.clone()).text(line))))
}

/// Action `submission`: `{"assignment": "<id>"}` shows the actor's own
/// hand-in (privately, and as JSON); a teacher may add `"member": "<id>"`
/// to see anyone's.
pub(crate) fn show(ctx: &Context, payload: &Json) -> Result<ActionAnswer> {
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
            format!(
                "you have not handed in homework #{id} yet; it is due {}",
                ctx.format_time(assignment.due())
            )
        } else {
            format!("`{member}` has not handed in homework #{id}")
        })
    })?;
    let status = match (&submission.grade, submission.late) {
        (Some(g), _) => format!("graded {}/100", g.score),
        (None, true) => "handed in late, not graded yet".to_owned(),
        (None, false) => "handed in, not graded yet".to_owned(),
    };
    let mut card = Message::new(format!("Homework #{}: {status}", assignment.id))
        .header(format!("{}: {status}", assignment.title))
        .fields([
            (
                "Handed in",
                ctx.format_time(Timestamp::from_millis(submission.submitted_at)),
            ),
            ("Versions", submission.versions.to_string()),
        ]);
    if !submission.answer.is_empty() {
        card = card.text(preview(&submission.answer));
    }
    for file in &submission.files {
        card = file.show(card);
    }
    if let Some(feedback) = submission
        .grade
        .as_ref()
        .map(|g| &g.feedback)
        .filter(|f| !f.is_empty())
    {
        card = card.context(format!("Feedback: {feedback}"));
    }
    let data = json!({
        "assignment": assignment.id,
        "title": assignment.title,
        "due": assignment.due().to_string(),
        "member": member,
        "answer": submission.answer,
        "submitted_at": Timestamp::from_millis(submission.submitted_at).to_string(),
        "late": submission.late,
        "versions": submission.versions,
        "grade": submission.grade.as_ref().map(|g| json!({"score": g.score, "feedback": g.feedback})),
        "files": submission.files.iter().map(HandedFile::json).collect::<Vec<_>>(),
    });
    Ok(ActionAnswer::new(data, Reply::private(card)))
}

/// The answer as a text block holds it: cut to the block's limit.
pub(crate) fn preview(answer: &str) -> String {
    let max = qun_sdk::blocks::MAX_TEXT_CHARS;
    if answer.chars().count() <= max {
        return answer.to_owned();
    }
    let mut cut: String = answer.chars().take(max - 1).collect();
    cut.push('…');
    cut
}
