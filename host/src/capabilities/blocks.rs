//! The `qun:app/blocks` interface: types only (importing it asks for
//! nothing). Here: its values converted to and from `qun_blocks`, the
//! model the host checks, stores and serves.

use qun_blocks as model;

use super::generated::exports::qun::app::handler as wit_handler;
use super::generated::qun::app::blocks as wit;
use crate::runtime::InvocationState;

impl wit::Host for InvocationState {}

fn date(d: wit::Date) -> model::Date {
    model::Date {
        year: d.year,
        month: d.month,
        day: d.day,
    }
}

fn date_to_wit(d: &model::Date) -> wit::Date {
    wit::Date {
        year: d.year,
        month: d.month,
        day: d.day,
    }
}

fn choice(c: wit::Choice) -> model::Choice {
    model::Choice {
        value: c.value,
        label: c.label,
    }
}

fn element(e: wit::Element) -> model::Element {
    match e {
        wit::Element::Button(b) => model::Element::Button(model::Button {
            label: b.label,
            action: b.action,
            payload: b.payload,
            style: match b.style {
                wit::ButtonStyle::Default => model::ButtonStyle::Default,
                wit::ButtonStyle::Primary => model::ButtonStyle::Primary,
                wit::ButtonStyle::Danger => model::ButtonStyle::Danger,
            },
            confirm: b.confirm.map(|c| model::Confirm {
                title: c.title,
                text: c.text,
                confirm_label: c.confirm_label,
                deny_label: c.deny_label,
            }),
        }),
        wit::Element::Select(s) => model::Element::Select(model::SelectMenu {
            action: s.action,
            payload: s.payload,
            placeholder: s.placeholder,
            options: s.options.into_iter().map(choice).collect(),
        }),
        wit::Element::MemberPicker(p) => model::Element::MemberPicker(model::MemberPicker {
            action: p.action,
            payload: p.payload,
            placeholder: p.placeholder,
        }),
    }
}

/// An input kind (of a form input or a command option).
pub fn input_kind(kind: wit::InputKind) -> model::InputKind {
    match kind {
        wit::InputKind::Text(t) => model::InputKind::Text(model::TextInput {
            min_length: t.min_length,
            max_length: t.max_length,
            multiline: t.multiline,
            placeholder: t.placeholder,
            initial: t.initial,
        }),
        wit::InputKind::Number(n) => model::InputKind::Number(model::NumberInput {
            integer: n.integer,
            decimals: n.decimals,
            min: n.min,
            max: n.max,
            initial: n.initial,
        }),
        wit::InputKind::Date(d) => model::InputKind::Date(model::DateInput {
            min: d.min.map(date),
            max: d.max.map(date),
            initial: d.initial.map(date),
        }),
        wit::InputKind::DateTime(d) => model::InputKind::DateTime(model::DateTimeInput {
            min: d.min,
            max: d.max,
            initial: d.initial,
        }),
        wit::InputKind::Choice(c) => model::InputKind::Choice(model::ChoiceInput {
            options: c.options.into_iter().map(choice).collect(),
            multiple: c.multiple,
            initial: c.initial,
        }),
        wit::InputKind::Member(m) => {
            model::InputKind::Member(model::MemberInput { initial: m.initial })
        }
        wit::InputKind::Checkbox(c) => {
            model::InputKind::Checkbox(model::CheckboxInput { initial: c.initial })
        }
        wit::InputKind::File(f) => model::InputKind::File(model::FileInput {
            max_files: f.max_files,
            accept: f.accept,
        }),
    }
}

fn block(b: wit::Block) -> model::Block {
    match b {
        wit::Block::Text(text) => model::Block::Text { text },
        wit::Block::Header(text) => model::Block::Header { text },
        wit::Block::Fields(fields) => model::Block::Fields {
            fields: fields
                .into_iter()
                .map(|f| model::Field {
                    name: f.name,
                    value: f.value,
                })
                .collect(),
        },
        wit::Block::Divider => model::Block::Divider,
        wit::Block::Context(text) => model::Block::Context { text },
        wit::Block::Actions(elements) => model::Block::Actions {
            elements: elements.into_iter().map(element).collect(),
        },
        wit::Block::Input(i) => model::Block::Input {
            input: model::Input {
                id: i.id,
                label: i.label,
                hint: i.hint,
                required: i.required,
                kind: input_kind(i.kind),
            },
        },
        wit::Block::File(file) => model::Block::File { file },
        wit::Block::Image(image) => model::Block::Image {
            file: image.file,
            alt: image.alt,
        },
    }
}

/// A message as the app sent it.
pub fn message_from_wit(m: wit::Message) -> model::Message {
    model::Message {
        text: m.text,
        blocks: m.blocks.into_iter().map(block).collect(),
    }
}

/// A form as the app sent it.
pub fn form_from_wit(f: wit::Form) -> model::Form {
    model::Form {
        title: f.title,
        blocks: f.blocks.into_iter().map(block).collect(),
        submit_label: f.submit_label,
        callback: f.callback,
        state: f.state,
    }
}

/// What the app answered to the member who acted.
pub fn response_from_wit(r: wit::Response) -> model::Response {
    match r {
        wit::Response::None => model::Response::None,
        wit::Response::Post(message) => model::Response::Post {
            message: message_from_wit(message),
        },
        wit::Response::Private(message) => model::Response::Private {
            message: message_from_wit(message),
        },
        wit::Response::Form(form) => model::Response::Form {
            form: form_from_wit(form),
        },
        wit::Response::FieldErrors(errors) => model::Response::FieldErrors {
            errors: errors
                .into_iter()
                .map(|e| model::FieldError {
                    input: e.input,
                    message: e.message,
                })
                .collect(),
        },
    }
}

/// A checked value handed to the app.
pub fn value_to_wit(v: &model::Value) -> wit::Value {
    match v {
        model::Value::Text(t) => wit::Value::Text(t.clone()),
        model::Value::Integer(i) => wit::Value::Integer(*i),
        model::Value::Decimal(d) => wit::Value::Decimal(d.clone()),
        model::Value::Date(d) => wit::Value::Date(date_to_wit(d)),
        model::Value::DateTime(t) => wit::Value::DateTime(*t),
        model::Value::Choices(c) => wit::Value::Choices(c.clone()),
        model::Value::Member(m) => wit::Value::Member(m.clone()),
        model::Value::Checkbox(b) => wit::Value::Checkbox(*b),
        model::Value::Files(ids) => wit::Value::Files(ids.clone()),
    }
}

/// A named, checked value handed to the app.
pub fn named_value_to_wit(v: &model::NamedValue) -> wit::NamedValue {
    wit::NamedValue {
        name: v.name.clone(),
        value: value_to_wit(&v.value),
    }
}

/// A command the app declared, with its typed options.
pub fn command_spec_from_wit(c: wit_handler::CommandSpec) -> model::CommandSpec {
    model::CommandSpec {
        name: c.name,
        description: c.description,
        options: c
            .options
            .into_iter()
            .map(|o| model::CommandOption {
                name: o.name,
                description: o.description,
                required: o.required,
                kind: input_kind(o.kind),
            })
            .collect(),
    }
}
