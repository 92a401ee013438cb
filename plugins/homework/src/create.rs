//! `/homework Title | due | instructions` (teachers only), or `/homework`
//! alone: the homework form.

use std::time::Duration;

use qun_sdk::blocks::CommandSpec;
use qun_sdk::prelude::*;

use crate::AssignmentRef;
use crate::assignment::{Assignment, require_teacher};
use crate::remind::{self, Reminder};

/// Longest title, in characters.
pub(crate) const MAX_TITLE: usize = 200;
/// Longest instructions, in characters.
pub(crate) const MAX_INSTRUCTIONS: usize = 2000;
/// The latest due time: a year from now.
const MAX_AHEAD: Duration = Duration::from_secs(366 * 86_400);

/// The command's declaration. No option is required: the app checks that
/// the member is a teacher before it opens the form itself.
pub(crate) fn spec() -> CommandSpec {
    Describe::spec(
        "homework",
        "Set homework (teachers): /homework Title | due (in 2d, tomorrow 18:00 or 2030-06-01 09:00) | instructions",
    )
    .option(Input::text("title", "The homework's title").max_length(MAX_TITLE as u32))
    .option(Input::date_time("due", "When it is due"))
    .option(
        Input::text("instructions", "What to do")
            .multiline()
            .max_length(MAX_INSTRUCTIONS as u32),
    )
    .into()
}

/// The homework form, pre-filled with what was typed.
fn form(title: Option<&str>, due: Option<Timestamp>, instructions: Option<&str>) -> Form {
    let mut title_input = Input::text("title", "Title")
        .required()
        .max_length(MAX_TITLE as u32);
    if let Some(title) = title {
        title_input = title_input.initial(title);
    }
    let mut due_input = Input::date_time("due", "Due").required();
    if let Some(due) = due {
        due_input = due_input.initial_time(due);
    }
    let mut instructions_input = Input::text("instructions", "Instructions")
        .multiline()
        .max_length(MAX_INSTRUCTIONS as u32);
    if let Some(text) = instructions {
        instructions_input = instructions_input.initial(text);
    }
    Form::new("Set homework", "homework")
        .input(title_input)
        .input(due_input.hint("In the group's time zone"))
        .input(instructions_input)
        .submit_label("Set homework")
}

pub(crate) fn run(ctx: &Context, command: &Command) -> Result<Reply> {
    require_teacher(ctx, "set homework")?;
    let title: Option<String> = command.option("title")?;
    let due: Option<Timestamp> = command.option("due")?;
    let instructions: Option<String> = command.option("instructions")?;
    match (
        title.as_deref().map(str::trim).filter(|t| !t.is_empty()),
        due,
    ) {
        (Some(title), Some(due)) => {
            match create(ctx, title, due, instructions.unwrap_or_default())? {
                Ok(reply) => Ok(reply),
                Err((_, message)) => Err(Error::invalid(message)),
            }
        }
        (title, due) => Ok(form(title, due, instructions.as_deref()).into()),
    }
}

/// The homework form was submitted.
pub(crate) fn submitted(ctx: &Context, submission: &qun_sdk::Submission) -> Result<Reply> {
    require_teacher(ctx, "set homework")?;
    let title: String = submission.value("title")?;
    let due: Timestamp = submission.value("due")?;
    let instructions: Option<String> = submission.value("instructions")?;
    match create(ctx, title.trim(), due, instructions.unwrap_or_default())? {
        Ok(reply) => Ok(reply),
        Err((input, message)) => Ok(Reply::field_error(input, message)),
    }
}

/// Creates the assignment; `Ok(Err((input, why)))` when a value is not
/// acceptable (shown beside the input, or as the command's error).
fn create(
    ctx: &Context,
    title: &str,
    due: Timestamp,
    instructions: String,
) -> Result<std::result::Result<Reply, (&'static str, String)>> {
    let teacher = ctx.actor()?.to_owned();
    if title.is_empty() {
        return Ok(Err(("title", "title: give the homework a title".into())));
    }
    if due <= ctx.now() {
        return Ok(Err((
            "due",
            format!(
                "due: {} is not in the future; pick a later time",
                ctx.format_time(due)
            ),
        )));
    }
    if due > ctx.now() + MAX_AHEAD {
        return Ok(Err((
            "due",
            format!(
                "due: {} is more than a year away; pick an earlier time",
                ctx.format_time(due)
            ),
        )));
    }
    let assignment = Assignment {
        id: Assignment::next_id()?,
        title: title.to_owned(),
        instructions: instructions.trim().to_owned(),
        due: due.millis(),
        teacher,
        created_at: ctx.now().millis(),
    };
    assignment.save()?;
    for reminder in Reminder::ALL {
        remind::schedule(ctx, &assignment, reminder)?;
    }
    Ok(Ok(Reply::message(assignment_message(ctx, &assignment)?)))
}

/// The assignment card: the title, the instructions, the due time on the
/// group's clock and the buttons **Hand in** (`submit`), **My status**
/// (`submission`), **Grade** (`grade`, teachers) and **Hand-ins**
/// (`submissions`, teachers), each with the payload
/// `{"assignment":"<id>"}`.
pub(crate) fn assignment_message(ctx: &Context, assignment: &Assignment) -> Result<Message> {
    let reference = AssignmentRef {
        assignment: assignment.id.clone(),
    };
    Ok(Message::new(format!(
        "Homework #{}: {} (due {})",
        assignment.id,
        assignment.title,
        ctx.format_time(assignment.due())
    ))
    .header(&assignment.title)
    .text(if assignment.instructions.is_empty() {
        "No instructions."
    } else {
        assignment.instructions.as_str()
    })
    .fields([
        ("Homework", format!("#{}", assignment.id)),
        ("Due", ctx.format_time(assignment.due())),
    ])
    .actions([
        Button::new("Hand in", "submit")
            .payload(&reference)?
            .style(ButtonStyle::Primary),
        Button::new("My status", "submission").payload(&reference)?,
        Button::new("Grade", "grade").payload(&reference)?,
        Button::new("Hand-ins", "submissions").payload(&reference)?,
    ]))
}
