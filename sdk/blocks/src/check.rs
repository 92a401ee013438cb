//! What an app produces, checked against the published limits and rules:
//! messages, forms and the commands it declares in `describe`. Every error
//! names the path of what broke the rule (`blocks[3].elements[1].payload is
//! 9000 bytes, over the 8192-byte limit`).

use std::collections::BTreeSet;

use crate::decimal::{Decimal, MAX_DECIMALS};
use crate::error::BlockError;
use crate::limits::*;
use crate::markup::check_markup;
use crate::model::{
    Block, Choice, CommandSpec, Element, Form, Input, InputKind, Message, NumberInput,
};
use crate::value::{self, clip};
use crate::zone::{Zone, to_naive};

/// The actions an app declared in `describe`: an element of a message may
/// only run one of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Declared {
    actions: BTreeSet<String>,
}

impl Declared {
    /// The declared action names.
    pub fn new<I, S>(actions: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            actions: actions.into_iter().map(Into::into).collect(),
        }
    }

    /// Whether `action` was declared.
    pub fn contains(&self, action: &str) -> bool {
        self.actions.contains(action)
    }
}

/// Checks a message an app posts, updates or answers with.
///
/// It needs text or blocks; holds no input blocks (inputs belong in forms);
/// stays within every limit in [`crate::limits`]; holds no control
/// characters (line breaks and tabs only where text may have several lines);
/// its text blocks' markup is well formed; every element runs an action in
/// `declared` and carries an empty or JSON payload of at most
/// [`MAX_PAYLOAD_BYTES`]; select menus have 1 to [`MAX_OPTIONS`] options with
/// distinct values.
pub fn check_message(message: &Message, declared: &Declared) -> Result<(), BlockError> {
    text("text", &message.text, MAX_MESSAGE_TEXT_CHARS, Lines::Many)?;
    if message.text.trim().is_empty() && message.blocks.is_empty() {
        return Err(BlockError::new("message", "has no text and no blocks"));
    }
    count("blocks", message.blocks.len(), MAX_BLOCKS, "block")?;
    for (i, block) in message.blocks.iter().enumerate() {
        let path = format!("blocks[{i}]");
        match block {
            Block::Actions { elements } => {
                count(
                    &format!("{path}.elements"),
                    elements.len(),
                    MAX_ELEMENTS,
                    "element",
                )?;
                for (j, element) in elements.iter().enumerate() {
                    check_element(&format!("{path}.elements[{j}]"), element, declared)?;
                }
            }
            Block::Input { .. } => {
                return Err(BlockError::new(
                    path,
                    "is an input; inputs belong in forms, not messages",
                ));
            }
            other => check_display_block(&path, other)?,
        }
    }
    Ok(())
}

/// Checks a form an app opens.
///
/// It has a title, a submit label and a callback (one line each, at most
/// [`MAX_LABEL_CHARS`]); a state that is empty or JSON of at most
/// [`MAX_PAYLOAD_BYTES`]; 1 to [`MAX_INPUTS`] inputs with distinct ids; no
/// actions blocks (a form's only action is submitting it, so `declared`
/// never admits one); and every input follows its kind's rules: `min` at
/// most `max`, number bounds that are decimal numbers, choices with 1 to
/// [`MAX_OPTIONS`] distinct options, initial values that the input itself
/// would accept.
pub fn check_form(form: &Form, declared: &Declared) -> Result<(), BlockError> {
    let _ = declared;
    required_text("title", &form.title, MAX_LABEL_CHARS)?;
    required_text("submit_label", &form.submit_label, MAX_LABEL_CHARS)?;
    required_text("callback", &form.callback, MAX_LABEL_CHARS)?;
    json("state", &form.state)?;
    count("blocks", form.blocks.len(), MAX_BLOCKS, "block")?;
    let mut ids: Vec<(&str, usize)> = Vec::new();
    for (i, block) in form.blocks.iter().enumerate() {
        let path = format!("blocks[{i}]");
        match block {
            Block::Actions { .. } => {
                return Err(BlockError::new(
                    path,
                    "is an actions block; forms hold text, headers, fields, dividers, context lines and inputs",
                ));
            }
            Block::Input { input } => {
                check_input(&format!("{path}.input"), input)?;
                if let Some((_, first)) = ids.iter().find(|(id, _)| *id == input.id) {
                    return Err(BlockError::new(
                        format!("{path}.input.id"),
                        format!("{:?} is already the id of blocks[{first}]", input.id),
                    ));
                }
                ids.push((&input.id, i));
            }
            other => check_display_block(&path, other)?,
        }
    }
    if ids.is_empty() {
        return Err(BlockError::new(
            "blocks",
            "hold no input; a form needs at least one",
        ));
    }
    count("inputs", ids.len(), MAX_INPUTS, "input")
}

