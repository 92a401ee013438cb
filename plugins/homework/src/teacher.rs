//! The teacher's actions: `submissions`, `grade` and `stats`.
//!
//! "Students" are the group's current members who are not teachers (owner,
//! admins), read through `membership`, every page.

use std::collections::BTreeMap;

use qun_sdk::prelude::*;

use crate::AssignmentRef;
use crate::assignment::{Assignment, Grade, is_teacher, require_teacher, students};
use crate::payload;

/// Longest feedback, in characters (it travels in a direct message).
pub(crate) const MAX_FEEDBACK: usize = 1000;
/// Action answers are limited to 64 KiB on the host: when the full list is
/// larger than this, `submissions` shortens the answers to [`PREVIEW_CHARS`],
/// then leaves them out (`submission` shows one in full).
const ANSWER_BUDGET_BYTES: usize = 60_000;
const PREVIEW_CHARS: usize = 300;
const REF_EXAMPLE: &str = r#"{"assignment": "1"}"#;
const GRADE_EXAMPLE: &str =
    r#"{"assignment": "1", "member": "<id>", "score": 90, "feedback": "Well done"}"#;

/// Action `submissions`: every hand-in and who has not handed in.
pub(crate) fn submissions(ctx: &Context, payload: &Json) -> Result<Json> {
    require_teacher(ctx, "list the hand-ins")?;
    let fields = payload::object(payload, REF_EXAMPLE)?;
    let id = payload::assignment(fields, REF_EXAMPLE)?;
    let assignment = Assignment::load(&id)?;
    let submissions = assignment.submissions()?;
    let members = membership::all_members()?;
    let names: BTreeMap<&str, &str> = members
        .iter()
        .map(|m| (m.id.as_str(), m.display_name.as_str()))
        .collect();
    let missing: Vec<Json> = members
        .iter()
        .filter(|m| !is_teacher(m) && !submissions.contains_key(&m.id))
        .map(|m| json!({"member": m.id, "name": m.display_name}))
        .collect();
    let list = |answer_chars: Option<usize>| {
        let handed_in: Vec<Json> = submissions
            .iter()
            .map(|(member, s)| {
                let (answer, shortened) = shorten(&s.answer, answer_chars);
                json!({
                    "member": member,
                    "name": names.get(member.as_str()),
                    "answer": answer,
                    "answer_truncated": shortened,
                    "submitted_at": Timestamp::from_millis(s.submitted_at).to_string(),
                    "late": s.late,
                    "versions": s.versions,
                    "grade": s.grade.as_ref().map(|g| json!({"score": g.score, "feedback": g.feedback})),
                })
            })
            .collect();
        json!({
            "assignment": assignment.id,
            "title": assignment.title,
            "due": assignment.due().to_string(),
            "submissions": handed_in,
            "not_handed_in": missing,
            "truncated": answer_chars.is_some(),
        })
    };
    let mut answer = list(None);
    for limit in [PREVIEW_CHARS, 0] {
        if answer.to_string().len() <= ANSWER_BUDGET_BYTES {
            break;
        }
        answer = list(Some(limit));
    }
    Ok(answer)
}

/// `text` cut to `limit` characters (with `…`), and whether it was cut.
fn shorten(text: &str, limit: Option<usize>) -> (Option<String>, bool) {
    match limit {
        Some(0) => (None, true),
        Some(limit) if text.chars().count() > limit => {
            let mut preview: String = text.chars().take(limit).collect();
            preview.push('…');
            (Some(preview), true)
        }
        _ => (Some(text.to_owned()), false),
    }
}

/// Action `grade`: score and feedback; the feedback reaches the student by
/// direct message. A teacher may grade again (the student hears again).
/// With only `{"assignment"}` (the card's **Grade**) it opens the grading form.
pub(crate) fn grade(ctx: &Context, payload: &Json) -> Result<ActionAnswer> {
    let teacher = require_teacher(ctx, "grade homework")?;
    let fields = payload::object(payload, GRADE_EXAMPLE)?;
    let id = payload::assignment(fields, GRADE_EXAMPLE)?;
    if fields.get("member").is_none() && fields.get("score").is_none() {
        let assignment = Assignment::load(&id)?;
        return Ok(ActionAnswer::new(
            json!({"assignment": assignment.id, "form": "grade"}),
            grade_form(&assignment)?,
        ));
    }
    let member = payload::required_text(fields, "member", 512, GRADE_EXAMPLE)?;
    let score = payload::integer(fields, "score", 0..=100, GRADE_EXAMPLE)?;
    let feedback = payload::optional_text(fields, "feedback", MAX_FEEDBACK)?.unwrap_or_default();
    let assignment = Assignment::load(&id)?;
    let score = u8::try_from(score).map_err(|_| Error::invalid("`score` must be 0 to 100"))?;
    let (data, reply) = grade_hand_in(ctx, &teacher, &assignment, &member, score, feedback)?
        .map_err(|(_, message)| Error::not_found(message))?;
    Ok(ActionAnswer::new(data, reply))
}

