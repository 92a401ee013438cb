// The body of `replayable` (both versions include it; `FIXED` tells them apart).

use std::hash::BuildHasher;
use std::time::{SystemTime, UNIX_EPOCH};

use exports::qun::app::handler::{
    ActionAnswer, ActionCall, AppInfo, Command, CommandSpec, Context, Error, Event, Guest,
    Submission,
};
use qun::app::blocks::{Message, Response};
use qun::app::storage;

struct Replayable;

/// Count, read the clock, draw a random number: what a replay must give back
/// exactly (storage answers, clock readings, random numbers).
fn tally() -> Result<String, Error> {
    let count = storage::get("count")?
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|text| text.parse::<u64>().ok())
        .unwrap_or(0)
        + 1;
    storage::set("count", count.to_string().as_bytes())?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    // std seeds its hasher keys from `wasi:random`.
    let token = std::collections::hash_map::RandomState::new().hash_one(count);
    let line = format!("tally {count} at {now} token {token:016x}");
    eprintln!("{line}");
    Ok(line)
}

impl Guest for Replayable {
    fn describe() -> AppInfo {
        AppInfo {
            name: "replayable".into(),
            title: "Replayable".into(),
            version: if FIXED { "2.0.0" } else { "1.0.0" }.into(),
            description: "Counts tallies; version one crashes on each.".into(),
            commands: vec![CommandSpec {
                name: "tally".into(),
                description: "Count one".into(),
                options: Vec::new(),
            }],
            actions: Vec::new(),
            subscriptions: Vec::new(),
        }
    }

    fn on_command(_ctx: Context, command: Command) -> Result<Response, Error> {
        if command.name != "tally" {
            return Err(Error::NotFound(format!("no command {}", command.name)));
        }
        let line = tally()?;
        if !FIXED {
            panic!("cannot post {line}");
        }
        Ok(Response::Post(Message {
            text: line,
            blocks: Vec::new(),
        }))
    }

    fn on_action(_ctx: Context, call: ActionCall) -> Result<ActionAnswer, Error> {
        Err(Error::NotFound(format!("no action {}", call.name)))
    }

    fn on_submit(_ctx: Context, _submission: Submission) -> Result<Response, Error> {
        Ok(Response::None)
    }

    fn on_event(_ctx: Context, _event: Event) -> Result<(), Error> {
        Ok(())
    }
}

export!(Replayable);