/// Checks the commands an app declares: names and option names follow the
/// id rule and are distinct, at most [`MAX_COMMAND_OPTIONS`] options each,
/// descriptions are one line, and each option's kind follows the same rules
/// as a form input's.
pub fn check_app_commands(commands: &[CommandSpec]) -> Result<(), BlockError> {
    for (i, command) in commands.iter().enumerate() {
        let path = format!("commands[{i}]");
        id(&format!("{path}.name"), &command.name)?;
        if let Some(j) = commands[..i].iter().position(|c| c.name == command.name) {
            return Err(BlockError::new(
                format!("{path}.name"),
                format!("{:?} is already the name of commands[{j}]", command.name),
            ));
        }
        text(
            &format!("{path}.description"),
            &command.description,
            MAX_VALUE_CHARS,
            Lines::One,
        )?;
        count(
            &format!("{path}.options"),
            command.options.len(),
            MAX_COMMAND_OPTIONS,
            "option",
        )?;
        for (j, option) in command.options.iter().enumerate() {
            let path = format!("{path}.options[{j}]");
            id(&format!("{path}.name"), &option.name)?;
            if let Some(k) = command.options[..j]
                .iter()
                .position(|o| o.name == option.name)
            {
                return Err(BlockError::new(
                    format!("{path}.name"),
                    format!("{:?} is already the name of options[{k}]", option.name),
                ));
            }
            text(
                &format!("{path}.description"),
                &option.description,
                MAX_VALUE_CHARS,
                Lines::One,
            )?;
            if matches!(option.kind, InputKind::File(_)) {
                return Err(BlockError::new(
                    format!("{path}.kind"),
                    "is a file input; files can only be chosen in a form",
                ));
            }
            check_kind(&format!("{path}.kind"), &option.kind)?;
        }
    }
    Ok(())
}

/// Checks that `value` is the value of one of `options` (a select menu's
/// choice sent by a client).
pub fn check_choice(options: &[Choice], value: &str) -> Result<(), BlockError> {
    if options.iter().any(|o| o.value == value) {
        Ok(())
    } else {
        Err(BlockError::new(
            "value",
            format!("{} is not one of the options", value::quoted(value)),
        ))
    }
}

/// Text, header, fields, divider and context blocks.
fn check_display_block(path: &str, block: &Block) -> Result<(), BlockError> {
    match block {
        Block::Text { text: t } => {
            text(&format!("{path}.text"), t, MAX_TEXT_CHARS, Lines::Many)?;
            check_markup(t).map_err(|problem| BlockError::new(format!("{path}.text"), problem))
        }
        Block::Header { text: t } => text(&format!("{path}.text"), t, MAX_TEXT_CHARS, Lines::One),
        Block::Context { text: t } => text(&format!("{path}.text"), t, MAX_TEXT_CHARS, Lines::Many),
        Block::Fields { fields } => {
            count(&format!("{path}.fields"), fields.len(), MAX_FIELDS, "field")?;
            for (i, field) in fields.iter().enumerate() {
                let path = format!("{path}.fields[{i}]");
                text(
                    &format!("{path}.name"),
                    &field.name,
                    MAX_LABEL_CHARS,
                    Lines::One,
                )?;
                text(
                    &format!("{path}.value"),
                    &field.value,
                    MAX_VALUE_CHARS,
                    Lines::Many,
                )?;
            }
            Ok(())
        }
        Block::Divider => Ok(()),
        Block::File { file } => file_id(&format!("{path}.file"), file),
        Block::Image { file, alt } => {
            file_id(&format!("{path}.file"), file)?;
            text(&format!("{path}.alt"), alt, MAX_VALUE_CHARS, Lines::One)
        }
        Block::Actions { .. } | Block::Input { .. } => Ok(()),
    }
}

