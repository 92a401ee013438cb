//! The teacher's actions: `submissions`, `grade` and `stats`.
//!
//! "Students" are the group's current members who are not teachers (owner,
//! admins), read through `membership`, every page.

use std::collections::BTreeMap;

use qun_sdk::prelude::*;

use crate::AssignmentRef;
use crate::assignment::{
    Assignment, Grade, HandedFile, Submission, is_teacher, require_teacher, students,
};
use crate::payload;
use crate::submit::preview;

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

/// Blocks of the hand-ins card (the host's limit, less one for "more").
const CARD_BLOCKS: usize = qun_sdk::blocks::MAX_BLOCKS - 1;
/// Bytes of text the hand-ins card holds (the host takes 16 KiB per message).
const CARD_BYTES: usize = 12_000;

/// Action `submissions`: every hand-in (with its files) and who has not
/// handed in, as JSON; from the card's **Hand-ins** button (`card`) also a
/// private card showing each hand-in's answer and its files.
pub(crate) fn submissions(ctx: &Context, payload: &Json, card: bool) -> Result<ActionAnswer> {
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
                    "files": s.files.iter().map(HandedFile::json).collect::<Vec<_>>(),
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
    if !card {
        return Ok(answer.into());
    }
    let missing: Vec<&str> = members
        .iter()
        .filter(|m| !is_teacher(m) && !submissions.contains_key(&m.id))
        .map(|m| m.display_name.as_str())
        .collect();
    let message = hand_ins_card(ctx, &assignment, &submissions, &names, &missing);
    Ok(ActionAnswer::new(answer, Reply::private(message)))
}

/// The teacher's view of the hand-ins: per hand-in, who, when, the grade and
/// the answer, then its files (images shown, other files to download); as
/// many hand-ins as a message holds, then how many more there are.
fn hand_ins_card(
    ctx: &Context,
    assignment: &Assignment,
    submissions: &BTreeMap<String, Submission>,
    names: &BTreeMap<&str, &str>,
    missing: &[&str],
) -> Message {
    let handed = submissions.len();
    let mut card = Message::new(format!(
        "Hand-ins for homework #{} “{}”: {handed}",
        assignment.id, assignment.title
    ))
    .header(format!("Hand-ins: {}", assignment.title));
    let status = if missing.is_empty() {
        format!("{handed} handed in · everyone has handed in")
    } else {
        let mut waiting = missing.join(", ");
        if waiting.chars().count() > 1000 {
            waiting = format!("{}…", waiting.chars().take(1000).collect::<String>());
        }
        format!("{handed} handed in · not yet: {waiting}")
    };
    card = card.context(status);
    let mut bytes = card.rendered().len();
    let mut shown = 0;
    for (member, s) in submissions {
        let name = names
            .get(member.as_str())
            .copied()
            .unwrap_or(member.as_str());
        let mut line = format!(
            "*{name}* · {}{}",
            ctx.format_time(Timestamp::from_millis(s.submitted_at)),
            if s.late { " · late" } else { "" }
        );
        if let Some(g) = &s.grade {
            line.push_str(&format!(" · graded {}/100", g.score));
        }
        if s.files.is_empty() && s.answer.is_empty() {
            line.push_str("\n(nothing handed in)");
        } else if !s.answer.is_empty() {
            let cut: String = if s.answer.chars().count() > PREVIEW_CHARS {
                format!(
                    "{}…",
                    s.answer.chars().take(PREVIEW_CHARS).collect::<String>()
                )
            } else {
                s.answer.clone()
            };
            line.push('\n');
            line.push_str(&preview(&cut));
        }
        let cost = line.len()
            + s.files
                .iter()
                .map(|f| f.id.len() + f.name.len() + 40)
                .sum::<usize>();
        if card.blocks.len() + 1 + s.files.len() > CARD_BLOCKS || bytes + cost > CARD_BYTES {
            break;
        }
        bytes += cost;
        card = card.text(line);
        for file in &s.files {
            card = file.show(card);
        }
        shown += 1;
    }
    if shown < handed {
        card = card.context(format!(
            "{} more hand-ins: see them one by one with the submission action (\"member\")",
            handed - shown
        ));
    }
    card
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
