//! `stateful`: keeps a counter in instance memory. `on-action("count")`
//! increments it and answers `{"count": n}`. The host runs every invocation
//! in a fresh instance, so the answer must always be 1: instance memory is
//! not state (state lives in `storage`).

wit_bindgen::generate!({
    path: "../../../../wit/0.1.0",
    world: "group-app",
});

use std::sync::atomic::{AtomicU64, Ordering};

use exports::qun::app::handler::{AppInfo, Command, Context, Error, Event, Guest, Message};

static COUNTER: AtomicU64 = AtomicU64::new(0);

struct Stateful;

impl Guest for Stateful {
    fn describe() -> AppInfo {
        AppInfo {
            name: "stateful".to_string(),
            title: "Stateful".to_string(),
            version: "0.1.0".to_string(),
            description: "Counts calls in instance memory.".to_string(),
            commands: Vec::new(),
            actions: vec![exports::qun::app::handler::ActionSpec {
                name: "count".to_string(),
                description: "Increments a counter in instance memory and answers it.".to_string(),
            }],
            subscriptions: Vec::new(),
        }
    }

    fn on_command(_ctx: Context, _command: Command) -> Result<Option<Message>, Error> {
        Ok(None)
    }

    fn on_action(_ctx: Context, action: String, _payload: String) -> Result<String, Error> {
        if action != "count" {
            return Err(Error::Invalid(format!("unknown action: {action}")));
        }
        let count = COUNTER.fetch_add(1, Ordering::SeqCst) + 1;
        Ok(format!("{{\"count\":{count}}}"))
    }

    fn on_event(_ctx: Context, _event: Event) -> Result<(), Error> {
        Ok(())
    }
}

export!(Stateful);
