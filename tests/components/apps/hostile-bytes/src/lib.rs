//! `hostile-bytes`: makes as many bytes as it is allowed to, and more. Every
//! action takes a JSON object payload; capability errors are ignored unless
//! the action says otherwise (the app keeps going, as a hostile one would),
//! and the action answers `{"errors": n, "first": "..."}`.
//!
//! | action | payload | does |
//! |---|---|---|
//! | `error` | `{bytes}` | returns `invalid` with a message of `bytes` bytes |
//! | `logs` | `{lines, bytes}` | writes `lines` log lines of `bytes` bytes each |
//! | `dms` | `{to, count, bytes}` | sends `count` direct messages of `bytes` bytes to `to` |
//! | `timers` | `{count, bytes}` | schedules `count` timers with payloads of `bytes` bytes |
//! | `writes` | `{count, bytes}` | writes `count` storage keys with values of `bytes` bytes |
//! | `posts` | `{count, bytes}` | posts `count` group messages of `bytes` bytes |

wit_bindgen::generate!({
    path: "../../../../wit/0.1.0",
    world: "group-app",
});

use exports::qun::app::handler::{
    ActionSpec, AppInfo, Command, Context, Error, Event, Guest, Message,
};
use qun::app::log::{self, Level};
use qun::app::{messaging, scheduler, storage};
use serde_json::{Value, json};

struct Bytes;

fn text(text: String) -> Message {
    Message {
        text: Some(text),
        card: None,
    }
}

fn num(args: &Value, name: &str) -> Result<u64, Error> {
    args.get(name)
        .and_then(Value::as_u64)
        .ok_or_else(|| Error::Invalid(format!("`{name}` must be a number")))
}

fn message_of(e: &Error) -> String {
    match e {
        Error::Denied(m)
        | Error::NotFound(m)
        | Error::Invalid(m)
        | Error::QuotaExceeded(m)
        | Error::Conflict(m)
        | Error::Internal(m) => m.clone(),
    }
}

const ACTIONS: [&str; 6] = ["error", "logs", "dms", "timers", "writes", "posts"];

impl Guest for Bytes {
    fn describe() -> AppInfo {
        AppInfo {
            name: "hostile-bytes".to_string(),
            title: "Hostile bytes".to_string(),
            version: "0.1.0".to_string(),
            description: "Makes huge errors, logs, DMs, timers and writes.".to_string(),
            commands: Vec::new(),
            actions: ACTIONS
                .iter()
                .map(|a| ActionSpec {
                    name: a.to_string(),
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
        let args: Value =
            serde_json::from_str(&payload).map_err(|e| Error::Invalid(e.to_string()))?;
        let mut errors = 0u64;
        let mut first: Option<String> = None;
        let mut note = |r: Result<(), Error>| {
            if let Err(e) = r {
                errors += 1;
                first.get_or_insert_with(|| message_of(&e));
            }
        };
        match action.as_str() {
            "error" => return Err(Error::Invalid("e".repeat(num(&args, "bytes")? as usize))),
            "logs" => {
                let line = "l".repeat(num(&args, "bytes")? as usize);
                for i in 0..num(&args, "lines")? {
                    log::write(Level::Info, &line, &[("i".to_string(), i.to_string())]);
                }
            }
            "dms" => {
                let to = args
                    .get("to")
                    .and_then(Value::as_str)
                    .ok_or_else(|| Error::Invalid("`to` must be a string".into()))?
                    .to_string();
                let body = "d".repeat(num(&args, "bytes")? as usize);
                for _ in 0..num(&args, "count")? {
                    note(messaging::send_direct(&to, &text(body.clone())));
                }
            }
            "timers" => {
                let payload = "t".repeat(num(&args, "bytes")? as usize);
                for i in 0..num(&args, "count")? {
                    note(scheduler::schedule(
                        &format!("t{i}"),
                        4_000_000_000_000,
                        &payload,
                    ));
                }
            }
            "writes" => {
                let value = vec![b'w'; num(&args, "bytes")? as usize];
                for i in 0..num(&args, "count")? {
                    note(storage::set(&format!("k{i}"), &value));
                }
            }
            "posts" => {
                let body = "p".repeat(num(&args, "bytes")? as usize);
                for _ in 0..num(&args, "count")? {
                    note(messaging::post(&text(body.clone())));
                }
            }
            other => return Err(Error::Invalid(format!("unknown action: {other}"))),
        }
        Ok(json!({ "errors": errors, "first": first }).to_string())
    }

    fn on_event(_ctx: Context, _event: Event) -> Result<(), Error> {
        Ok(())
    }
}

export!(Bytes);
