//! The `/help` answer, generated from what the group's apps declare.

use crate::command::usage;
use crate::limits::{
    MAX_BLOCKS, MAX_FIELDS, MAX_LABEL_CHARS, MAX_MESSAGE_TEXT_CHARS, MAX_TEXT_CHARS,
    MAX_VALUE_CHARS,
};
use crate::model::{Block, CommandOption, CommandSpec, Field, InputKind, Message};

/// One message listing every app's commands (app title, commands) with their
/// options: name, whether it is required, its kind and choices, its
/// description. The blocks are headers and fields (plain text: nothing an
/// app wrote is read as markup); `text` says the same for clients without
/// blocks. Both stay within the message limits: what does not fit is
/// counted in a last line instead.
pub fn help_message(apps: &[(String, Vec<CommandSpec>)]) -> Message {
    let total: usize = apps.iter().map(|(_, commands)| commands.len()).sum();
    if total == 0 {
        return Message {
            text: "No app in this group answers commands yet.".into(),
            blocks: Vec::new(),
        };
    }
    let mut text = String::from("Commands\n");
    let mut blocks = vec![Block::Header {
        text: "Commands".into(),
    }];
    let mut shown = 0;
    'apps: for (title, commands) in apps.iter().filter(|(_, c)| !c.is_empty()) {
        let title = one_line(title);
        // A header and at least one fields block, and room for the last line.
        if blocks.len() + 3 > MAX_BLOCKS {
            break;
        }
        text.push_str(&format!("\n{title}\n"));
        blocks.push(Block::Header {
            text: fit(&title, MAX_TEXT_CHARS),
        });
        for chunk in commands.chunks(MAX_FIELDS) {
            if blocks.len() + 2 > MAX_BLOCKS {
                break 'apps;
            }
            let fields = chunk
                .iter()
                .map(|command| Field {
                    name: fit(&format!("/{}", command.name), MAX_LABEL_CHARS),
                    value: fit(&describe(command), MAX_VALUE_CHARS),
                })
                .collect();
            blocks.push(Block::Fields { fields });
            for command in chunk {
                text.push_str(&summary(command));
                text.push('\n');
            }
            shown += chunk.len();
        }
    }
    if shown < total {
        let more = total - shown;
        let line = format!(
            "{more} more command{} not shown.",
            if more == 1 { " is" } else { "s are" }
        );
        text.push_str(&format!("\n{line}"));
        blocks.push(Block::Context { text: line });
    }
    Message {
        text: fit(text.trim_end(), MAX_MESSAGE_TEXT_CHARS),
        blocks,
    }
}

/// `/event title | [capacity] — Plan an event`.
fn summary(command: &CommandSpec) -> String {
    let mut line = format!("/{}", command.name);
    if !command.options.is_empty() {
        line.push(' ');
        line.push_str(&usage(command));
    }
    let description = one_line(&command.description);
    if !description.is_empty() {
        line.push_str(" — ");
        line.push_str(&description);
    }
    line
}

/// A command's help: its description, how to type it, and one line per option.
fn describe(command: &CommandSpec) -> String {
    let mut out = String::new();
    if !command.description.trim().is_empty() {
        out.push_str(&one_line(&command.description));
        out.push('\n');
    }
    if command.options.is_empty() {
        return out.trim_end().to_string();
    }
    out.push_str(&format!("/{} {}", command.name, usage(command)));
    for option in &command.options {
        out.push('\n');
        out.push_str(&option_line(option));
    }
    out
}

/// `capacity (optional, a whole number from 1): How many seats`.
fn option_line(option: &CommandOption) -> String {
    let need = if option.required {
        "required"
    } else {
        "optional"
    };
    let line = format!("• {} ({need}, {})", option.name, kind_words(&option.kind));
    if option.description.trim().is_empty() {
        line
    } else {
        format!("{line}: {}", one_line(&option.description))
    }
}

