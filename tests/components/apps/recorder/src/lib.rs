//! `recorder`: records every event it receives, in order, and subscribes to
//! nothing, so tests can see which events reach an app that did not ask for
//! `message-posted`. Imports only `storage` and `messaging`.

wit_bindgen::generate!({
    path: "../../../../wit/0.1.0",
    world: "group-app",
});

use exports::qun::app::handler::{
    ActionSpec, AppInfo, Command, Context, Error, Event, Guest, Message,
};
use qun::app::{messaging, storage};

struct Recorder;

impl Guest for Recorder {
    fn describe() -> AppInfo {
        AppInfo {
            name: "recorder".to_string(),
            title: "Recorder".to_string(),
            version: "0.1.0".to_string(),
            description: "Records the events it receives; for the host's tests.".to_string(),
            commands: Vec::new(),
            actions: vec![
                ActionSpec {
                    name: "events".to_string(),
                    description: "{} -> [\"kind detail\", ...] in arrival order".to_string(),
                },
                ActionSpec {
                    name: "post".to_string(),
                    description: "{\"text\": s} -> {}: posts the text (exactly as given)"
                        .to_string(),
                },
            ],
            subscriptions: Vec::new(),
        }
    }

    fn on_command(_ctx: Context, _command: Command) -> Result<Option<Message>, Error> {
        Ok(None)
    }

    fn on_action(_ctx: Context, action: String, payload: String) -> Result<String, Error> {
        match action.as_str() {
            "events" => {
                let mut out = Vec::new();
                let mut cursor: Option<String> = None;
                loop {
                    let page = storage::list("events/", cursor.as_deref(), 100)?;
                    for entry in page.entries {
                        out.push(quote(&String::from_utf8_lossy(&entry.value)));
                    }
                    match page.next_cursor {
                        Some(next) => cursor = Some(next),
                        None => break,
                    }
                }
                Ok(format!("[{}]", out.join(",")))
            }
            "post" => {
                // The payload is {"text": "..."}; keep this crate free of a
                // JSON dependency by taking the string between the first
                // pair of quotes after the colon.
                let text = payload
                    .split_once(':')
                    .and_then(|(_, rest)| rest.split('"').nth(1))
                    .ok_or_else(|| Error::Invalid("payload needs {\"text\": ...}".to_string()))?;
                messaging::post(&Message {
                    text: Some(text.to_string()),
                    card: None,
                })?;
                Ok("{}".to_string())
            }
            other => Err(Error::Invalid(format!("unknown action: {other}"))),
        }
    }

    fn on_event(ctx: Context, event: Event) -> Result<(), Error> {
        if matches!(event, Event::Uninstalled) {
            // Its data goes with the installation: say goodbye where people see it.
            messaging::post(&Message {
                text: Some(format!("recorder: goodbye ({})", ctx.invocation_id)),
                card: None,
            })?;
            return Ok(());
        }
        let line = match event {
            Event::Installed => "installed".to_string(),
            Event::Uninstalled => "uninstalled".to_string(),
            Event::MemberJoined(m) => format!("member-joined {m}"),
            Event::MemberLeft(m) => format!("member-left {m}"),
            Event::MessagePosted(m) => format!("message-posted {}", m.text),
            Event::PaymentSettled(p) => format!("payment-settled {}", p.id),
            Event::PaymentFailed(f) => format!("payment-failed {}", f.payment.id),
            Event::TimerFired(t) => format!("timer-fired {}", t.key),
        };
        let count = match storage::get("count")? {
            Some(bytes) => String::from_utf8_lossy(&bytes)
                .trim()
                .parse::<u64>()
                .unwrap_or(0),
            None => 0,
        } + 1;
        storage::set("count", count.to_string().as_bytes())?;
        storage::set(
            &format!("events/{count:06}"),
            format!("{line} ({})", ctx.invocation_id).as_bytes(),
        )?;
        Ok(())
    }
}

export!(Recorder);

fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
