//! `noop`: the smallest possible group app. It imports no capability and
//! answers every call with nothing; the benchmark uses it to measure the cost
//! of the host itself (instantiate + call + drop).

wit_bindgen::generate!({
    path: "../../../../wit/0.1.0",
    world: "group-app",
});

use exports::qun::app::handler::{AppInfo, Command, Context, Error, Event, Guest, Message};

struct Noop;

impl Guest for Noop {
    fn describe() -> AppInfo {
        AppInfo {
            name: "noop".to_string(),
            title: "Noop".to_string(),
            version: "0.1.0".to_string(),
            description: "Does nothing; used to measure the host's own overhead.".to_string(),
            commands: Vec::new(),
            actions: vec![exports::qun::app::handler::ActionSpec {
                name: "noop".to_string(),
                description: "Answers {} and does nothing else.".to_string(),
            }],
            subscriptions: Vec::new(),
        }
    }

    fn on_command(_ctx: Context, _command: Command) -> Result<Option<Message>, Error> {
        Ok(None)
    }

    fn on_action(_ctx: Context, _action: String, _payload: String) -> Result<String, Error> {
        Ok("{}".to_string())
    }

    fn on_event(_ctx: Context, _event: Event) -> Result<(), Error> {
        Ok(())
    }
}

export!(Noop);
