//! The poll's live card: the question, the counts as they stand, one vote
//! button per option, and **My vote**, **Results**, **Close**. Anonymous
//! polls show counts only; no card ever names a voter.

use qun_sdk::prelude::*;
use serde::Serialize;

use crate::poll::Poll;
use crate::results::Results;

/// Buttons per actions row (the host's limit).
const ROW: usize = qun_sdk::blocks::MAX_ELEMENTS;

pub(crate) use crate::results::Results as Counts;

impl Counts {
    /// The counts of a poll nobody voted in yet.
    pub(crate) fn empty(poll: &Poll) -> Counts {
        Results::zero(poll)
    }
}

/// A vote button's payload: `{"poll":"<id>","choices":[<index>]}`; on a
/// multiple-choice poll `"toggle":true` adds or removes that one choice.
#[derive(Serialize)]
struct VoteButton<'a> {
    poll: &'a str,
    choices: [usize; 1],
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    toggle: bool,
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The card as it stands.
pub(crate) fn poll_card(ctx: &Context, poll: &Poll, counts: &Counts) -> Result<Message> {
    let summary: Vec<String> = counts
        .options
        .iter()
        .map(|o| format!("{} {}", o.label, o.votes))
        .collect();
    let mut message = Message::new(format!(
        "Poll #{}: {} ({})",
        poll.id,
        poll.question,
        summary.join(", ")
    ))
    .header(&poll.question)
    .text(if poll.closed {
        "This poll is closed."
    } else if poll.multiple {
        "Several choices allowed: press an option to add or remove it."
    } else {
        "Press an option to vote; voting again replaces your vote."
    })
    .fields(
        counts
            .options
            .iter()
            .map(|o| (o.label.clone(), plural(o.votes, "vote", "votes"))),
    );
    let mut context = vec![
        format!("Poll #{}", poll.id),
        plural(counts.total_ballots, "ballot", "ballots"),
        if poll.anonymous {
            "anonymous"
        } else {
            "public"
        }
        .to_owned(),
    ];
    if let Some(at) = poll.closes_at.filter(|_| !poll.closed) {
        context.push(format!(
            "closes {}",
            ctx.format_time(Timestamp::from_millis(at))
        ));
    }
    message = message.context(context.join(" · "));
    if poll.closed {
        return Ok(message);
    }
    let buttons = poll
        .options
        .iter()
        .enumerate()
        .map(|(index, option)| {
            Button::new(option, "vote").payload(&VoteButton {
                poll: &poll.id,
                choices: [index],
                toggle: poll.multiple,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    for row in buttons.chunks(ROW) {
        message = message.actions(row.to_vec());
    }
    let reference = crate::PollRef {
        poll: poll.id.clone(),
    };
    Ok(message.actions([
        Button::new("My vote", "mine").payload(&reference)?,
        Button::new("Results", "results").payload(&reference)?,
        Button::new("Close", "close")
            .payload(&reference)?
            .style(ButtonStyle::Danger)
            .confirm(
                "Close this poll?",
                "Nobody can vote after it is closed; the results are posted.",
            ),
    ]))
}

/// Timer keys of card refreshes are `card/<poll id>`.
pub(crate) const REFRESH_TIMER_PREFIX: &str = "card/";

/// Votes within one slot of this many milliseconds refresh the card once,
/// at the end of the slot.
const REFRESH_SLOT_MS: i64 = 500;

/// Have the card show the counts at the end of the current slot: one
/// timer per poll, `card/<id>`, due at the slot's end; every vote in the
/// slot schedules the same key at the same time, which replaces the pending
/// timer, so counting the ballots happens once per slot, not once per vote.
/// Without the `scheduler` grant the card is refreshed at once instead.
pub(crate) fn refresh_soon(ctx: &Context, poll: &Poll) -> Result<()> {
    if poll.card.is_none() {
        return Ok(());
    }
    let now = ctx.now().millis();
    let due = (now / REFRESH_SLOT_MS + 1) * REFRESH_SLOT_MS;
    let reference = crate::PollRef {
        poll: poll.id.clone(),
    };
    let key = format!("{REFRESH_TIMER_PREFIX}{}", poll.id);
    match scheduler::schedule_json(&key, Timestamp::from_millis(due), &reference) {
        Ok(()) => Ok(()),
        Err(Error::Denied(_)) => refresh(ctx, poll, &crate::results::count(poll)?),
        Err(err) => Err(err),
    }
}

/// The `card/<id>` timer came due: the card shows the counts as they stand.
pub(crate) fn refresh_on_timer(ctx: &Context, id: &str) -> Result<()> {
    let poll = match Poll::load(id) {
        Ok(poll) => poll,
        Err(Error::NotFound(_)) => return Ok(()),
        Err(err) => return Err(err),
    };
    // Closing refreshed it already, with the final counts.
    if poll.closed {
        return Ok(());
    }
    refresh(ctx, &poll, &crate::results::count(&poll)?)
}

/// Updates the poll's card to `counts`, when the app posted it itself.
/// A card someone deleted is left alone.
pub(crate) fn refresh(ctx: &Context, poll: &Poll, counts: &Counts) -> Result<()> {
    let Some(id) = &poll.card else {
        return Ok(());
    };
    match messaging::update(id, &poll_card(ctx, poll, counts)?) {
        Ok(()) | Err(Error::NotFound(_)) => Ok(()),
        Err(err) => Err(err),
    }
}