fn check_element(path: &str, element: &Element, declared: &Declared) -> Result<(), BlockError> {
    let action = element.action();
    if !declared.contains(action) {
        return Err(BlockError::new(
            format!("{path}.action"),
            format!(
                "{:?} is not one of the actions the app declared in describe",
                clip(action, 40)
            ),
        ));
    }
    json(&format!("{path}.payload"), element.payload())?;
    match element {
        Element::Button(button) => {
            required_text(&format!("{path}.label"), &button.label, MAX_LABEL_CHARS)?;
            if let Some(confirm) = &button.confirm {
                let path = format!("{path}.confirm");
                required_text(&format!("{path}.title"), &confirm.title, MAX_LABEL_CHARS)?;
                text(
                    &format!("{path}.text"),
                    &confirm.text,
                    MAX_TEXT_CHARS,
                    Lines::Many,
                )?;
                required_text(
                    &format!("{path}.confirm_label"),
                    &confirm.confirm_label,
                    MAX_LABEL_CHARS,
                )?;
                required_text(
                    &format!("{path}.deny_label"),
                    &confirm.deny_label,
                    MAX_LABEL_CHARS,
                )?;
            }
            Ok(())
        }
        Element::Select(menu) => {
            text(
                &format!("{path}.placeholder"),
                &menu.placeholder,
                MAX_LABEL_CHARS,
                Lines::One,
            )?;
            check_options(&format!("{path}.options"), &menu.options)
        }
        Element::MemberPicker(picker) => text(
            &format!("{path}.placeholder"),
            &picker.placeholder,
            MAX_LABEL_CHARS,
            Lines::One,
        ),
    }
}

fn check_input(path: &str, input: &Input) -> Result<(), BlockError> {
    id(&format!("{path}.id"), &input.id)?;
    required_text(&format!("{path}.label"), &input.label, MAX_LABEL_CHARS)?;
    if let Some(hint) = &input.hint {
        text(&format!("{path}.hint"), hint, MAX_VALUE_CHARS, Lines::Many)?;
    }
    check_kind(&format!("{path}.kind"), &input.kind)
}

