//! Polls for Qun groups.
//!
//! `/poll Question? | option 1 | option 2 --multiple --anonymous --closes 2h`
//! posts a card with one button per option. Actions: `vote`, `close`,
//! `results`; a `--closes` poll closes itself on a timer. See the README.

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
                 single or multiple choice, public or anonymous, closing by hand or at a set time.",
            )
            .command(
                "poll",
                "Start a poll: /poll Question? | option 1 | option 2 [--multiple] [--anonymous] [--closes 2h]",
            )
            .action("vote", r#"Vote: {"poll": "<id>", "choices": [<option index>, ...]}"#)
            .action("close", r#"Close a poll and post its results (creator or group admin): {"poll": "<id>"}"#)
            .action("results", r#"A poll's results: {"poll": "<id>"}"#)
    }

    fn on_command(ctx: &Context, command: &Command) -> Result<Reply> {
        match command.name.as_str() {
            "poll" => create::run(ctx, command),
            other => Err(Error::invalid(format!(
                "unknown command /{other}; try /poll Question? | yes | no"
            ))),
        }
    }

    fn on_action(ctx: &Context, action: &str, payload: &Json) -> Result<Json> {
        match action {
            "vote" => vote::run(ctx, from_payload(payload)?),
            "close" => results::close_by_member(ctx, &from_payload::<PollRef>(payload)?.poll),
            "results" => results::get(&from_payload::<PollRef>(payload)?.poll),
            other => Err(Error::invalid(format!(
                "unknown action `{other}`; polls answer vote, close and results"
            ))),
        }
    }

    fn on_event(ctx: &Context, event: &Event) -> Result<()> {
        match event {
            Event::TimerFired(timer) if timer.key.starts_with(poll::CLOSE_TIMER_PREFIX) => {
                let poll: PollRef = serde_json::from_str(&timer.payload)?;
                results::close_on_timer(ctx, &poll.poll)
            }
            _ => Ok(()),
        }
    }
}

/// The payload of `close` and `results`, and of the closing timer.
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct PollRef {
    poll: String,
}

export_app!(Polls);

#[cfg(test)]
mod tests;