fn kind_words(kind: &InputKind) -> String {
    match kind {
        InputKind::Text(_) => "text".into(),
        InputKind::Number(n) => {
            let what = if n.integer || n.decimals == 0 {
                "a whole number"
            } else {
                "a number"
            };
            match (&n.min, &n.max) {
                (Some(min), Some(max)) => format!("{what} from {min} to {max}"),
                (Some(min), None) => format!("{what} from {min}"),
                (None, Some(max)) => format!("{what} up to {max}"),
                (None, None) => what.into(),
            }
        }
        InputKind::Date(_) => "a date".into(),
        InputKind::DateTime(_) => "a date and time".into(),
        InputKind::Choice(c) => {
            let labels: Vec<String> = c.options.iter().map(|o| one_line(&o.label)).collect();
            let head = if c.multiple { "any of" } else { "one of" };
            format!("{head}: {}", labels.join(", "))
        }
        InputKind::Member(_) => "a member".into(),
        InputKind::Checkbox(_) => "yes or no".into(),
        InputKind::File(f) if f.max_files > 1 => format!("up to {} files", f.max_files),
        InputKind::File(_) => "a file".into(),
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// At most `max` characters, ending in `…` when cut.
fn fit(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{Declared, check_message};
    use crate::model::{Choice, ChoiceInput, NumberInput, TextInput};

    fn spec(name: &str, options: Vec<CommandOption>) -> CommandSpec {
        CommandSpec {
            name: name.into(),
            description: format!("Do {name}"),
            options,
        }
    }

    fn apps() -> Vec<(String, Vec<CommandSpec>)> {
        vec![
            (
                "Events".into(),
                vec![spec(
                    "event",
                    vec![
                        CommandOption {
                            name: "title".into(),
                            description: "What it is".into(),
                            required: true,
                            kind: InputKind::Text(TextInput::default()),
                        },
                        CommandOption {
                            name: "capacity".into(),
                            description: "How many <seats|places>".into(),
                            required: false,
                            kind: InputKind::Number(NumberInput {
                                integer: true,
                                min: Some("1".into()),
                                ..NumberInput::default()
                            }),
                        },
                        CommandOption {
                            name: "kind".into(),
                            description: String::new(),
                            required: false,
                            kind: InputKind::Choice(ChoiceInput {
                                options: vec![
                                    Choice {
                                        value: "walk".into(),
                                        label: "Walk".into(),
                                    },
                                    Choice {
                                        value: "ride".into(),
                                        label: "Bike ride".into(),
                                    },
                                ],
                                ..ChoiceInput::default()
                            }),
                        },
                    ],
                )],
            ),
            ("Quiet".into(), vec![]),
            ("Polls".into(), vec![spec("poll", vec![])]),
        ]
    }

    #[test]
    fn lists_every_command_with_its_options() {
        let help = help_message(&apps());
        assert_eq!(
            help.text,
            "Commands\n\nEvents\n/event title | [capacity] | [kind] — Do event\n\nPolls\n/poll — Do poll"
        );
        assert_eq!(help.blocks.len(), 5);
        let Block::Fields { fields } = &help.blocks[2] else {
            panic!("fields")
        };
        assert_eq!(fields[0].name, "/event");
        assert_eq!(
            fields[0].value,
            "Do event\n/event title | [capacity] | [kind]\n\
             • title (required, text): What it is\n\
             • capacity (optional, a whole number from 1): How many <seats|places>\n\
             • kind (optional, one of: Walk, Bike ride)"
        );
        let Block::Fields { fields } = &help.blocks[4] else {
            panic!("fields")
        };
        assert_eq!(fields[0].value, "Do poll");
        // App text like `<seats|places>` is in plain fields, never markup.
        assert_eq!(check_message(&help, &Declared::default()), Ok(()));
    }

    #[test]
    fn says_so_when_nothing_answers_commands() {
        let help = help_message(&[("Quiet".into(), vec![])]);
        assert_eq!(help.text, "No app in this group answers commands yet.");
        assert_eq!(check_message(&help, &Declared::default()), Ok(()));
    }

    #[test]
    fn stays_within_the_message_limits() {
        let many: Vec<(String, Vec<CommandSpec>)> = (0..40)
            .map(|a| {
                let commands = (0..25)
                    .map(|c| spec(&format!("c{a}-{c}"), vec![]))
                    .collect();
                (format!("App {a}"), commands)
            })
            .collect();
        let help = help_message(&many);
        assert_eq!(check_message(&help, &Declared::default()), Ok(()));
        assert!(help.blocks.len() <= MAX_BLOCKS);
        let Some(Block::Context { text }) = help.blocks.last() else {
            panic!("a last line")
        };
        let shown: usize = help
            .blocks
            .iter()
            .map(|b| match b {
                Block::Fields { fields } => fields.len(),
                _ => 0,
            })
            .sum();
        assert_eq!(
            text,
            &format!("{} more commands are not shown.", 1000 - shown)
        );
        assert!(help.text.chars().count() <= MAX_MESSAGE_TEXT_CHARS);
        assert!(help.text.ends_with('…'));
    }
}
