//! Polls for Qun groups.
//!
//! `/poll Question? | option 1, option 2 [| multiple: yes] [| anonymous: yes]
//! [| closes: in 2h]` (or `/poll` alone, which opens the poll form) posts a
//! live card: one vote button per option and the counts, updated in place
//! within half a second of a vote (one refresh per half second however many
//! votes came in). **My vote** answers privately. Actions: `vote`, `mine`,
//! `close`, `results`; a poll with a closing time closes itself on a timer.
//! See the README.

mod card;
mod create;
mod poll;
mod results;
mod vote;

use qun_sdk::prelude::*;

pub use poll::Poll;

/// The polls app.
pub struct Polls;

impl App for Polls {
    fn describe() -> Describe {
        Describe::new("polls", "Polls")
            .version(env!("CARGO_PKG_VERSION"))
            .description(
                "Ask the group a question. One ballot per member, changeable until the poll closes; \
                 single or multiple choice, public or anonymous, closing by hand or at a set time. \
                 The poll's card shows the counts as votes come in.",
            )
            .command_with(create::spec())
            .action("vote", r#"Vote: {"poll": "<id>", "choices": [<option index>, ...]}"#)
            .action("mine", r#"Your own ballot and the counts, only for you: {"poll": "<id>"}"#)
            .action("close", r#"Close a poll and post its results (creator or group admin): {"poll": "<id>"}"#)
            .action("results", r#"A poll's results: {"poll": "<id>"}"#)
    }

    fn on_command(ctx: &Context, command: &Command) -> Result<Reply> {
        match command.name.as_str() {
            "poll" => create::run(ctx, command),
            other => Err(Error::invalid(format!(
                "unknown command /{other}; try /poll Question? | yes, no"
            ))),
        }
    }

    fn on_action(ctx: &Context, call: &ActionCall) -> Result<ActionAnswer> {
        match call.name.as_str() {
            "vote" => vote::run(ctx, call.payload()?),
            "mine" => vote::mine(ctx, &call.payload::<PollRef>()?.poll),
            "close" => results::close_by_member(ctx, &call.payload::<PollRef>()?.poll),
            "results" => results::get(
                ctx,
                &call.payload::<PollRef>()?.poll,
                call.message_id.is_some(),
            ),
            other => Err(Error::invalid(format!(
                "unknown action `{other}`; polls answer vote, mine, close and results"
            ))),
        }
    }

    fn on_event(ctx: &Context, event: &Event) -> Result<()> {
        match event {
            Event::TimerFired(timer) if timer.key.starts_with(poll::CLOSE_TIMER_PREFIX) => {
                let poll: PollRef = serde_json::from_str(&timer.payload)?;
                results::close_on_timer(ctx, &poll.poll)
            }
            Event::TimerFired(timer) if timer.key.starts_with(card::REFRESH_TIMER_PREFIX) => {
                let poll: PollRef = serde_json::from_str(&timer.payload)?;
                card::refresh_on_timer(ctx, &poll.poll)
            }
            _ => Ok(()),
        }
    }
}

/// The payload of `mine`, `close` and `results`, and of the closing timer.
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct PollRef {
    poll: String,
}

export_app!(Polls);

#[cfg(test)]
mod tests;
