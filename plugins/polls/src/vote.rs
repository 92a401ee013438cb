//! Action `vote` (`{"poll": "<id>", "choices": [<index>, ...]}`; a button of
//! a multiple-choice poll adds `"toggle": true`) and `mine`, the actor's own
//! ballot as a private reply.

use qun_sdk::prelude::*;
use serde::Deserialize;

use crate::card;
use crate::poll::{Ballot, Poll};
use crate::results::{count, results_message};

#[derive(Deserialize)]
pub(crate) struct Vote {
    poll: String,
    choices: Vec<usize>,
    #[serde(default)]
    toggle: bool,
}

/// Stores the actor's ballot (replacing an earlier one); the card follows
/// within the refresh slot (see [`card::refresh_soon`]). A vote reads only
/// the poll and the voter's own ballot, so votes of different members never
/// conflict, and costs the same however many ballots there are.
pub(crate) fn run(ctx: &Context, vote: Vote) -> Result<ActionAnswer> {
    let voter = ctx.actor()?;
    let poll = Poll::load(&vote.poll)?;
    if poll.is_closed_at(ctx.now()) {
        return Err(Error::invalid("poll is closed"));
    }
    let key = poll.ballot_key(voter);
    let choices = if vote.toggle && poll.multiple {
        let mut current = storage::get_json::<Ballot>(&key)?
            .map(|b| b.choices)
            .unwrap_or_default();
        for choice in &vote.choices {
            match current.iter().position(|c| c == choice) {
                Some(i) => {
                    current.remove(i);
                }
                None => current.push(*choice),
            }
        }
        current.sort_unstable();
        current
    } else {
        vote.choices.clone()
    };
    if choices.is_empty() && vote.toggle {
        storage::delete(&key)?;
    } else {
        check_choices(&poll, &choices)?;
        storage::set_json(
            &key,
            &Ballot {
                choices: choices.clone(),
            },
        )?;
    }
    card::refresh_soon(ctx, &poll)?;
    Ok(json!({ "ok": true, "poll": poll.id, "choices": choices }).into())
}

/// Action `mine`: the actor's ballot and the counts, for them only.
pub(crate) fn mine(ctx: &Context, id: &str) -> Result<ActionAnswer> {
    let voter = ctx.actor()?;
    let poll = Poll::load(id)?;
    let ballot = storage::get_json::<Ballot>(&poll.ballot_key(voter))?;
    let chosen: Vec<&str> = ballot
        .as_ref()
        .map(|b| {
            b.choices
                .iter()
                .filter_map(|c| poll.options.get(*c).map(String::as_str))
                .collect()
        })
        .unwrap_or_default();
    let line = if chosen.is_empty() {
        format!("You have not voted in poll #{} yet.", poll.id)
    } else {
        format!("Your vote in poll #{}: {}.", poll.id, chosen.join(", "))
    };
    let results = count(&poll)?;
    let mut message = results_message(&results, false)?;
    message.text = line.clone();
    message
        .blocks
        .insert(0, qun_sdk::blocks::Block::Text { text: line });
    Ok(ActionAnswer::new(
        json!({ "poll": poll.id, "choices": ballot.map(|b| b.choices).unwrap_or_default() }),
        Reply::private(message),
    ))
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