/// The rules of one input kind (form inputs and command options alike).
fn check_kind(path: &str, kind: &InputKind) -> Result<(), BlockError> {
    let initial = |shown: String, problem: String| {
        BlockError::new(
            format!("{path}.initial"),
            format!("is {shown}, which the input itself refuses ({problem})"),
        )
    };
    match kind {
        InputKind::Text(t) => {
            for (name, value) in [("min_length", t.min_length), ("max_length", t.max_length)] {
                if let Some(n) = value
                    && n as usize > MAX_INPUT_CHARS
                {
                    return Err(BlockError::new(
                        format!("{path}.{name}"),
                        format!("is {n}, over the {MAX_INPUT_CHARS}-character limit"),
                    ));
                }
            }
            ordered(path, "min_length", t.min_length, "max_length", t.max_length)?;
            if let Some(placeholder) = &t.placeholder {
                text(
                    &format!("{path}.placeholder"),
                    placeholder,
                    MAX_LABEL_CHARS,
                    Lines::One,
                )?;
            }
            if let Some(first) = &t.initial {
                value::text(t, first).map_err(|p| initial(value::quoted(first), p))?;
            }
            Ok(())
        }
        InputKind::Number(n) => check_number(path, n),
        InputKind::Date(d) => {
            for (name, date) in [("min", d.min), ("max", d.max), ("initial", d.initial)] {
                if let Some(date) = date
                    && to_naive(date).is_none()
                {
                    return Err(BlockError::new(
                        format!("{path}.{name}"),
                        format!("is {date}, which is not a calendar date"),
                    ));
                }
            }
            ordered(path, "min", d.min, "max", d.max)?;
            if let Some(first) = d.initial {
                value::date(d, first).map_err(|p| initial(first.to_string(), p))?;
            }
            Ok(())
        }
        InputKind::DateTime(d) => {
            ordered(path, "min", d.min, "max", d.max)?;
            if let Some(first) = d.initial {
                value::date_time(d, first, &Zone::utc())
                    .map_err(|p| initial(first.to_string(), p))?;
            }
            Ok(())
        }
        InputKind::Choice(c) => {
            check_options(&format!("{path}.options"), &c.options)?;
            value::choices(c, c.initial.clone())
                .map_err(|p| initial(format!("{:?}", c.initial), p))?;
            Ok(())
        }
        InputKind::Member(m) => {
            if let Some(first) = &m.initial {
                value::member(first).map_err(|p| initial(value::quoted(first), p))?;
            }
            Ok(())
        }
        InputKind::Checkbox(_) => Ok(()),
        InputKind::File(f) => {
            if f.max_files == 0 || f.max_files > MAX_FILES_PER_INPUT {
                return Err(BlockError::new(
                    format!("{path}.max_files"),
                    format!("is {}; it must be 1 to {MAX_FILES_PER_INPUT}", f.max_files),
                ));
            }
            count(
                &format!("{path}.accept"),
                f.accept.len(),
                MAX_OPTIONS,
                "type",
            )?;
            for (i, accept) in f.accept.iter().enumerate() {
                let ok = !accept.is_empty()
                    && accept.len() <= MAX_LABEL_CHARS
                    && accept.contains('/')
                    && accept.bytes().all(|b| {
                        b.is_ascii_alphanumeric() || matches!(b, b'/' | b'.' | b'+' | b'-')
                    });
                if !ok {
                    return Err(BlockError::new(
                        format!("{path}.accept[{i}]"),
                        format!(
                            "is {}; it must be a content type such as \"application/pdf\" or a family such as \"image/\"",
                            value::quoted(&clip(accept, 40))
                        ),
                    ));
                }
            }
            Ok(())
        }
    }
}

