//! `upgrader` 2.0.0: version two asks for `messaging` on top of `storage`,
//! so an installation of 1.0.0 needs the owner's consent to move to it.
//!
//! Actions: those of 1.0.0 (`version` answers `{"version":"2.0.0"}`), and
//! `announce` posts the kept note to the group.

wit_bindgen::generate!({
    path: "../../../../wit/0.1.0",
    world: "group-app",
});

use exports::qun::app::handler::{
    ActionSpec, AppInfo, Command, Context, Error, Event, Guest, Message,
};
use qun::app::{messaging, storage};

struct Upgrader;

fn text_of(payload: &str) -> String {
    payload
        .split("\"text\":\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .to_string()
}

fn note() -> Result<String, Error> {
    Ok(String::from_utf8_lossy(&storage::get("note")?.unwrap_or_default()).into_owned())
}

impl Guest for Upgrader {
    fn describe() -> AppInfo {
        AppInfo {
            name: "upgrader".to_string(),
            title: "Upgrader".to_string(),
            version: "2.0.0".to_string(),
            description: "Version two: keeps a note and announces it.".to_string(),
            commands: Vec::new(),
            actions: ["version", "note", "read", "announce"]
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
            "version" => Ok(r#"{"version":"2.0.0"}"#.to_string()),
            "note" => {
                storage::set("note", text_of(&payload).as_bytes())?;
                Ok("{}".to_string())
            }
            "read" => Ok(format!(r#"{{"note":"{}"}}"#, note()?)),
            "announce" => {
                messaging::post(&Message {
                    text: Some(format!("note: {}", note()?)),
                    card: None,
                })?;
                Ok("{}".to_string())
            }
            other => Err(Error::NotFound(format!("no action {other}"))),
        }
    }

    fn on_event(_ctx: Context, _event: Event) -> Result<(), Error> {
        Ok(())
    }
}

export!(Upgrader);
