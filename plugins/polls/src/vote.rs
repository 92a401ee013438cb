//! Action `vote`: `{"poll": "<id>", "choices": [<index>, ...]}`.

use qun_sdk::prelude::*;
use serde::Deserialize;

use crate::poll::{Ballot, Poll};

#[derive(Deserialize)]
pub(crate) struct Vote {
    poll: String,
    choices: Vec<usize>,
}

/// Stores the actor's ballot, replacing an earlier one.
pub(crate) fn run(ctx: &Context, vote: Vote) -> Result<Json> {
    let voter = ctx.actor()?;
    let poll = Poll::load(&vote.poll)?;
    if poll.is_closed_at(ctx.now()) {
        return Err(Error::invalid("poll is closed"));
    }
    check_choices(&poll, &vote.choices)?;
    storage::set_json(
        &poll.ballot_key(voter),
        &Ballot {
            choices: vote.choices.clone(),
        },
    )?;
    Ok(json!({ "ok": true, "poll": poll.id, "choices": vote.choices }))
}

fn check_choices(poll: &Poll, choices: &[usize]) -> Result<()> {
    let count = poll.options.len();
    if choices.is_empty() {
        return Err(Error::invalid("choose at least one option"));
    }
    if !poll.multiple && choices.len() != 1 {
        return Err(Error::invalid("this poll takes exactly one choice"));
    }
    for (i, choice) in choices.iter().enumerate() {
        if *choice >= count {
            return Err(Error::invalid(format!(
                "choice {choice} does not exist; options are numbered 0 to {}",
                count - 1
            )));
        }
        if choices[..i].contains(choice) {
            return Err(Error::invalid(format!("choice {choice} is given twice")));
        }
    }
    Ok(())
}