fn check_number(path: &str, n: &NumberInput) -> Result<(), BlockError> {
    if u32::from(n.decimals) > MAX_DECIMALS {
        return Err(BlockError::new(
            format!("{path}.decimals"),
            format!("is {}, over the limit of {MAX_DECIMALS} digits", n.decimals),
        ));
    }
    let mut parsed = [None, None];
    for (slot, (name, text)) in parsed.iter_mut().zip([("min", &n.min), ("max", &n.max)]) {
        if let Some(text) = text {
            *slot = Some(Decimal::parse(text).map_err(|e| {
                BlockError::new(
                    format!("{path}.{name}"),
                    format!("is {}, which {e}", value::quoted(text)),
                )
            })?);
        }
    }
    ordered(path, "min", parsed[0], "max", parsed[1])?;
    if let Some(first) = &n.initial {
        match value::number(n, first) {
            Ok(Some(_)) => {}
            Ok(None) => {
                return Err(BlockError::new(
                    format!("{path}.initial"),
                    "is empty; leave it out instead",
                ));
            }
            Err(p) => {
                return Err(BlockError::new(
                    format!("{path}.initial"),
                    format!(
                        "is {}, which the input itself refuses ({p})",
                        value::quoted(first)
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Options of a select menu or choice input: 1 to [`MAX_OPTIONS`], distinct
/// values, one-line values and labels.
fn check_options(path: &str, options: &[Choice]) -> Result<(), BlockError> {
    if options.is_empty() {
        return Err(BlockError::new(path, "are empty; give at least one option"));
    }
    count(path, options.len(), MAX_OPTIONS, "option")?;
    for (i, option) in options.iter().enumerate() {
        let at = format!("{path}[{i}]");
        required_text(&format!("{at}.value"), &option.value, MAX_LABEL_CHARS)?;
        required_text(&format!("{at}.label"), &option.label, MAX_LABEL_CHARS)?;
        if let Some(j) = options[..i].iter().position(|o| o.value == option.value) {
            return Err(BlockError::new(
                format!("{at}.value"),
                format!(
                    "{:?} is already the value of options[{j}]",
                    clip(&option.value, 40)
                ),
            ));
        }
    }
    Ok(())
}

fn ordered<T: PartialOrd + std::fmt::Display>(
    path: &str,
    low_name: &str,
    low: Option<T>,
    high_name: &str,
    high: Option<T>,
) -> Result<(), BlockError> {
    if let (Some(low), Some(high)) = (low, high)
        && low > high
    {
        return Err(BlockError::new(
            format!("{path}.{low_name}"),
            format!("is {low}, more than {high_name} ({high})"),
        ));
    }
    Ok(())
}

/// Whether text may span several lines.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lines {
    One,
    Many,
}

/// At most `max` characters, no control characters but tabs (and line
/// breaks where `lines` is [`Lines::Many`]).
fn text(path: &str, value: &str, max: usize, lines: Lines) -> Result<(), BlockError> {
    let mut chars = 0;
    for (at, c) in value.chars().enumerate() {
        chars = at + 1;
        if c == '\n' && lines == Lines::One {
            return Err(BlockError::new(
                path,
                format!("holds a line break at character {at}; it is one line"),
            ));
        }
        if c.is_control() && c != '\n' && c != '\t' {
            return Err(BlockError::new(
                path,
                format!(
                    "holds the control character U+{:04X} at character {at}",
                    u32::from(c)
                ),
            ));
        }
    }
    if chars > max {
        return Err(BlockError::new(
            path,
            format!("is {chars} characters, over the {max}-character limit"),
        ));
    }
    Ok(())
}

/// Like [`text`], one line, and not empty.
fn required_text(path: &str, value: &str, max: usize) -> Result<(), BlockError> {
    if value.trim().is_empty() {
        return Err(BlockError::new(path, "is empty"));
    }
    text(path, value, max, Lines::One)
}

/// An id: 1 to 64 lowercase ASCII letters, digits, `-` and `_`.
fn id(path: &str, value: &str) -> Result<(), BlockError> {
    let ok = (1..=64).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(BlockError::new(
            path,
            format!(
                "is {:?}; ids are 1 to 64 lowercase letters, digits, `-` and `_`",
                clip(value, 40)
            ),
        ))
    }
}

/// Empty, or a JSON document of at most [`MAX_PAYLOAD_BYTES`] whose strings
/// hold no NUL (PostgreSQL cannot store one).
fn json(path: &str, value: &str) -> Result<(), BlockError> {
    if value.len() > MAX_PAYLOAD_BYTES {
        return Err(BlockError::new(
            path,
            format!(
                "is {} bytes, over the {MAX_PAYLOAD_BYTES}-byte limit",
                value.len()
            ),
        ));
    }
    if value.is_empty() {
        return Ok(());
    }
    let doc: serde_json::Value = serde_json::from_str(value)
        .map_err(|e| BlockError::new(path, format!("is not JSON ({e})")))?;
    if has_nul(&doc) {
        return Err(BlockError::new(path, "holds a NUL character (\\u0000)"));
    }
    Ok(())
}

fn has_nul(doc: &serde_json::Value) -> bool {
    match doc {
        serde_json::Value::String(s) => s.contains('\0'),
        serde_json::Value::Array(items) => items.iter().any(has_nul),
        serde_json::Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

fn count(path: &str, n: usize, max: usize, what: &str) -> Result<(), BlockError> {
    if n > max {
        return Err(BlockError::new(
            path,
            format!("hold {n} {what}s, over the limit of {max}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;

/// A file id: 1 to 64 letters, digits and `-`.
fn file_id(path: &str, id: &str) -> Result<(), BlockError> {
    if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(BlockError::new(
            path,
            format!(
                "is {}, which is not a file id",
                value::quoted(&clip(id, 40))
            ),
        ));
    }
    Ok(())
}
