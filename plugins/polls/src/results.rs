//! Results: counting ballots, the `results` and `close` actions, the closing timer.
//!
//! Anonymous polls never name a voter: not in the JSON, not in messages.

use std::collections::BTreeMap;

use qun_sdk::prelude::*;
use serde::Serialize;

use crate::poll::Poll;

#[derive(Serialize)]
struct Results {
    poll: String,
    question: String,
    closed: bool,
    anonymous: bool,
    multiple: bool,
    total_ballots: usize,
    options: Vec<OptionResult>,
}

#[derive(Serialize)]
struct OptionResult {
    label: String,
    votes: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    voters: Option<Vec<String>>,
}

fn count(poll: &Poll) -> Result<Results> {
    let mut options: Vec<OptionResult> = poll
        .options
        .iter()
        .map(|label| OptionResult {
            label: label.clone(),
            votes: 0,
            voters: (!poll.anonymous).then(Vec::new),
        })
        .collect();
    let ballots = poll.ballots()?;
    for (voter, ballot) in &ballots {
        for choice in &ballot.choices {
            // Ballots were checked when cast; skip anything else rather than fail.
            if let Some(option) = options.get_mut(*choice) {
                option.votes += 1;
                if let (Some(voters), Some(voter)) = (option.voters.as_mut(), voter) {
                    voters.push(voter.clone());
                }
            }
        }
    }
    Ok(Results {
        poll: poll.id.clone(),
        question: poll.question.clone(),
        closed: poll.closed,
        anonymous: poll.anonymous,
        multiple: poll.multiple,
        total_ballots: ballots.len(),
        options,
    })
}

/// Action `results`.
pub(crate) fn get(id: &str) -> Result<Json> {
    Ok(serde_json::to_value(count(&Poll::load(id)?)?)?)
}

/// Action `close`: the poll's creator or a group owner/admin.
pub(crate) fn close_by_member(ctx: &Context, id: &str) -> Result<Json> {
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
    close(&mut poll)
}

/// The `close/<id>` timer came due.
pub(crate) fn close_on_timer(_ctx: &Context, id: &str) -> Result<()> {
    let mut poll = match Poll::load(id) {
        Ok(poll) => poll,
        Err(Error::NotFound(_)) => return Ok(()),
        Err(err) => return Err(err),
    };
    if !poll.closed {
        close(&mut poll)?;
    }
    Ok(())
}

fn close(poll: &mut Poll) -> Result<Json> {
    poll.closed = true;
    poll.save()?;
    let results = count(poll)?;
    messaging::post(&results_message(&results)?)?;
    Ok(serde_json::to_value(results)?)
}

fn results_message(results: &Results) -> Result<Message> {
    let names = if results.anonymous {
        BTreeMap::new()
    } else {
        display_names()?
    };
    let mut card = Card::new(format!("Results: {}", results.question)).body(format!(
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
    ));
    for option in &results.options {
        let mut value = format!(
            "{} {}",
            option.votes,
            if option.votes == 1 { "vote" } else { "votes" }
        );
        if let Some(voters) = option.voters.as_ref().filter(|v| !v.is_empty()) {
            let shown: Vec<&str> = voters
                .iter()
                .map(|id| names.get(id).map_or(id.as_str(), String::as_str))
                .collect();
            value = format!("{value}: {}", shown.join(", "));
        }
        card = card.field(&option.label, value);
    }
    Ok(Message::text(format!("Poll #{} is closed.", results.poll)).with_card(card))
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
