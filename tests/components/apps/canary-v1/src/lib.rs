//! `canary` 1.0.0: version one of an app whose version two (same
//! capabilities: none) traps on one action; for rollouts (issue 16).
//!
//! Actions: `version` answers `{"version":"1.0.0"}`; `crash` answers `{}`
//! (version two traps on it).

wit_bindgen::generate!({
    path: "../../../../wit/0.1.0",
    world: "group-app",
});

use exports::qun::app::handler::{
    ActionSpec, AppInfo, Command, Context, Error, Event, Guest, Message,
};

struct Canary;

impl Guest for Canary {
    fn describe() -> AppInfo {
        AppInfo {
            name: "canary".to_string(),
            title: "Canary".to_string(),
            version: "1.0.0".to_string(),
            description: "Version one: answers its version.".to_string(),
            commands: Vec::new(),
            actions: ["version", "crash"]
                .iter()
                .map(|name| ActionSpec {
                    name: name.to_string(),
                    description: String::new(),
                })
                .collect(),
            subscriptions: Vec::new(),
        }
    }

    fn on_command(_ctx: Context, _command: Command) -> Result<Option<Message>, Error> {
        Ok(None)
    }

    fn on_action(_ctx: Context, action: String, _payload: String) -> Result<String, Error> {
        match action.as_str() {
            "version" => Ok(r#"{"version":"1.0.0"}"#.to_string()),
            "crash" => Ok("{}".to_string()),
            other => Err(Error::NotFound(format!("no action {other}"))),
        }
    }

    fn on_event(_ctx: Context, _event: Event) -> Result<(), Error> {
        Ok(())
    }
}

export!(Canary);
