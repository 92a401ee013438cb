//! Typed commands: what a member typed after `/name`, read against the
//! command's declared options, and the form that asks for what is missing.

use std::fmt;

use crate::model::{
    Block, CommandOption, CommandSpec, Form, Input, InputKind, NamedValue, Timestamp, Value,
};
use crate::time::{parse_typed_date, parse_typed_date_time};
use crate::value::{self, clip, quoted};
use crate::zone::Zone;

/// What the host makes of a command's arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandArgs {
    /// Every required option was given and every value is good: run the
    /// command with these options (in declared order). A command that
    /// declares no options is always complete with none; the app reads
    /// `args` itself.
    Complete(Vec<NamedValue>),
    /// A required option is missing: open `form` (the command's form,
    /// pre-filled with `given`) for the member instead of running it.
    Incomplete {
        /// The options that were given, checked.
        given: Vec<NamedValue>,
        /// The command's form.
        form: Form,
    },
    /// A value is wrong: tell the member, and do not run the command.
    Usage(OptionError),
}

/// A value typed for an option that the option does not take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionError {
    /// The option's name; empty when the line as a whole is wrong (too many
    /// values).
    pub option: String,
    /// What is wrong and an example of what works, for the member.
    pub message: String,
}

impl fmt::Display for OptionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for OptionError {}

/// Reads `args` (what followed `/name`) against `spec`'s options, with dates
/// and times read on `zone`'s clock at `now`.
///
/// Values are separated by `|` and fill the options in declared order
/// (`/event Hike | 2030-06-01 09:00 | 10`); an empty part skips an option
/// (`/event Hike || 10`); `name: value` gives an option by name in any order
/// (names match regardless of letter case); `\|` is a `|` inside a value. A
/// command with one option takes the whole line as its value.
///
/// Values are read the way people type them: numbers `10`, `2.5`; dates
/// `2030-06-01`, `today`, `tomorrow`, `friday`, `in 3 days`; moments
/// `2030-06-01 09:00`, `2030-06-01T09:00+08:00`, `tomorrow 18:00`, `monday
/// 9am`, `in 2h`, `in 30m`; choices by value or label (letter case ignored;
/// several separated by `,`); members `@id` or `id`; checkboxes `yes`/`no`,
/// `true`/`false`, `on`/`off`. Each is then held to the option's rules (a
/// choice among its options, a number within its bounds, ...).
pub fn parse_command(spec: &CommandSpec, args: &str, zone: &Zone, now: Timestamp) -> CommandArgs {
    if spec.options.is_empty() {
        return CommandArgs::Complete(Vec::new());
    }
    let typed = match assign(spec, args.trim()) {
        Ok(typed) => typed,
        Err(e) => return CommandArgs::Usage(e),
    };
    let mut given = Vec::new();
    for (option, raw) in spec.options.iter().zip(&typed) {
        let Some(raw) = raw else { continue };
        match typed_value(option, raw, zone, now) {
            Ok(Some(value)) => given.push(NamedValue {
                name: option.name.clone(),
                value,
            }),
            Ok(None) => {}
            Err(problem) => {
                return CommandArgs::Usage(OptionError {
                    option: option.name.clone(),
                    message: format!(
                        "{}: {} {problem}. For example: {}",
                        option.name,
                        quoted(raw),
                        example(spec, option)
                    ),
                });
            }
        }
    }
    let missing = spec
        .options
        .iter()
        .any(|o| o.required && !given.iter().any(|g| g.name == o.name));
    if missing {
        let form = command_form(spec, &given);
        CommandArgs::Incomplete { given, form }
    } else {
        CommandArgs::Complete(given)
    }
}

/// The command's form: one input per option (its kind, whether it is
/// required, its description as the hint), pre-filled with `given`; titled
/// `/name`, with the command's name as the callback.
pub fn command_form(spec: &CommandSpec, given: &[NamedValue]) -> Form {
    let mut blocks = Vec::with_capacity(spec.options.len() + 1);
    if !spec.description.trim().is_empty() {
        blocks.push(Block::Context {
            text: spec.description.clone(),
        });
    }
    for option in &spec.options {
        let mut kind = option.kind.clone();
        if let Some(value) = given.iter().find(|g| g.name == option.name) {
            prefill(&mut kind, &value.value);
        }
        blocks.push(Block::Input {
            input: Input {
                id: option.name.clone(),
                label: label(&option.name),
                hint: (!option.description.trim().is_empty()).then(|| option.description.clone()),
                required: option.required,
                kind,
            },
        });
    }
    Form {
        title: format!("/{}", spec.name),
        blocks,
        submit_label: "Send".into(),
        callback: spec.name.clone(),
        state: String::new(),
    }
}

