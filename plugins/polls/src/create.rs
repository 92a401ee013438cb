//! `/poll`: typed options (question, options, multiple, anonymous, closes);
//! the host opens the poll form when the question or the options are missing.

use qun_sdk::blocks::CommandSpec;
use qun_sdk::prelude::*;

use crate::PollRef;
use crate::card;
use crate::poll::{Poll, new_salt};

const MIN_OPTIONS: usize = 2;
const MAX_OPTIONS: usize = 10;
const MAX_QUESTION: u32 = 300;
const MAX_OPTION: usize = 100;

/// The command's declaration.
pub(crate) fn spec() -> CommandSpec {
    Describe::spec(
        "poll",
        "Start a poll: /poll Question? | option 1, option 2 [| multiple: yes] [| anonymous: yes] [| closes: in 2h]",
    )
    .option(Input::text("question", "The question").required().max_length(MAX_QUESTION))
    .option(
        Input::text("options", "2 to 10 options, separated by commas (or one per line)")
            .required()
            .multiline()
            .max_length(2000),
    )
    .option(Input::checkbox("multiple", "Several choices per ballot"))
    .option(Input::checkbox("anonymous", "Nobody can see who voted for what"))
    .option(Input::date_time("closes", "When the poll closes by itself"))
    .into()
}

pub(crate) fn run(ctx: &Context, command: &Command) -> Result<Reply> {
    let creator = ctx.actor()?.to_owned();
    let question: String = command.option("question")?;
    let options = split_options(&command.option::<String>("options")?)?;
    let closes_at: Option<Timestamp> = command.option("closes")?;
    if let Some(at) = closes_at.filter(|at| *at <= ctx.now()) {
        return Err(Error::invalid(format!(
            "closes: {} is not in the future; pick a later time",
            ctx.format_time(at)
        )));
    }
    let anonymous: bool = command.option("anonymous")?;
    let mut poll = Poll {
        id: Poll::next_id()?,
        question: question.trim().to_owned(),
        options,
        multiple: command.option("multiple")?,
        anonymous,
        creator,
        created_at: ctx.now().millis(),
        closes_at: closes_at.map(Timestamp::millis),
        closed: false,
        salt: anonymous.then(|| new_salt(ctx)),
        card: None,
    };
    if let Some(at) = closes_at {
        scheduler::schedule_json(
            &poll.close_timer_key(),
            at,
            &PollRef {
                poll: poll.id.clone(),
            },
        )?;
    }
    let message = card::poll_card(ctx, &poll, &card::Counts::empty(&poll))?;
    // Posting the card ourselves gives its id, so votes can update it in
    // place; without the messaging grant it is the command's reply instead
    // (and stays as posted).
    match messaging::post(&message) {
        Ok(id) => {
            poll.card = Some(id);
            poll.save()?;
            Ok(Reply::none())
        }
        Err(Error::Denied(_)) => {
            poll.save()?;
            Ok(Reply::message(message))
        }
        Err(err) => Err(err),
    }
}

/// The options as typed: one per line when there are several lines,
/// otherwise separated by commas.
fn split_options(text: &str) -> Result<Vec<String>> {
    let parts: Vec<String> = if text.contains('\n') {
        text.lines().map(str::to_owned).collect()
    } else {
        text.split(',').map(str::to_owned).collect()
    };
    let options: Vec<String> = parts
        .iter()
        .map(|o| o.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|o| !o.is_empty())
        .collect();
    if options.len() < MIN_OPTIONS {
        return Err(Error::invalid(format!(
            "options: a poll needs at least {MIN_OPTIONS} options, separated by commas, e.g. /poll Lunch? | noodles, rice"
        )));
    }
    if options.len() > MAX_OPTIONS {
        return Err(Error::invalid(format!(
            "options: a poll has at most {MAX_OPTIONS} options, this one has {}",
            options.len()
        )));
    }
    for (i, option) in options.iter().enumerate() {
        if option.chars().count() > MAX_OPTION {
            return Err(Error::invalid(format!(
                "options: option {} is longer than {MAX_OPTION} characters; shorten it",
                i + 1
            )));
        }
        let same = |other: &String| other.to_lowercase() == option.to_lowercase();
        if options[..i].iter().any(same) {
            return Err(Error::invalid(format!(
                "options: `{option}` is given twice; each option must differ"
            )));
        }
    }
    Ok(options)
}
