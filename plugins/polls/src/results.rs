//! Results: counting ballots, the `results` and `close` actions, the closing timer.
//!
//! Anonymous polls never name a voter: not in the JSON, not in messages.

use std::collections::BTreeMap;

use qun_sdk::prelude::*;
use serde::Serialize;

use crate::card;
use crate::poll::Poll;

/// A poll's counts.
#[derive(Serialize)]
pub(crate) struct Results {
    pub(crate) poll: String,
    pub(crate) question: String,
    pub(crate) closed: bool,
    pub(crate) anonymous: bool,
    pub(crate) multiple: bool,
    pub(crate) total_ballots: usize,
    pub(crate) options: Vec<OptionResult>,
}

#[derive(Serialize)]
pub(crate) struct OptionResult {
    pub(crate) label: String,
    pub(crate) votes: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) voters: Option<Vec<String>>,
}

impl Results {
    pub(crate) fn zero(poll: &Poll) -> Results {
        Results {
            poll: poll.id.clone(),
            question: poll.question.clone(),
            closed: poll.closed,
            anonymous: poll.anonymous,
            multiple: poll.multiple,
            total_ballots: 0,
            options: poll
                .options
                .iter()
                .map(|label| OptionResult {
                    label: label.clone(),
                    votes: 0,
                    voters: (!poll.anonymous).then(Vec::new),
                })
                .collect(),
        }
    }
}

pub(crate) fn count(poll: &Poll) -> Result<Results> {
    let mut results = Results::zero(poll);
    let ballots = poll.ballots()?;
    for (voter, ballot) in &ballots {
        for choice in &ballot.choices {
            // Ballots were checked when cast; skip anything else rather than fail.
            if let Some(option) = results.options.get_mut(*choice) {
                option.votes += 1;
                if let (Some(voters), Some(voter)) = (option.voters.as_mut(), voter) {
                    voters.push(voter.clone());
                }
            }
        }
    }
    results.total_ballots = ballots.len();
    Ok(results)
}

/// Action `results`: the JSON for API callers; a member who pressed the
/// card's button sees the results privately.
pub(crate) fn get(_ctx: &Context, id: &str, clicked: bool) -> Result<ActionAnswer> {
    let results = count(&Poll::load(id)?)?;
    let data = serde_json::to_value(&results)?;
    if !clicked {
        return Ok(data.into());
    }
    Ok(ActionAnswer::new(
        data,
        Reply::private(results_message(&results, true)?),
    ))
}

/// Action `close`: the poll's creator or a group owner/admin.
pub(crate) fn close_by_member(ctx: &Context, id: &str) -> Result<ActionAnswer> {
    let actor = ctx.actor()?;
    let mut poll = Poll::load(id)?;
    if poll.closed {
        return Err(Error::invalid("poll is already closed"));
    }
    if poll.creator != actor && !membership::member(actor)?.is_admin() {
        return Err(Error::denied(
            "only the poll's creator or a group admin can close it",
        ));
    }
    if poll.closes_at.is_some() {
        scheduler::cancel(&poll.close_timer_key())?;
    }
    Ok(close(ctx, &mut poll)?.into())
}

/// The `close/<id>` timer came due.
pub(crate) fn close_on_timer(ctx: &Context, id: &str) -> Result<()> {
    let mut poll = match Poll::load(id) {
        Ok(poll) => poll,
        Err(Error::NotFound(_)) => return Ok(()),
        Err(err) => return Err(err),
    };
    if !poll.closed {
        close(ctx, &mut poll)?;
    }
    Ok(())
}

/// Closes the poll: its card loses the vote buttons, the results are posted.
fn close(ctx: &Context, poll: &mut Poll) -> Result<Json> {
    poll.closed = true;
    poll.save()?;
    let results = count(poll)?;
    card::refresh(ctx, poll, &results)?;
    messaging::post(&results_message(&results, true)?)?;
    Ok(serde_json::to_value(results)?)
}

/// The results as a message; `names` shows who voted for what on public polls.
pub(crate) fn results_message(results: &Results, names: bool) -> Result<Message> {
    let names = if results.anonymous || !names {
        None
    } else {
        Some(display_names()?)
    };
    let fields = results.options.iter().map(|option| {
        let mut value = format!(
            "{} {}",
            option.votes,
            if option.votes == 1 { "vote" } else { "votes" }
        );
        if let (Some(names), Some(voters)) =
            (&names, option.voters.as_ref().filter(|v| !v.is_empty()))
        {
            let shown: Vec<&str> = voters
                .iter()
                .map(|id| names.get(id).map_or(id.as_str(), String::as_str))
                .collect();
            value = format!("{value}: {}", shown.join(", "));
        }
        (option.label.clone(), value)
    });
    let fields: Vec<(String, String)> = fields.collect();
    Ok(Message::new(if results.closed {
        format!("Poll #{} is closed.", results.poll)
    } else {
        format!("Poll #{}: {}", results.poll, results.question)
    })
    .header(format!("Results: {}", results.question))
    .fields(fields)
    .context(format!(
        "{} {}{}",
        results.total_ballots,
        if results.total_ballots == 1 {
            "ballot"
        } else {
            "ballots"
        },
        if results.anonymous {
            " (anonymous poll)"
        } else {
            ""
        }
    )))
}

/// Voters' display names; without the `membership` grant the results name
/// voters by id rather than fail to close the poll.
fn display_names() -> Result<BTreeMap<String, String>> {
    match membership::all_members() {
        Ok(members) => Ok(members
            .into_iter()
            .map(|m| (m.id, m.display_name))
            .collect()),
        Err(Error::Denied(_)) => Ok(BTreeMap::new()),
        Err(err) => Err(err),
    }
}