/// `due_date` -> `Due date`.
fn label(name: &str) -> String {
    let spaced = name.replace(['_', '-'], " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => spaced,
    }
}

/// Makes `value` the input's initial value.
fn prefill(kind: &mut InputKind, value: &Value) {
    match (kind, value) {
        (InputKind::Text(t), Value::Text(s)) => t.initial = Some(s.clone()),
        (InputKind::Number(n), Value::Integer(i)) => n.initial = Some(i.to_string()),
        (InputKind::Number(n), Value::Decimal(d)) => n.initial = Some(d.clone()),
        (InputKind::Date(d), Value::Date(v)) => d.initial = Some(*v),
        (InputKind::DateTime(d), Value::DateTime(v)) => d.initial = Some(*v),
        (InputKind::Choice(c), Value::Choices(v)) => c.initial = v.clone(),
        (InputKind::Member(m), Value::Member(v)) => m.initial = Some(v.clone()),
        (InputKind::Checkbox(c), Value::Checkbox(v)) => c.initial = *v,
        _ => {}
    }
}

/// What was typed for each option (in declared order), or why the line as
/// a whole cannot be read.
fn assign(spec: &CommandSpec, args: &str) -> Result<Vec<Option<String>>, OptionError> {
    let options = &spec.options;
    let mut typed: Vec<Option<String>> = vec![None; options.len()];
    if args.is_empty() {
        return Ok(typed);
    }
    if let [only] = options.as_slice() {
        let value = named(args)
            .filter(|(name, _)| name.eq_ignore_ascii_case(&only.name))
            .map_or(args, |(_, value)| value);
        typed[0] = Some(value.replace("\\|", "|"));
        return Ok(typed);
    }
    let mut cursor = 0;
    for part in split(args) {
        let by_name = named(&part).and_then(|(name, value)| {
            options
                .iter()
                .position(|o| o.name.eq_ignore_ascii_case(name))
                .map(|i| (i, value.to_string()))
        });
        if let Some((i, value)) = by_name {
            if typed[i].is_some() {
                return Err(OptionError {
                    option: options[i].name.clone(),
                    message: format!("{} is given twice", options[i].name),
                });
            }
            typed[i] = Some(value);
            continue;
        }
        if part.is_empty() {
            cursor += 1;
            continue;
        }
        while cursor < options.len() && typed[cursor].is_some() {
            cursor += 1;
        }
        if cursor >= options.len() {
            return Err(OptionError {
                option: String::new(),
                message: format!(
                    "/{} takes at most {} values separated by |: {}",
                    spec.name,
                    options.len(),
                    usage(spec)
                ),
            });
        }
        typed[cursor] = Some(part);
        cursor += 1;
    }
    Ok(typed)
}

/// `name: value` when the part starts with a word and a colon.
fn named(part: &str) -> Option<(&str, &str)> {
    let (name, value) = part.split_once(':')?;
    let name = name.trim();
    let word = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    word.then(|| (name, value.trim()))
}

/// The `|`-separated parts, trimmed, with `\|` kept as `|`.
fn split(args: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut chars = args.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                chars.next();
                if let Some(p) = parts.last_mut() {
                    p.push('|');
                }
            }
            '|' => parts.push(String::new()),
            c => {
                if let Some(p) = parts.last_mut() {
                    p.push(c);
                }
            }
        }
    }
    parts.into_iter().map(|p| p.trim().to_string()).collect()
}

