//! Homework for Qun groups.
//!
//! The teacher (the group's owner or an admin) sets homework with
//! `/homework Title | due | instructions`; members hand in a text answer with
//! `submit` (late after the due time, changeable until graded); the teacher
//! lists hand-ins (`submissions`), grades them (`grade`, the feedback reaches
//! the student by direct message) and reads `stats`. Members who have not
//! handed in are reminded by direct message 24 hours and 1 hour before the
//! due time. See the README.

mod assignment;
mod create;
mod payload;
mod remind;
mod submit;
mod teacher;

use qun_sdk::prelude::*;

pub use assignment::{Assignment, Grade, Submission};

/// The homework app.
pub struct Homework;

impl App for Homework {
    fn describe() -> Describe {
        Describe::new("homework", "Homework")
            .version(env!("CARGO_PKG_VERSION"))
            .description(
                "Set homework with a due time; members hand in text answers (late ones are marked), \
                 the teacher (group owner or admin) sees who handed in and who has not, grades with \
                 feedback sent by direct message, and reads the statistics. Members who have not \
                 handed in are reminded 24 hours and 1 hour before the due time.",
            )
            .command(
                "homework",
                "Set homework (teachers): /homework Title | due (2d, 3h or 2026-11-25T18:00:00Z) | instructions",
            )
            .action("submit", r#"Hand in or replace your answer until graded: {"assignment": "<id>", "answer": "<text>"}"#)
            .action("submission", r#"See your hand-in (teachers: anyone's with "member"): {"assignment": "<id>", "member": "<id>"?}"#)
            .action("submissions", r#"Teachers: every hand-in and who has not handed in: {"assignment": "<id>"}"#)
            .action("grade", r#"Teachers: grade a hand-in, the student gets the feedback: {"assignment": "<id>", "member": "<id>", "score": 0-100, "feedback": "<text>"}"#)
            .action("stats", r#"Teachers: handed in / members, late, graded, average score: {"assignment": "<id>"}"#)
    }

    fn on_command(ctx: &Context, command: &Command) -> Result<Reply> {
        match command.name.as_str() {
            "homework" => create::run(ctx, command),
            other => Err(Error::invalid(format!(
                "unknown command /{other}; try /homework Title | 2d | instructions"
            ))),
        }
    }

    fn on_action(ctx: &Context, action: &str, payload: &Json) -> Result<Json> {
        match action {
            "submit" => submit::submit(ctx, payload),
            "submission" => submit::show(ctx, payload),
            "submissions" => teacher::submissions(ctx, payload),
            "grade" => teacher::grade(ctx, payload),
            "stats" => teacher::stats(ctx, payload),
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

/// The payload of the card's buttons: `{"assignment":"<id>"}`.
#[derive(serde::Serialize)]
pub(crate) struct AssignmentRef {
    assignment: String,
}

export_app!(Homework);

#[cfg(test)]
mod tests;
