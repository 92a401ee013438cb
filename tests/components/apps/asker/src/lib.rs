//! `asker`: a raw `qun:app@0.2.0` component that opens forms with every
//! input kind, posts a card with every element kind, and writes down every
//! submission and click it is handed (see README.md).

wit_bindgen::generate!({
    path: "../../../../wit/0.2.0",
    world: "group-app",
});

use exports::qun::app::handler::{
    ActionAnswer, ActionCall, ActionSpec, AppInfo, Command, CommandOption, CommandSpec, Context,
    Error, Event, Guest, Submission,
};
use qun::app::blocks::{
    Block, Button, ButtonStyle, CheckboxInput, Choice, ChoiceInput, Date, DateInput, DateTimeInput,
    Element, FieldError, Form, Input, InputKind, MemberInput, MemberPicker, Message, NamedValue,
    NumberInput, Response, SelectMenu, TextInput, Value,
};
use qun::app::{messaging, storage};
use serde_json::{Value as Json, json};

struct Asker;

fn input(id: &str, kind: InputKind) -> Block {
    Block::Input(Input {
        id: id.to_string(),
        label: id.to_string(),
        hint: None,
        required: true,
        kind,
    })
}

fn choices(values: &[&str]) -> Vec<Choice> {
    values
        .iter()
        .map(|v| Choice {
            value: v.to_string(),
            label: v.to_uppercase(),
        })
        .collect()
}

fn text_kind() -> InputKind {
    InputKind::Text(TextInput {
        min_length: Some(3),
        max_length: Some(20),
        multiline: false,
        placeholder: None,
        initial: None,
    })
}

fn seats_kind() -> InputKind {
    InputKind::Number(NumberInput {
        integer: true,
        decimals: 0,
        min: Some("1".into()),
        max: Some("50".into()),
        initial: None,
    })
}

/// The form `callback` with one required input of every kind.
fn form(callback: &str) -> Form {
    Form {
        title: format!("Form {callback}"),
        blocks: vec![
            Block::Text("Tell me everything".into()),
            input("title", text_kind()),
            input(
                "count",
                InputKind::Number(NumberInput {
                    integer: true,
                    decimals: 0,
                    min: Some("1".into()),
                    max: Some("10".into()),
                    initial: None,
                }),
            ),
            input(
                "price",
                InputKind::Number(NumberInput {
                    integer: false,
                    decimals: 2,
                    min: Some("0".into()),
                    max: Some("100".into()),
                    initial: None,
                }),
            ),
            input(
                "day",
                InputKind::Date(DateInput {
                    min: Some(Date {
                        year: 2030,
                        month: 1,
                        day: 1,
                    }),
                    max: Some(Date {
                        year: 2030,
                        month: 12,
                        day: 31,
                    }),
                    initial: None,
                }),
            ),
            input(
                "at",
                InputKind::DateTime(DateTimeInput {
                    min: None,
                    max: None,
                    initial: None,
                }),
            ),
            input(
                "color",
                InputKind::Choice(ChoiceInput {
                    options: choices(&["red", "green"]),
                    multiple: false,
                    initial: Vec::new(),
                }),
            ),
            input(
                "tags",
                InputKind::Choice(ChoiceInput {
                    options: choices(&["a", "b", "c"]),
                    multiple: true,
                    initial: Vec::new(),
                }),
            ),
            input("who", InputKind::Member(MemberInput { initial: None })),
            input(
                "agree",
                InputKind::Checkbox(CheckboxInput { initial: false }),
            ),
        ],
        submit_label: "Send".into(),
        callback: callback.to_string(),
        state: json!({"opened": callback}).to_string(),
    }
}

fn message(text: &str) -> Message {
    Message {
        text: text.to_string(),
        blocks: vec![Block::Text(text.to_string())],
    }
}

fn card(header: &str) -> Message {
    Message {
        text: header.to_string(),
        blocks: vec![
            Block::Header(header.to_string()),
            Block::Actions(vec![
                Element::Button(Button {
                    label: "Press".into(),
                    action: "click".into(),
                    payload: json!({"n": 1}).to_string(),
                    style: ButtonStyle::Primary,
                    confirm: None,
                }),
                Element::Select(SelectMenu {
                    action: "click".into(),
                    payload: json!({"n": 2}).to_string(),
                    placeholder: "Pick one".into(),
                    options: choices(&["x", "y"]),
                }),
                Element::MemberPicker(MemberPicker {
                    action: "click".into(),
                    payload: json!({"n": 3}).to_string(),
                    placeholder: "Pick someone".into(),
                }),
            ]),
        ],
    }
}

fn value_json(value: &Value) -> Json {
    match value {
        Value::Text(s) => json!({"text": s}),
        Value::Integer(i) => json!({"integer": i}),
        Value::Decimal(d) => json!({"decimal": d}),
        Value::Date(d) => json!({"date": [d.year, d.month, d.day]}),
        Value::DateTime(t) => json!({"date_time": t}),
        Value::Choices(c) => json!({"choices": c}),
        Value::Member(m) => json!({"member": m}),
        Value::Checkbox(b) => json!({"checkbox": b}),
        Value::Files(f) => json!({"files": f}),
    }
}

fn values_json(values: &[NamedValue]) -> Json {
    Json::Object(
        values
            .iter()
            .map(|v| (v.name.clone(), value_json(&v.value)))
            .collect(),
    )
}