fn grade_form(assignment: &Assignment) -> Result<Form> {
    Form::new(format!("Grade: {}", assignment.title), "grade")
        .input(Input::member("student", "Student").required())
        .input(
            Input::integer("score", "Score (0-100)")
                .required()
                .range(0, 100),
        )
        .input(
            Input::text("feedback", "Comment")
                .multiline()
                .max_length(MAX_FEEDBACK as u32)
                .hint("The student gets it by direct message"),
        )
        .submit_label("Grade")
        .state(&AssignmentRef {
            assignment: assignment.id.clone(),
        })
}

/// The grading form was submitted.
pub(crate) fn graded(ctx: &Context, submission: &qun_sdk::Submission) -> Result<Reply> {
    let teacher = require_teacher(ctx, "grade homework")?;
    let state: AssignmentRef = submission.state()?;
    let student: MemberId = submission.value("student")?;
    let score: u8 = submission.value("score")?;
    let feedback: Option<String> = submission.value("feedback")?;
    let assignment = Assignment::load(&state.assignment)?;
    match grade_hand_in(
        ctx,
        &teacher,
        &assignment,
        student.as_str(),
        score,
        feedback.unwrap_or_default().trim().to_owned(),
    )? {
        Ok((_, reply)) => Ok(reply),
        Err((input, message)) => Ok(Reply::field_error(input, message)),
    }
}

/// What grading gave: the JSON and the teacher's reply, or the input to
/// show an error beside and why.
type Graded = std::result::Result<(Json, Reply), (&'static str, String)>;

/// Grades `member`'s hand-in and tells them; `Ok(Err((input, why)))` when
/// they have not handed in.
fn grade_hand_in(
    ctx: &Context,
    teacher: &Member,
    assignment: &Assignment,
    member: &str,
    score: u8,
    feedback: String,
) -> Result<Graded> {
    let Some(mut submission) = assignment.submission(member)? else {
        return Ok(Err((
            "student",
            format!("`{member}` has not handed in homework #{}", assignment.id),
        )));
    };
    let regraded = submission.grade.is_some();
    submission.grade = Some(Grade {
        score,
        feedback: feedback.clone(),
        graded_by: teacher.id.clone(),
        graded_at: ctx.now().millis(),
    });
    assignment.save_submission(member, &submission)?;

    let mut text = format!(
        "Your homework #{} “{}” is {}: {score}/100.",
        assignment.id,
        assignment.title,
        if regraded { "regraded" } else { "graded" }
    );
    let mut fields = vec![
        ("Homework".to_owned(), format!("#{}", assignment.id)),
        ("Score".to_owned(), format!("{score}/100")),
    ];
    if submission.late {
        fields.push(("Handed in".to_owned(), "late".to_owned()));
    }
    let mut card = Message::new(String::new())
        .header(format!("Graded: {}", assignment.title))
        .fields(fields);
    if !feedback.is_empty() {
        text.push_str(&format!(" Feedback: {feedback}"));
        card = card.text(feedback.as_str());
    }
    // A student who has left the group keeps the grade but gets no message.
    let notified = match messaging::send_direct(member, &card.with_text(text)) {
        Ok(()) => true,
        Err(Error::NotFound(_)) => false,
        Err(err) => return Err(err),
    };
    let name = membership::member(member).map_or_else(|_| member.to_owned(), |m| m.display_name);
    let line = format!(
        "{name}'s homework #{} is {}: {score}/100{}.",
        assignment.id,
        if regraded { "regraded" } else { "graded" },
        if notified {
            ""
        } else {
            " (they are no longer in the group)"
        }
    );
    let data = json!({
        "ok": true,
        "assignment": assignment.id,
        "member": member,
        "score": score,
        "feedback": feedback,
        "regraded": regraded,
        "notified": notified,
    });
    Ok(Ok((
        data,
        Reply::private(Message::new(line.clone()).text(line)),
    )))
}

/// Action `stats`: handed in / students, late, graded, average score.
pub(crate) fn stats(ctx: &Context, payload: &Json) -> Result<Json> {
    require_teacher(ctx, "see homework statistics")?;
    let fields = payload::object(payload, REF_EXAMPLE)?;
    let id = payload::assignment(fields, REF_EXAMPLE)?;
    let assignment = Assignment::load(&id)?;
    let submissions = assignment.submissions()?;
    let students = students()?;
    let counted: Vec<_> = students
        .iter()
        .filter_map(|m| submissions.get(&m.id))
        .collect();
    let scores: Vec<u64> = counted
        .iter()
        .filter_map(|s| s.grade.as_ref().map(|g| u64::from(g.score)))
        .collect();
    let average = (!scores.is_empty()).then(|| {
        let mean = scores.iter().sum::<u64>() as f64 / scores.len() as f64;
        (mean * 100.0).round() / 100.0
    });
    Ok(json!({
        "assignment": assignment.id,
        "title": assignment.title,
        "due": assignment.due().to_string(),
        "members": students.len(),
        "handed_in": counted.len(),
        "not_handed_in": students.len() - counted.len(),
        "late": counted.iter().filter(|s| s.late).count(),
        "graded": scores.len(),
        "average_score": average,
    }))
}
