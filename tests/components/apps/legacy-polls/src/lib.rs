//! `legacy-polls`: a tiny poll against `qun:app@0.1.0` (see README.md).

wit_bindgen::generate!({
    path: "../../../../wit/0.1.0",
    world: "group-app",
});

use exports::qun::app::handler::{
    ActionSpec, AppInfo, Command, CommandSpec, Context, Error, Event, Guest, Message,
};
use qun::app::storage;
use qun::app::types::{Button, Card, Field};
use serde_json::{Value, json};

struct LegacyPolls;

fn invalid(message: &str) -> Error {
    Error::Invalid(message.to_string())
}

fn poll(id: &str) -> Result<Value, Error> {
    let raw = storage::get(&format!("poll/{id}"))?
        .ok_or_else(|| Error::NotFound(format!("no poll {id}")))?;
    serde_json::from_slice(&raw).map_err(|e| Error::Internal(e.to_string()))
}

fn poll_id(payload: &Value) -> Result<String, Error> {
    payload["poll"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| invalid("the payload names no poll"))
}

impl Guest for LegacyPolls {
    fn describe() -> AppInfo {
        AppInfo {
            name: "legacy-polls".into(),
            title: "Legacy polls".into(),
            version: "0.1.0".into(),
            description: "A poll built against qun:app@0.1.0.".into(),
            commands: vec![CommandSpec {
                name: "poll".into(),
                description: "Start a poll: /poll Question | a | b".into(),
            }],
            actions: ["vote", "results"]
                .iter()
                .map(|name| ActionSpec {
                    name: name.to_string(),
                    description: String::new(),
                })
                .collect(),
            subscriptions: Vec::new(),
        }
    }

    fn on_command(ctx: Context, command: Command) -> Result<Option<Message>, Error> {
        let parts: Vec<&str> = command.args.split('|').map(str::trim).collect();
        if parts.len() < 3 || parts.iter().any(|p| p.is_empty()) {
            return Err(invalid("usage: /poll Question | a | b"));
        }
        let id = ctx
            .invocation_id
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .take(12)
            .collect::<String>();
        let (question, options) = (parts[0], &parts[1..]);
        let record = json!({"question": question, "options": options});
        storage::set(&format!("poll/{id}"), record.to_string().as_bytes())?;
        let mut buttons: Vec<Button> = options
            .iter()
            .enumerate()
            .map(|(i, option)| Button {
                label: option.to_string(),
                action: "vote".into(),
                payload: json!({"poll": id, "choice": i}).to_string(),
            })
            .collect();
        buttons.push(Button {
            label: "Results".into(),
            action: "results".into(),
            payload: json!({"poll": id}).to_string(),
        });
        Ok(Some(Message {
            text: Some(format!("Poll: {question}")),
            card: Some(Card {
                title: question.to_string(),
                body: Some("Vote with the buttons.".into()),
                fields: vec![Field {
                    name: "Options".into(),
                    value: options.join(", "),
                }],
                buttons,
            }),
        }))
    }

    fn on_action(ctx: Context, action: String, payload: String) -> Result<String, Error> {
        let payload: Value = serde_json::from_str(&payload).map_err(|_| invalid("not JSON"))?;
        let id = poll_id(&payload)?;
        let record = poll(&id)?;
        let options = record["options"].as_array().cloned().unwrap_or_default();
        match action.as_str() {
            "vote" => {
                let actor = ctx.actor.ok_or_else(|| invalid("only members vote"))?;
                let choice = payload["choice"]
                    .as_u64()
                    .filter(|c| (*c as usize) < options.len());
                let choice = choice.ok_or_else(|| invalid("no such choice"))?;
                storage::set(&format!("vote/{id}/{actor}"), choice.to_string().as_bytes())?;
                Ok(json!({"ok": true}).to_string())
            }
            "results" => {
                let mut counts = vec![0u64; options.len()];
                let mut cursor = None;
                loop {
                    let page = storage::list(&format!("vote/{id}/"), cursor.as_deref(), 100)?;
                    for entry in &page.entries {
                        let choice: usize = String::from_utf8_lossy(&entry.value)
                            .parse()
                            .unwrap_or(usize::MAX);
                        if let Some(count) = counts.get_mut(choice) {
                            *count += 1;
                        }
                    }
                    match page.next_cursor {
                        Some(next) => cursor = Some(next),
                        None => break,
                    }
                }
                Ok(
                    json!({"question": record["question"], "options": options, "counts": counts})
                        .to_string(),
                )
            }
            other => Err(Error::NotFound(format!("no action {other}"))),
        }
    }

    fn on_event(_ctx: Context, _event: Event) -> Result<(), Error> {
        Ok(())
    }
}

export!(LegacyPolls);