/// Append one line to the log.
fn log(line: Json) -> Result<(), Error> {
    let count = match storage::get("count")? {
        Some(bytes) => String::from_utf8_lossy(&bytes).parse::<u64>().unwrap_or(0),
        None => 0,
    } + 1;
    storage::set("count", count.to_string().as_bytes())?;
    storage::set(&format!("log/{count:06}"), line.to_string().as_bytes())?;
    Ok(())
}

fn read_log() -> Result<Json, Error> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = storage::list("log/", cursor.as_deref(), 100)?;
        for entry in page.entries {
            out.push(serde_json::from_slice(&entry.value).unwrap_or(Json::Null));
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    Ok(Json::Array(out))
}

fn field<'a>(payload: &'a Json, name: &str) -> Result<&'a str, Error> {
    payload[name]
        .as_str()
        .ok_or_else(|| Error::Invalid(format!("the payload needs \"{name}\"")))
}

fn answer(data: Json, response: Response) -> Result<ActionAnswer, Error> {
    Ok(ActionAnswer {
        data: data.to_string(),
        response,
    })
}

impl Guest for Asker {
    fn describe() -> AppInfo {
        let action = |name: &str| ActionSpec {
            name: name.to_string(),
            description: format!("{name} (see README.md)"),
        };
        AppInfo {
            name: "asker".into(),
            title: "Asker".into(),
            version: "0.2.0".into(),
            description: "Asks members things; for the host's tests.".into(),
            commands: vec![
                CommandSpec {
                    name: "ask".into(),
                    description: "Open a form with every input kind".into(),
                    options: Vec::new(),
                },
                CommandSpec {
                    name: "book".into(),
                    description: "Book seats".into(),
                    options: vec![
                        CommandOption {
                            name: "title".into(),
                            description: "What to book".into(),
                            required: true,
                            kind: text_kind(),
                        },
                        CommandOption {
                            name: "seats".into(),
                            description: "How many seats".into(),
                            required: true,
                            kind: seats_kind(),
                        },
                        CommandOption {
                            name: "when".into(),
                            description: "When".into(),
                            required: false,
                            kind: InputKind::DateTime(DateTimeInput {
                                min: None,
                                max: None,
                                initial: None,
                            }),
                        },
                    ],
                },
            ],
            actions: [
                "open", "card", "update", "delete", "whisper", "dm", "click", "log",
            ]
            .into_iter()
            .map(action)
            .collect(),
            subscriptions: Vec::new(),
        }
    }

    fn on_command(_ctx: Context, command: Command) -> Result<Response, Error> {
        match command.name.as_str() {
            // `/ask` opens the form `ask`; `/ask strict`, `/ask chain` those.
            "ask" if command.args.is_empty() => Ok(Response::Form(form("ask"))),
            "ask" => Ok(Response::Form(form(&command.args))),
            "book" => {
                log(json!({"command": "book", "options": values_json(&command.options)}))?;
                let get = |name: &str| command.options.iter().find(|v| v.name == name);
                let title = match get("title").map(|v| &v.value) {
                    Some(Value::Text(t)) => t.clone(),
                    _ => return Err(Error::Invalid("no title".into())),
                };
                let seats = match get("seats").map(|v| &v.value) {
                    Some(Value::Integer(n)) => *n,
                    _ => return Err(Error::Invalid("no seats".into())),
                };
                let mut text = format!("booked {title} for {seats}");
                if let Some(Value::DateTime(at)) = get("when").map(|v| &v.value) {
                    text.push_str(&format!(" at {at}"));
                }
                Ok(Response::Post(message(&text)))
            }
            other => Err(Error::Invalid(format!("unknown command {other}"))),
        }
    }

    fn on_action(_ctx: Context, call: ActionCall) -> Result<ActionAnswer, Error> {
        let payload: Json = serde_json::from_str(&call.payload).unwrap_or(Json::Null);
        match call.name.as_str() {
            "open" => answer(
                json!({}),
                Response::Form(form(field(&payload, "callback")?)),
            ),
            "card" => {
                let id = messaging::post(&card("A card"))?;
                answer(json!({"id": id}), Response::None)
            }
            "update" => {
                messaging::update(field(&payload, "id")?, &card(field(&payload, "text")?))?;
                answer(json!({}), Response::None)
            }
            "delete" => {
                messaging::delete(field(&payload, "id")?)?;
                answer(json!({}), Response::None)
            }
            "whisper" => answer(
                json!({}),
                Response::Private(message(field(&payload, "text")?)),
            ),
            "dm" => {
                messaging::send_direct(field(&payload, "to")?, &message(field(&payload, "text")?))?;
                answer(json!({}), Response::None)
            }
            "click" => {
                log(json!({
                    "click": payload,
                    "value": call.value.as_ref().map(value_json),
                    "message_id": call.message_id,
                }))?;
                answer(
                    json!({"clicked": true}),
                    Response::Private(message("clicked")),
                )
            }
            "log" => answer(read_log()?, Response::None),
            other => Err(Error::Invalid(format!("unknown action {other}"))),
        }
    }

    fn on_submit(_ctx: Context, submission: Submission) -> Result<Response, Error> {
        log(json!({
            "callback": submission.callback,
            "state": submission.state,
            "step": submission.step,
            "values": values_json(&submission.values),
        }))?;
        match submission.callback.as_str() {
            "strict" => Ok(Response::FieldErrors(vec![FieldError {
                input: "title".into(),
                message: "that title is taken".into(),
            }])),
            "chain" => Ok(Response::Form(form("chain"))),
            _ => Ok(Response::Private(message("thanks"))),
        }
    }

    fn on_event(_ctx: Context, _event: Event) -> Result<(), Error> {
        Ok(())
    }
}

export!(Asker);
