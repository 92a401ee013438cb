//! `/homework Title | due | instructions` (teachers only).

use std::time::Duration;

use qun_sdk::prelude::*;

use crate::AssignmentRef;
use crate::assignment::{Assignment, require_teacher};
use crate::remind::{self, Reminder};

/// Longest title, in characters.
pub(crate) const MAX_TITLE: usize = 200;
/// Longest instructions, in characters (the card must fit a 16 KiB message).
pub(crate) const MAX_INSTRUCTIONS: usize = 2000;
/// The latest due time: a year from now.
const MAX_AHEAD: Duration = Duration::from_secs(366 * 86_400);
const USAGE: &str = "write /homework Title | due (2d, 3h or 2026-11-25T18:00:00Z) | instructions";

pub(crate) fn run(ctx: &Context, command: &Command) -> Result<Reply> {
    let teacher = require_teacher(ctx, "set homework")?;
    let args = command.parse_args(&[])?;
    args.allow_only(&[]).map_err(|err| {
        Error::invalid(format!(
            "{}; put text that starts with -- in quotes",
            err.message()
        ))
    })?;
    let (title, due, instructions) = match args.parts() {
        [title, due, instructions @ ..] => (title, due, instructions.join(" | ")),
        [] => {
            return Err(Error::invalid(format!(
                "homework needs a title and a due time; {USAGE}"
            )));
        }
        [_] => {
            return Err(Error::invalid(format!(
                "homework needs a due time after the title; {USAGE}"
            )));
        }
    };
    if title.chars().count() > MAX_TITLE {
        return Err(Error::invalid(format!(
            "the title is longer than {MAX_TITLE} characters; shorten it"
        )));
    }
    if instructions.chars().count() > MAX_INSTRUCTIONS {
        return Err(Error::invalid(format!(
            "the instructions are longer than {MAX_INSTRUCTIONS} characters; shorten them"
        )));
    }
    let due = due_time(ctx.now(), due)?;

    let assignment = Assignment {
        id: Assignment::next_id()?,
        title: title.clone(),
        instructions,
        due: due.millis(),
        teacher: teacher.id,
        created_at: ctx.now().millis(),
    };
    assignment.save()?;
    for reminder in Reminder::ALL {
        remind::schedule(ctx, &assignment, reminder)?;
    }
    Ok(Reply::message(assignment_message(&assignment)?))
}

/// The due time: a duration from now (`2d`, `3h`, `1d12h`) or an RFC 3339
/// time (`2026-11-25T18:00:00+08:00`); it must be in the future.
fn due_time(now: Timestamp, when: &str) -> Result<Timestamp> {
    let at = match qun_sdk::parse_duration(when) {
        Ok(duration) => now + duration,
        Err(_) => Timestamp::parse_rfc3339(when).map_err(|_| {
            Error::invalid(format!(
                "the due time `{when}` is neither a duration (3h, 2d, 1w) nor a time (2026-11-25T18:00:00Z); {USAGE}"
            ))
        })?,
    };
    if at <= now {
        return Err(Error::invalid(format!(
            "the due time {when} is not in the future; pick a later time"
        )));
    }
    if at > now + MAX_AHEAD {
        return Err(Error::invalid(format!(
            "the due time {when} is more than a year away; pick an earlier time"
        )));
    }
    Ok(at)
}

/// The assignment card with its buttons: `submit` and `submission`, both
/// with the payload `{"assignment":"<id>"}`.
pub(crate) fn assignment_card(assignment: &Assignment) -> Result<Card> {
    let reference = AssignmentRef {
        assignment: assignment.id.clone(),
    };
    Card::new(&assignment.title)
        .body(if assignment.instructions.is_empty() {
            "No instructions."
        } else {
            assignment.instructions.as_str()
        })
        .field("Homework", format!("#{}", assignment.id))
        .field("Due", assignment.due().to_string())
        .button("Hand in", "submit", &reference)?
        .button("My submission", "submission", &reference)
}

fn assignment_message(assignment: &Assignment) -> Result<Message> {
    Ok(Message::text(format!(
        "Homework #{}: {} (due {})",
        assignment.id,
        assignment.title,
        assignment.due()
    ))
    .with_card(assignment_card(assignment)?))
}
