//! `chatty`: makes N cheap capability calls in one invocation, ignoring every
//! error. See README.md.

wit_bindgen::generate!({
    path: "../../../../wit/0.1.0",
    world: "group-app",
});

use exports::qun::app::handler::{
    ActionSpec, AppInfo, Command, Context, Error, Event, Guest, Message,
};
use qun::app::log::{self, Level};
use qun::app::{membership, messaging, storage};
use serde_json::{Value, json};

struct Chatty;

impl Guest for Chatty {
    fn describe() -> AppInfo {
        AppInfo {
            name: "chatty".to_string(),
            title: "Chatty".to_string(),
            version: "0.1.0".to_string(),
            description: "Makes many capability calls per invocation; for the host's tests."
                .to_string(),
            commands: Vec::new(),
            actions: vec![ActionSpec {
                name: "calls".to_string(),
                description: "{n, call, set?} -> {ok, failed}".to_string(),
            }],
            subscriptions: Vec::new(),
        }
    }

    fn on_command(_ctx: Context, _command: Command) -> Result<Option<Message>, Error> {
        Ok(None)
    }

    fn on_action(_ctx: Context, action: String, payload: String) -> Result<String, Error> {
        if action != "calls" {
            return Err(Error::Invalid(format!("unknown action {action}")));
        }
        let args: Value =
            serde_json::from_str(&payload).map_err(|e| Error::Invalid(format!("payload: {e}")))?;
        let n = args["n"].as_u64().unwrap_or(0);
        let call = args["call"].as_str().unwrap_or("get").to_string();
        if let Some(key) = args["set"].as_str() {
            storage::set(key, b"x")?;
        }
        let (mut ok, mut failed) = (0u64, 0u64);
        for _ in 0..n {
            let result = match call.as_str() {
                "get" => storage::get("k").map(|_| ()),
                "group" => membership::current_group().map(|_| ()),
                "post" => messaging::post(&Message {
                    text: Some("hi".to_string()),
                    card: None,
                }),
                "log" => {
                    log::write(Level::Info, "hi", &[]);
                    Ok(())
                }
                other => return Err(Error::Invalid(format!("unknown call {other}"))),
            };
            match result {
                Ok(()) => ok += 1,
                Err(_) => failed += 1,
            }
        }
        Ok(json!({"ok": ok, "failed": failed}).to_string())
    }

    fn on_event(_ctx: Context, _event: Event) -> Result<(), Error> {
        Ok(())
    }
}

export!(Chatty);
