//! The shared model (`qun_blocks`) to the generated WIT types and back: one
//! function per WIT type, field by field.

use qun_blocks as m;

use super::wit::exports::qun::app::handler as h;
use super::wit::qun::app::blocks as b;
use crate::{Message, Reply};

pub(crate) fn message(msg: &Message) -> b::Message {
    b::Message {
        text: msg.text.clone(),
        blocks: msg.blocks.iter().map(block).collect(),
    }
}

fn block(block: &m::Block) -> b::Block {
    match block {
        m::Block::Text { text } => b::Block::Text(text.clone()),
        m::Block::Header { text } => b::Block::Header(text.clone()),
        m::Block::Fields { fields } => b::Block::Fields(
            fields
                .iter()
                .map(|f| b::Field {
                    name: f.name.clone(),
                    value: f.value.clone(),
                })
                .collect(),
        ),
        m::Block::Divider => b::Block::Divider,
        m::Block::Context { text } => b::Block::Context(text.clone()),
        m::Block::Actions { elements } => b::Block::Actions(elements.iter().map(element).collect()),
        m::Block::Input { input: i } => b::Block::Input(input(i)),
        m::Block::File { file } => b::Block::File(file.clone()),
        m::Block::Image { file, alt } => b::Block::Image(b::Image {
            file: file.clone(),
            alt: alt.clone(),
        }),
    }
}

fn choice(c: &m::Choice) -> b::Choice {
    b::Choice {
        value: c.value.clone(),
        label: c.label.clone(),
    }
}

fn element(e: &m::Element) -> b::Element {
    match e {
        m::Element::Button(x) => b::Element::Button(b::Button {
            label: x.label.clone(),
            action: x.action.clone(),
            payload: x.payload.clone(),
            style: match x.style {
                m::ButtonStyle::Default => b::ButtonStyle::Default,
                m::ButtonStyle::Primary => b::ButtonStyle::Primary,
                m::ButtonStyle::Danger => b::ButtonStyle::Danger,
            },
            confirm: x.confirm.as_ref().map(|c| b::Confirm {
                title: c.title.clone(),
                text: c.text.clone(),
                confirm_label: c.confirm_label.clone(),
                deny_label: c.deny_label.clone(),
            }),
        }),
        m::Element::Select(x) => b::Element::Select(b::SelectMenu {
            action: x.action.clone(),
            payload: x.payload.clone(),
            placeholder: x.placeholder.clone(),
            options: x.options.iter().map(choice).collect(),
        }),
        m::Element::MemberPicker(x) => b::Element::MemberPicker(b::MemberPicker {
            action: x.action.clone(),
            payload: x.payload.clone(),
            placeholder: x.placeholder.clone(),
        }),
    }
}

fn date(d: m::Date) -> b::Date {
    b::Date {
        year: d.year,
        month: d.month,
        day: d.day,
    }
}

fn input_kind(kind: &m::InputKind) -> b::InputKind {
    match kind {
        m::InputKind::Text(x) => b::InputKind::Text(b::TextInput {
            min_length: x.min_length,
            max_length: x.max_length,
            multiline: x.multiline,
            placeholder: x.placeholder.clone(),
            initial: x.initial.clone(),
        }),
        m::InputKind::Number(x) => b::InputKind::Number(b::NumberInput {
            integer: x.integer,
            decimals: x.decimals,
            min: x.min.clone(),
            max: x.max.clone(),
            initial: x.initial.clone(),
        }),
        m::InputKind::Date(x) => b::InputKind::Date(b::DateInput {
            min: x.min.map(date),
            max: x.max.map(date),
            initial: x.initial.map(date),
        }),
        m::InputKind::DateTime(x) => b::InputKind::DateTime(b::DateTimeInput {
            min: x.min,
            max: x.max,
            initial: x.initial,
        }),
        m::InputKind::Choice(x) => b::InputKind::Choice(b::ChoiceInput {
            options: x.options.iter().map(choice).collect(),
            multiple: x.multiple,
            initial: x.initial.clone(),
        }),
        m::InputKind::Member(x) => b::InputKind::Member(b::MemberInput {
            initial: x.initial.clone(),
        }),
        m::InputKind::Checkbox(x) => {
            b::InputKind::Checkbox(b::CheckboxInput { initial: x.initial })
        }
        m::InputKind::File(x) => b::InputKind::File(b::FileInput {
            max_files: x.max_files,
            accept: x.accept.clone(),
        }),
    }
}

fn input(i: &m::Input) -> b::Input {
    b::Input {
        id: i.id.clone(),
        label: i.label.clone(),
        hint: i.hint.clone(),
        required: i.required,
        kind: input_kind(&i.kind),
    }
}

fn form(f: &m::Form) -> b::Form {
    b::Form {
        title: f.title.clone(),
        blocks: f.blocks.iter().map(block).collect(),
        submit_label: f.submit_label.clone(),
        callback: f.callback.clone(),
        state: f.state.clone(),
    }
}

pub(crate) fn response(reply: Reply) -> b::Response {
    match reply {
        Reply::None => b::Response::None,
        Reply::Post(msg) => b::Response::Post(message(&msg)),
        Reply::Private(msg) => b::Response::Private(message(&msg)),
        Reply::Form(f) => b::Response::Form(form(f.model())),
        Reply::FieldErrors(errors) => b::Response::FieldErrors(
            errors
                .into_iter()
                .map(|e| b::FieldError {
                    input: e.input,
                    message: e.message,
                })
                .collect(),
        ),
    }
}

pub(crate) fn command_spec(spec: m::CommandSpec) -> h::CommandSpec {
    h::CommandSpec {
        name: spec.name,
        description: spec.description,
        options: spec
            .options
            .iter()
            .map(|o| h::CommandOption {
                name: o.name.clone(),
                description: o.description.clone(),
                required: o.required,
                kind: input_kind(&o.kind),
            })
            .collect(),
    }
}

pub(crate) fn from_wit_value(value: b::Value) -> m::Value {
    match value {
        b::Value::Text(s) => m::Value::Text(s),
        b::Value::Integer(n) => m::Value::Integer(n),
        b::Value::Decimal(s) => m::Value::Decimal(s),
        b::Value::Date(d) => m::Value::Date(m::Date {
            year: d.year,
            month: d.month,
            day: d.day,
        }),
        b::Value::DateTime(at) => m::Value::DateTime(at),
        b::Value::Choices(c) => m::Value::Choices(c),
        b::Value::Member(id) => m::Value::Member(id),
        b::Value::Checkbox(on) => m::Value::Checkbox(on),
        b::Value::Files(ids) => m::Value::Files(ids),
    }
}

pub(crate) fn named_values(values: Vec<b::NamedValue>) -> Vec<m::NamedValue> {
    values
        .into_iter()
        .map(|v| m::NamedValue {
            name: v.name,
            value: from_wit_value(v.value),
        })
        .collect()
}