/// `title | when | [capacity]`: the options in order, optional ones in brackets.
pub(crate) fn usage(spec: &CommandSpec) -> String {
    spec.options
        .iter()
        .map(|o| {
            if o.required {
                o.name.clone()
            } else {
                format!("[{}]", o.name)
            }
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

/// What was typed for one option, read as its kind and held to its rules.
fn typed_value(
    option: &CommandOption,
    raw: &str,
    zone: &Zone,
    now: Timestamp,
) -> Result<Option<Value>, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    match &option.kind {
        InputKind::Text(t) => value::text(t, raw),
        InputKind::Number(n) => value::number(n, raw),
        InputKind::Date(d) => match parse_typed_date(raw, zone, now) {
            Some(date) => value::date(d, date),
            None => Err("is not a date I can read".into()),
        },
        InputKind::DateTime(d) => match parse_typed_date_time(raw, zone, now) {
            Some(ts) => value::date_time(d, ts, zone),
            None => Err("is not a date and time I can read".into()),
        },
        InputKind::Choice(c) => {
            let picked = match value::find_choice(&c.options, raw) {
                Some(one) => vec![one.value.clone()],
                None if c.multiple && raw.contains(',') => raw
                    .split(',')
                    .filter(|p| !p.trim().is_empty())
                    .map(|p| {
                        value::find_choice(&c.options, p)
                            .map(|o| o.value.clone())
                            .ok_or_else(|| {
                                format!("has {}, which is not one of the options", quoted(p.trim()))
                            })
                    })
                    .collect::<Result<Vec<_>, _>>()?,
                None => return Err("is not one of the options".into()),
            };
            value::choices(c, picked)
        }
        InputKind::Member(_) => value::member(raw),
        InputKind::Checkbox(_) => match raw.to_lowercase().as_str() {
            "yes" | "y" | "true" | "on" | "1" => Ok(Some(Value::Checkbox(true))),
            "no" | "n" | "false" | "off" | "0" => Ok(Some(Value::Checkbox(false))),
            _ => Err("is not yes or no".into()),
        },
        InputKind::File(_) => Err("is a file; files can only be chosen in a form".into()),
    }
}

/// `/event capacity: 10`: the command with one good value for `option`.
fn example(spec: &CommandSpec, option: &CommandOption) -> String {
    let value = match &option.kind {
        InputKind::Text(_) => "some text".to_string(),
        InputKind::Number(n) => n
            .initial
            .clone()
            .or_else(|| n.min.clone())
            .or_else(|| n.max.clone())
            .unwrap_or_else(|| {
                if n.integer || n.decimals == 0 {
                    "10"
                } else {
                    "2.5"
                }
                .into()
            }),
        InputKind::Date(_) => "tomorrow".into(),
        InputKind::DateTime(_) => "tomorrow 18:00".into(),
        InputKind::Choice(c) => {
            let labels: Vec<String> = c
                .options
                .iter()
                .take(5)
                .map(|o| clip(&o.label, 40))
                .collect();
            let more = if c.options.len() > 5 { ", ..." } else { "" };
            return format!(
                "/{} {}: {} (one of: {}{more})",
                spec.name,
                option.name,
                labels.first().cloned().unwrap_or_default(),
                labels.join(", ")
            );
        }
        InputKind::Member(_) => "@member-id".into(),
        InputKind::Checkbox(_) => "yes".into(),
        InputKind::File(_) => "(choose files in the form)".into(),
    };
    if spec.options.len() == 1 {
        format!("/{} {value}", spec.name)
    } else {
        format!("/{} {}: {value}", spec.name, option.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{Declared, check_form};
    use crate::model::{
        CheckboxInput, Choice, ChoiceInput, DateInput, DateTimeInput, MemberInput, NumberInput,
        TextInput,
    };
    use crate::time::parse_date_time;

    fn option(name: &str, required: bool, kind: InputKind) -> CommandOption {
        CommandOption {
            name: name.into(),
            description: format!("The {name}"),
            required,
            kind,
        }
    }

    fn event() -> CommandSpec {
        CommandSpec {
            name: "event".into(),
            description: "Plan an event".into(),
            options: vec![
                option(
                    "title",
                    true,
                    InputKind::Text(TextInput {
                        max_length: Some(40),
                        ..TextInput::default()
                    }),
                ),
                option("when", true, InputKind::DateTime(DateTimeInput::default())),
                option(
                    "capacity",
                    false,
                    InputKind::Number(NumberInput {
                        integer: true,
                        min: Some("1".into()),
                        ..NumberInput::default()
                    }),
                ),
            ],
        }
    }

    fn sh() -> Zone {
        Zone::parse("Asia/Shanghai").expect("zone")
    }

    /// Saturday 2030-06-01 10:00 in Shanghai.
    const NOW: Timestamp = 1_906_509_600_000;

    fn at(text: &str) -> Timestamp {
        parse_date_time(text, &sh()).expect(text)
    }

    fn nv(name: &str, value: Value) -> NamedValue {
        NamedValue {
            name: name.into(),
            value,
        }
    }

    fn parse(spec: &CommandSpec, args: &str) -> CommandArgs {
        parse_command(spec, args, &sh(), NOW)
    }

    fn usage_of(spec: &CommandSpec, args: &str) -> OptionError {
        match parse(spec, args) {
            CommandArgs::Usage(e) => e,
            other => panic!("{args}: expected a usage error, got {other:?}"),
        }
    }

    #[test]
    fn reads_positional_values_in_the_group_zone() {
        assert_eq!(
            parse(&event(), "Hike | 2030-06-01 09:00 | 10"),
            CommandArgs::Complete(vec![
                nv("title", Value::Text("Hike".into())),
                nv("when", Value::DateTime(at("2030-06-01 09:00"))),
                nv("capacity", Value::Integer(10)),
            ])
        );
        assert_eq!(
            parse(&event(), "Hike|tomorrow 18:00"),
            CommandArgs::Complete(vec![
                nv("title", Value::Text("Hike".into())),
                nv("when", Value::DateTime(at("2030-06-02 18:00"))),
            ])
        );
    }

    #[test]
    fn reads_named_values_in_any_order() {
        assert_eq!(
            parse(
                &event(),
                "Capacity: 5 | when: in 2h | title: Walk: the long one"
            ),
            CommandArgs::Complete(vec![
                nv("title", Value::Text("Walk: the long one".into())),
                nv("when", Value::DateTime(NOW + 2 * 3_600_000)),
                nv("capacity", Value::Integer(5)),
            ])
        );
        // Named then positional: the positional fills the next free option.
        assert_eq!(
            parse(&event(), "title: Hike | monday 9:00"),
            CommandArgs::Complete(vec![
                nv("title", Value::Text("Hike".into())),
                nv("when", Value::DateTime(at("2030-06-03 09:00"))),
            ])
        );
        // A word and a colon that is not an option is a value.
        assert_eq!(
            parse(&event(), r"Note: bring water \| snacks | today 18:00"),
            CommandArgs::Complete(vec![
                nv("title", Value::Text("Note: bring water | snacks".into())),
                nv("when", Value::DateTime(at("2030-06-01 18:00"))),
            ])
        );
    }

    #[test]
    fn a_bad_value_names_the_option_and_shows_an_example() {
        let e = usage_of(&event(), "Hike | tomorrow 9:00 | capacity: abc");
        assert_eq!(e.option, "capacity");
        assert_eq!(
            e.message,
            "capacity: \"abc\" must be a number. For example: /event capacity: 1"
        );
        let e = usage_of(&event(), "Hike | soonish");
        assert_eq!(e.option, "when");
        assert_eq!(
            e.message,
            "when: \"soonish\" is not a date and time I can read. For example: /event when: tomorrow 18:00"
        );
        let e = usage_of(&event(), "Hike | in 1h | 0");
        assert_eq!(e.option, "capacity");
        assert!(e.message.contains("must be at least 1"), "{}", e.message);
        let e = usage_of(&event(), "Hike | in 1h | 3 | extra");
        assert_eq!(e.option, "");
        assert_eq!(
            e.message,
            "/event takes at most 3 values separated by |: title | when | [capacity]"
        );
        let e = usage_of(&event(), "title: a | title: b");
        assert_eq!(e.option, "title");
    }

    #[test]
    fn missing_required_options_open_the_prefilled_form() {
        let CommandArgs::Incomplete { given, form } = parse(&event(), "Hike || 12") else {
            panic!("incomplete")
        };
        assert_eq!(
            given,
            vec![
                nv("title", Value::Text("Hike".into())),
                nv("capacity", Value::Integer(12))
            ]
        );
        assert_eq!(form.title, "/event");
        assert_eq!(form.callback, "event");
        let inputs: Vec<&Input> = form.inputs().collect();
        assert_eq!(inputs.len(), 3);
        assert_eq!(inputs[0].id, "title");
        assert_eq!(inputs[0].label, "Title");
        assert!(inputs[0].required);
        assert_eq!(inputs[0].hint.as_deref(), Some("The title"));
        assert!(
            matches!(&inputs[0].kind, InputKind::Text(t) if t.initial.as_deref() == Some("Hike"))
        );
        assert!(matches!(&inputs[1].kind, InputKind::DateTime(d) if d.initial.is_none()));
        assert!(
            matches!(&inputs[2].kind, InputKind::Number(n) if n.initial.as_deref() == Some("12"))
        );
        assert_eq!(check_form(&form, &Declared::default()), Ok(()));
        // Nothing typed: the empty form.
        let CommandArgs::Incomplete { given, form } = parse(&event(), "  ") else {
            panic!("incomplete")
        };
        assert!(given.is_empty());
        assert_eq!(form, command_form(&event(), &[]));
    }

    #[test]
    fn a_command_without_options_leaves_args_to_the_app() {
        let free = CommandSpec {
            name: "poll".into(),
            description: String::new(),
            options: vec![],
        };
        assert_eq!(
            parse(&free, "Lunch? | pizza | sushi"),
            CommandArgs::Complete(vec![])
        );
    }

    #[test]
    fn a_single_option_takes_the_whole_line() {
        let remind = CommandSpec {
            name: "note".into(),
            description: "Keep a note".into(),
            options: vec![option("text", true, InputKind::Text(TextInput::default()))],
        };
        assert_eq!(
            parse(&remind, "buy milk | eggs: 12"),
            CommandArgs::Complete(vec![nv("text", Value::Text("buy milk | eggs: 12".into()))])
        );
        assert_eq!(
            parse(&remind, "TEXT: buy milk"),
            CommandArgs::Complete(vec![nv("text", Value::Text("buy milk".into()))])
        );
        let count = CommandSpec {
            name: "roll".into(),
            description: String::new(),
            options: vec![option(
                "sides",
                true,
                InputKind::Number(NumberInput::default()),
            )],
        };
        assert_eq!(
            usage_of(&count, "many").message,
            "sides: \"many\" must be a number. For example: /roll 10"
        );
    }

    #[test]
    fn reads_every_kind_as_people_type_it() {
        let spec = CommandSpec {
            name: "setup".into(),
            description: String::new(),
            options: vec![
                option(
                    "price",
                    false,
                    InputKind::Number(NumberInput {
                        decimals: 2,
                        ..NumberInput::default()
                    }),
                ),
                option("day", false, InputKind::Date(DateInput::default())),
                option(
                    "colour",
                    false,
                    InputKind::Choice(ChoiceInput {
                        options: vec![
                            Choice {
                                value: "r".into(),
                                label: "Red".into(),
                            },
                            Choice {
                                value: "b".into(),
                                label: "Deep blue".into(),
                            },
                        ],
                        multiple: true,
                        initial: vec![],
                    }),
                ),
                option("host", false, InputKind::Member(MemberInput::default())),
                option(
                    "public",
                    false,
                    InputKind::Checkbox(CheckboxInput::default()),
                ),
            ],
        };
        assert_eq!(
            parse(&spec, "2.5 | friday | deep BLUE, red | @u-9 | Yes"),
            CommandArgs::Complete(vec![
                nv("price", Value::Decimal("2.5".into())),
                nv(
                    "day",
                    Value::Date(crate::model::Date {
                        year: 2030,
                        month: 6,
                        day: 7
                    })
                ),
                nv("colour", Value::Choices(vec!["b".into(), "r".into()])),
                nv("host", Value::Member("u-9".into())),
                nv("public", Value::Checkbox(true)),
            ])
        );
        assert_eq!(
            parse(&spec, "colour: R | public: off"),
            CommandArgs::Complete(vec![
                nv("colour", Value::Choices(vec!["r".into()])),
                nv("public", Value::Checkbox(false)),
            ])
        );
        let e = usage_of(&spec, "colour: green");
        assert_eq!(
            e.message,
            "colour: \"green\" is not one of the options. For example: /setup colour: Red (one of: Red, Deep blue)"
        );
        assert_eq!(
            usage_of(&spec, "colour: red, green").message,
            "colour: \"red, green\" has \"green\", which is not one of the options. For example: /setup colour: Red (one of: Red, Deep blue)"
        );
        assert!(
            usage_of(&spec, "public: maybe")
                .message
                .contains("is not yes or no")
        );
        assert!(
            usage_of(&spec, "day: someday")
                .message
                .contains("is not a date I can read")
        );
        assert!(
            usage_of(&spec, "host: two words")
                .message
                .contains("is not a member")
        );
    }
}
