//! `messenger`: message handles, private replies and recurring timers of
//! `qun:app@0.2.0` (see README.md).

wit_bindgen::generate!({
    path: "../../../../wit/0.2.0",
    world: "group-app",
});

use exports::qun::app::handler::{
    ActionAnswer, ActionCall, ActionSpec, AppInfo, Command, CommandOption, CommandSpec, Context,
    Error, Event, Guest, Submission,
};
use qun::app::blocks::{
    Block, Button, ButtonStyle, Element, InputKind, Message, Response, TextInput,
};
use qun::app::scheduler::{Recurrence, TimeOfDay};
use qun::app::{messaging, scheduler, storage};

struct Messenger;

fn card(title: &str, text: &str) -> Message {
    Message {
        text: String::new(),
        blocks: vec![
            Block::Header(title.to_string()),
            Block::Text(text.to_string()),
            Block::Actions(vec![Element::Button(Button {
                label: "Bump".into(),
                action: "bump".into(),
                payload: "{\"n\":1}".into(),
                style: ButtonStyle::Primary,
                confirm: None,
            })]),
        ],
    }
}

fn text(s: &str) -> Message {
    Message {
        text: s.to_string(),
        blocks: Vec::new(),
    }
}

fn kept(key: &str) -> Result<String, Error> {
    let raw = storage::get(key)?.ok_or_else(|| Error::NotFound(format!("no {key} kept")))?;
    Ok(String::from_utf8_lossy(&raw).into_owned())
}

fn code(e: &Error) -> &'static str {
    match e {
        Error::Denied(_) => "denied",
        Error::NotFound(_) => "not-found",
        Error::Invalid(_) => "invalid",
        Error::QuotaExceeded(_) => "quota-exceeded",
        Error::Conflict(_) => "conflict",
        Error::Internal(_) => "internal",
    }
}

fn answer(data: String) -> ActionAnswer {
    ActionAnswer {
        data,
        response: Response::None,
    }
}

impl Guest for Messenger {
    fn describe() -> AppInfo {
        AppInfo {
            name: "messenger".into(),
            title: "Messenger".into(),
            version: "0.2.0".into(),
            description: "Posts a card and keeps it up to date.".into(),
            commands: vec![CommandSpec {
                name: "card".into(),
                description: "Post a card".into(),
                options: vec![CommandOption {
                    name: "title".into(),
                    description: "The card's title".into(),
                    required: false,
                    kind: InputKind::Text(TextInput {
                        min_length: None,
                        max_length: Some(100),
                        multiline: false,
                        placeholder: None,
                        initial: None,
                    }),
                }],
            }],
            actions: [
                "bump",
                "remove",
                "whisper",
                "touch",
                "remind",
                "remind-fast",
            ]
            .iter()
            .map(|name| ActionSpec {
                name: name.to_string(),
                description: String::new(),
            })
            .collect(),
            subscriptions: Vec::new(),
        }
    }

    fn on_command(_ctx: Context, command: Command) -> Result<Response, Error> {
        let title = if command.args.is_empty() {
            "Counter"
        } else {
            command.args.as_str()
        };
        let id = messaging::post(&card(title, "count: 0"))?;
        // Updating a message posted earlier in the same invocation works too.
        messaging::update(&id, &card(title, "count: 0 (fresh)"))?;
        storage::set("card", id.as_bytes())?;
        storage::set("title", title.as_bytes())?;
        storage::set("count", b"0")?;
        Ok(Response::Private(text(&format!("card {id}"))))
    }

    fn on_action(ctx: Context, call: ActionCall) -> Result<ActionAnswer, Error> {
        match call.name.as_str() {
            "bump" => {
                let id = kept("card")?;
                let count: u64 = kept("count")?.parse().unwrap_or(0) + 1;
                messaging::update(&id, &card(&kept("title")?, &format!("count: {count}")))?;
                storage::set("count", count.to_string().as_bytes())?;
                Ok(answer(format!("{{\"id\":\"{id}\",\"count\":{count}}}")))
            }
            "remove" => {
                let id = kept("card")?;
                messaging::delete(&id)?;
                storage::delete("card")?;
                Ok(answer(format!("{{\"deleted\":\"{id}\"}}")))
            }
            "whisper" => {
                let actor = ctx.actor.ok_or_else(|| Error::Invalid("no actor".into()))?;
                let id = messaging::post_private(&actor, &text("psst"))?;
                Ok(ActionAnswer {
                    data: format!("{{\"id\":\"{id}\"}}"),
                    response: Response::Private(text("just for you")),
                })
            }
            "touch" => {
                let id = call
                    .payload
                    .split("\"id\":\"")
                    .nth(1)
                    .and_then(|rest| rest.split('"').next())
                    .unwrap_or_default()
                    .to_string();
                match messaging::update(&id, &text("touched")) {
                    Ok(()) => Ok(answer("{\"ok\":true}".into())),
                    Err(e) => Ok(answer(format!("{{\"error\":\"{}\"}}", code(&e)))),
                }
            }
            "remind" => {
                let first = scheduler::schedule_recurring(
                    "daily",
                    &Recurrence::Daily(TimeOfDay {
                        hour: 18,
                        minute: 0,
                    }),
                    "evening",
                )?;
                Ok(answer(format!("{{\"first\":{first}}}")))
            }
            "remind-fast" => {
                let first =
                    scheduler::schedule_recurring("fast", &Recurrence::EveryMinutes(4), "")?;
                Ok(answer(format!("{{\"first\":{first}}}")))
            }
            other => Err(Error::NotFound(format!("no action {other}"))),
        }
    }

    fn on_submit(_ctx: Context, _submission: Submission) -> Result<Response, Error> {
        Ok(Response::None)
    }

    fn on_event(_ctx: Context, event: Event) -> Result<(), Error> {
        if let Event::TimerFired(timer) = event {
            messaging::post(&text(&format!("reminder {}", timer.key)))?;
        }
        Ok(())
    }
}

export!(Messenger);
