//! `/poll Question? | option 1 | option 2 [--multiple] [--anonymous] [--closes WHEN]`.

use qun_sdk::prelude::*;
use serde::Serialize;

use crate::PollRef;
use crate::poll::{Poll, new_salt};

const MIN_OPTIONS: usize = 2;
const MAX_OPTIONS: usize = 10;
const MAX_QUESTION: usize = 300;
const MAX_OPTION: usize = 100;
const USAGE: &str = "write /poll Question? | option 1 | option 2 (2 to 10 options; flags --multiple, --anonymous, --closes 2h)";

/// A vote button's payload: `{"poll":"<id>","choices":[<index>]}`, keys in that order.
#[derive(Serialize)]
struct VoteButton<'a> {
    poll: &'a str,
    choices: [usize; 1],
}

pub(crate) fn run(ctx: &Context, command: &Command) -> Result<Reply> {
    let creator = ctx.actor()?.to_owned();
    let args = command.parse_args(&["closes"])?;
    args.allow_only(&["multiple", "anonymous", "closes"])?;
    let (question, options) = match args.parts() {
        [question, options @ ..] if options.len() >= MIN_OPTIONS => {
            (question.clone(), options.to_vec())
        }
        [] => {
            return Err(Error::invalid(format!(
                "a poll needs a question and options; {USAGE}"
            )));
        }
        _ => {
            return Err(Error::invalid(format!(
                "a poll needs at least {MIN_OPTIONS} options; {USAGE}"
            )));
        }
    };
    check_texts(&question, &options)?;
    let closes_at = args
        .value("closes")
        .map(|when| closing_time(ctx.now(), when))
        .transpose()?;

    let anonymous = args.flag("anonymous");
    let poll = Poll {
        id: Poll::next_id()?,
        question,
        options,
        multiple: args.flag("multiple"),
        anonymous,
        creator,
        created_at: ctx.now().millis(),
        closes_at: closes_at.map(Timestamp::millis),
        closed: false,
        salt: anonymous.then(|| new_salt(ctx)),
    };
    poll.save()?;
    if let Some(at) = closes_at {
        scheduler::schedule_json(
            &poll.close_timer_key(),
            at,
            &PollRef {
                poll: poll.id.clone(),
            },
        )?;
    }
    Ok(Reply::message(poll_message(&poll)?))
}

fn check_texts(question: &str, options: &[String]) -> Result<()> {
    if question.chars().count() > MAX_QUESTION {
        return Err(Error::invalid(format!(
            "the question is longer than {MAX_QUESTION} characters; shorten it"
        )));
    }
    if options.len() > MAX_OPTIONS {
        return Err(Error::invalid(format!(
            "a poll has at most {MAX_OPTIONS} options, this one has {}; {USAGE}",
            options.len()
        )));
    }
    for (i, option) in options.iter().enumerate() {
        if option.chars().count() > MAX_OPTION {
            return Err(Error::invalid(format!(
                "option {} is longer than {MAX_OPTION} characters; shorten it",
                i + 1
            )));
        }
        let same = |other: &String| other.to_lowercase() == option.to_lowercase();
        if options[..i].iter().any(same) {
            return Err(Error::invalid(format!(
                "option `{option}` is given twice; each option must differ"
            )));
        }
    }
    Ok(())
}

/// `--closes` takes a duration from now (`30m`, `2h`, `1d`, `1h30m`) or an
/// RFC 3339 time (`2026-11-25T18:00:00+08:00`).
fn closing_time(now: Timestamp, when: &str) -> Result<Timestamp> {
    let at = match qun_sdk::parse_duration(when) {
        Ok(duration) => now + duration,
        Err(_) => Timestamp::parse_rfc3339(when).map_err(|_| {
            Error::invalid(format!(
                "--closes `{when}` is neither a duration (30m, 2h, 1d) nor a time (2026-11-25T18:00:00Z)"
            ))
        })?,
    };
    if at <= now {
        return Err(Error::invalid(format!(
            "--closes {when} is not in the future; pick a later time"
        )));
    }
    Ok(at)
}

fn poll_message(poll: &Poll) -> Result<Message> {
    let mut card = Card::new(&poll.question)
        .body(if poll.multiple {
            "Several choices allowed. Press a button to vote; voting again replaces your vote."
        } else {
            "Press a button to vote; voting again replaces your vote."
        })
        .field("Poll", format!("#{}", poll.id))
        .field("Choices", if poll.multiple { "multiple" } else { "one" })
        .field(
            "Votes",
            if poll.anonymous {
                "anonymous"
            } else {
                "public"
            },
        );
    if let Some(at) = poll.closes_at {
        card = card.field("Closes", Timestamp::from_millis(at).to_string());
    }
    for (index, option) in poll.options.iter().enumerate() {
        card = card.button(
            option,
            "vote",
            &VoteButton {
                poll: &poll.id,
                choices: [index],
            },
        )?;
    }
    Ok(Message::text(format!("Poll #{}: {}", poll.id, poll.question)).with_card(card))
}
