//! `upgrader` 1.0.0: version one of an app whose version two asks for one
//! capability more. Asks for `storage` only.
//!
//! Actions: `version` answers `{"version":"1.0.0"}`; `note` `{"text"}` keeps
//! the text under the key `note`; `read` answers `{"note": ...}`.

wit_bindgen::generate!({
    path: "../../../../wit/0.1.0",
    world: "group-app",
});

use exports::qun::app::handler::{
    ActionSpec, AppInfo, Command, Context, Error, Event, Guest, Message,
};
use qun::app::storage;

struct Upgrader;

fn text_of(payload: &str) -> String {
    // `{"text":"..."}` without a JSON dependency: the tests send plain words.
    payload
        .split("\"text\":\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .to_string()
}

impl Guest for Upgrader {
    fn describe() -> AppInfo {
        AppInfo {
            name: "upgrader".to_string(),
            title: "Upgrader".to_string(),
            version: "1.0.0".to_string(),
            description: "Version one: keeps a note.".to_string(),
            commands: Vec::new(),
            actions: ["version", "note", "read"]
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

    fn on_action(_ctx: Context, action: String, payload: String) -> Result<String, Error> {
        match action.as_str() {
            "version" => Ok(r#"{"version":"1.0.0"}"#.to_string()),
            "note" => {
                storage::set("note", text_of(&payload).as_bytes())?;
                Ok("{}".to_string())
            }
            "read" => {
                let note = storage::get("note")?.unwrap_or_default();
                Ok(format!(
                    r#"{{"note":"{}"}}"#,
                    String::from_utf8_lossy(&note)
                ))
            }
            other => Err(Error::NotFound(format!("no action {other}"))),
        }
    }

    fn on_event(_ctx: Context, _event: Event) -> Result<(), Error> {
        Ok(())
    }
}

export!(Upgrader);
