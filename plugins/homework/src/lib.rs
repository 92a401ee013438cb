//! Homework for Qun groups.
//!
//! The teacher (the group's owner or an admin) sets homework with
//! `/homework Title | due | instructions`, or with `/homework` alone, which
//! opens the homework form (title, due date-time in the group's time zone,
//! instructions). The card's **Hand in** opens a form with a text answer
//! and up to 5 files (photos, PDF or text documents; either or both; late
//! after the due time, changeable until graded); **My status** answers the
//! student privately; the teacher's **Hand-ins** lists every hand-in with
//! its files (images shown, documents to download) and **Grade** opens a
//! form (student, score 0-100, comment) and the feedback reaches the student
//! by direct message. API callers use `submit`, `submission`, `submissions`, `grade`
//! and `stats`. Members who have not
//! handed in are reminded by direct message 24 hours and 1 hour before the
//! due time. See the README.

mod assignment;
mod create;
mod payload;
mod remind;
mod submit;
mod teacher;

use qun_sdk::prelude::*;

pub use assignment::{Assignment, Grade, HandedFile, Submission};

/// The homework app.
pub struct Homework;

impl App for Homework {
    fn describe() -> Describe {
        Describe::new("homework", "Homework")
            .version(env!("CARGO_PKG_VERSION"))
            .description(
                "Set homework with a due time; members hand in text answers, photos and documents \
                 (late ones are marked), the teacher (group owner or admin) sees the hand-ins and who \
                 has not handed in, grades with \
                 feedback sent by direct message, and reads the statistics. Members who have not \
                 handed in are reminded 24 hours and 1 hour before the due time.",
            )
            .command_with(create::spec())
            .action("submit", r#"Hand in or replace your answer until graded: {"assignment": "<id>", "answer": "<text>"}; without "answer" it opens the hand-in form"#)
            .action("submission", r#"See your hand-in (teachers: anyone's with "member"): {"assignment": "<id>", "member": "<id>"?}"#)
            .action("submissions", r#"Teachers: every hand-in and who has not handed in: {"assignment": "<id>"}"#)
            .action("grade", r#"Teachers: grade a hand-in, the student gets the feedback: {"assignment": "<id>", "member": "<id>", "score": 0-100, "feedback": "<text>"}; with only "assignment" it opens the grading form"#)
            .action("stats", r#"Teachers: handed in / members, late, graded, average score: {"assignment": "<id>"}"#)
    }

    fn on_command(ctx: &Context, command: &Command) -> Result<Reply> {
        match command.name.as_str() {
            "homework" => create::run(ctx, command),
            other => Err(Error::invalid(format!(
                "unknown command /{other}; try /homework Title | in 2d | instructions"
            ))),
        }
    }

    fn on_submit(ctx: &Context, submission: &qun_sdk::Submission) -> Result<Reply> {
        match submission.callback.as_str() {
            "homework" => create::submitted(ctx, submission),
            "hand-in" => submit::handed_in(ctx, submission),
            "grade" => teacher::graded(ctx, submission),
            other => Err(Error::invalid(format!("unknown form `{other}`"))),
        }
    }

    fn on_action(ctx: &Context, call: &ActionCall) -> Result<ActionAnswer> {
        let payload = &call.payload;
        match call.name.as_str() {
            "submit" => submit::submit(ctx, payload).map(|a| for_members(call, a)),
            "submission" => submit::show(ctx, payload).map(|a| for_members(call, a)),
            "submissions" => teacher::submissions(ctx, payload, call.message_id.is_some()),
            "grade" => teacher::grade(ctx, payload).map(|a| for_members(call, a)),
            "stats" => teacher::stats(ctx, payload).map(Into::into),
            other => Err(Error::invalid(format!(
                "unknown action `{other}`; homework answers submit, submission, submissions, grade and stats"
            ))),
        }
    }

    fn on_event(ctx: &Context, event: &Event) -> Result<()> {
        match event {
            Event::TimerFired(timer) if timer.key.starts_with(remind::TIMER_PREFIX) => {
                remind::on_timer(ctx, timer)
            }
            _ => Ok(()),
        }
    }
}

/// The payload of the card's buttons and the state of its forms:
/// `{"assignment":"<id>"}`.
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct AssignmentRef {
    pub(crate) assignment: String,
}

/// A private reply is for a member who pressed a button; API callers read
/// the JSON (a form is opened either way).
fn for_members(call: &ActionCall, mut answer: ActionAnswer) -> ActionAnswer {
    if call.message_id.is_none() && matches!(answer.reply, Reply::Private(_)) {
        answer.reply = Reply::None;
    }
    answer
}

export_app!(Homework);

#[cfg(test)]
mod tests;
