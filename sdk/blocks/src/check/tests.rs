use super::*;
use crate::model::{
    Button, ButtonStyle, CheckboxInput, ChoiceInput, CommandOption, Confirm, Date, DateInput,
    DateTimeInput, Field, MemberInput, MemberPicker, SelectMenu, TextInput,
};

fn declared() -> Declared {
    Declared::new(["vote", "close"])
}

fn button(action: &str, payload: &str) -> Element {
    Element::Button(Button {
        label: "Vote".into(),
        action: action.into(),
        payload: payload.into(),
        style: ButtonStyle::Primary,
        confirm: None,
    })
}

fn choice(value: &str) -> Choice {
    Choice {
        value: value.into(),
        label: value.to_uppercase(),
    }
}

fn card() -> Message {
    Message {
        text: "Lunch? pizza 2, sushi 1".into(),
        blocks: vec![
            Block::Header {
                text: "Lunch?".into(),
            },
            Block::Text {
                text: "*Vote* by <https://example.com/poll|tomorrow>\nor never".into(),
            },
            Block::Fields {
                fields: vec![Field {
                    name: "pizza".into(),
                    value: "2".into(),
                }],
            },
            Block::Divider,
            Block::Actions {
                elements: vec![
                    button("vote", r#"{"option":0}"#),
                    button("vote", ""),
                    Element::Select(SelectMenu {
                        action: "vote".into(),
                        payload: "{}".into(),
                        placeholder: "Pick one".into(),
                        options: vec![choice("a"), choice("b")],
                    }),
                    Element::MemberPicker(MemberPicker {
                        action: "close".into(),
                        payload: "[]".into(),
                        placeholder: "Who".into(),
                    }),
                ],
            },
            Block::Context {
                text: "3 votes\tso far".into(),
            },
        ],
    }
}

fn message_error(message: &Message) -> String {
    check_message(message, &declared())
        .expect_err("refused")
        .to_string()
}

fn with_block(block: Block) -> Message {
    let mut m = card();
    m.blocks.push(block);
    m
}

#[test]
fn accepts_a_card_with_every_display_block() {
    assert_eq!(check_message(&card(), &declared()), Ok(()));
    let text_only = Message {
        text: "hello".into(),
        blocks: vec![],
    };
    assert_eq!(check_message(&text_only, &Declared::default()), Ok(()));
}

#[test]
fn names_the_path_and_the_limit_of_a_payload() {
    let mut m = card();
    let big = format!("\"{}\"", "x".repeat(8998));
    m.blocks[4] = Block::Actions {
        elements: vec![button("vote", "{}"), button("vote", &big)],
    };
    m.blocks.swap(3, 4);
    assert_eq!(
        message_error(&m),
        "blocks[3].elements[1].payload is 9000 bytes, over the 8192-byte limit"
    );
}

#[test]
fn refuses_what_breaks_a_message_rule() {
    let cases: Vec<(Message, &str)> = vec![
        (Message::default(), "message has no text and no blocks"),
        (
            Message {
                text: "x".repeat(MAX_MESSAGE_TEXT_CHARS + 1),
                blocks: vec![],
            },
            "text is 4001 characters, over the 4000-character limit",
        ),
        (
            Message {
                text: "bell\u{7}".into(),
                blocks: vec![],
            },
            "text holds the control character U+0007 at character 4",
        ),
        (
            Message {
                text: String::new(),
                blocks: vec![Block::Divider; MAX_BLOCKS + 1],
            },
            "blocks hold 51 blocks, over the limit of 50",
        ),
        (
            with_block(Block::Header {
                text: "two\nlines".into(),
            }),
            "blocks[6].text holds a line break at character 3; it is one line",
        ),
        (
            with_block(Block::Text {
                text: "x".repeat(MAX_TEXT_CHARS + 1),
            }),
            "blocks[6].text is 3001 characters, over the 3000-character limit",
        ),
        (
            with_block(Block::Text {
                text: "see <javascript:alert(1)|this>".into(),
            }),
            "blocks[6].text has a link `<javascript:alert(1)|this>` that is not an https: or http: address",
        ),
        (
            with_block(Block::Fields {
                fields: vec![
                    Field {
                        name: "n".into(),
                        value: "v".into()
                    };
                    MAX_FIELDS + 1
                ],
            }),
            "blocks[6].fields hold 11 fields, over the limit of 10",
        ),
        (
            with_block(Block::Fields {
                fields: vec![Field {
                    name: "n".repeat(MAX_LABEL_CHARS + 1),
                    value: "v".into(),
                }],
            }),
            "blocks[6].fields[0].name is 151 characters, over the 150-character limit",
        ),
        (
            with_block(Block::Actions {
                elements: vec![button("vote", ""); MAX_ELEMENTS + 1],
            }),
            "blocks[6].elements hold 6 elements, over the limit of 5",
        ),
        (
            with_block(Block::Actions {
                elements: vec![button("delete-everything", "")],
            }),
            "blocks[6].elements[0].action \"delete-everything\" is not one of the actions the app declared in describe",
        ),
        (
            with_block(Block::Actions {
                elements: vec![button("vote", "{not json")],
            }),
            "blocks[6].elements[0].payload is not JSON",
        ),
        (
            with_block(Block::Actions {
                elements: vec![button("vote", r#"{"a":"\u0000"}"#)],
            }),
            "blocks[6].elements[0].payload holds a NUL character",
        ),
        (
            with_block(Block::Actions {
                elements: vec![Element::Button(Button {
                    label: " ".into(),
                    action: "vote".into(),
                    payload: String::new(),
                    style: ButtonStyle::Default,
                    confirm: None,
                })],
            }),
            "blocks[6].elements[0].label is empty",
        ),
        (
            with_block(Block::Actions {
                elements: vec![Element::Button(Button {
                    label: "Close".into(),
                    action: "close".into(),
                    payload: String::new(),
                    style: ButtonStyle::Danger,
                    confirm: Some(Confirm {
                        title: "Sure?".into(),
                        text: "It cannot be undone.".into(),
                        confirm_label: "Close it".into(),
                        deny_label: String::new(),
                    }),
                })],
            }),
            "blocks[6].elements[0].confirm.deny_label is empty",
        ),
        (
            with_block(Block::Actions {
                elements: vec![Element::Select(SelectMenu {
                    action: "vote".into(),
                    payload: String::new(),
                    placeholder: "Pick".into(),
                    options: vec![],
                })],
            }),
            "blocks[6].elements[0].options are empty; give at least one option",
        ),
        (
            with_block(Block::Actions {
                elements: vec![Element::Select(SelectMenu {
                    action: "vote".into(),
                    payload: String::new(),
                    placeholder: "Pick".into(),
                    options: vec![choice("a"), choice("b"), choice("a")],
                })],
            }),
            "blocks[6].elements[0].options[2].value \"a\" is already the value of options[0]",
        ),
        (
            with_block(Block::Actions {
                elements: vec![Element::Select(SelectMenu {
                    action: "vote".into(),
                    payload: String::new(),
                    placeholder: "Pick".into(),
                    options: (0..=MAX_OPTIONS).map(|i| choice(&i.to_string())).collect(),
                })],
            }),
            "blocks[6].elements[0].options hold 101 options, over the limit of 100",
        ),
        (
            with_block(Block::Input {
                input: text_input("name"),
            }),
            "blocks[6] is an input; inputs belong in forms, not messages",
        ),
    ];
    for (message, says) in cases {
        let err = message_error(&message);
        assert!(err.starts_with(says), "{err}\n  should start with\n{says}");
    }
}

fn text_input(id: &str) -> Input {
    Input {
        id: id.into(),
        label: "Name".into(),
        hint: Some("Your name".into()),
        required: true,
        kind: InputKind::Text(TextInput::default()),
    }
}

fn input(id: &str, kind: InputKind) -> Block {
    Block::Input {
        input: Input {
            id: id.into(),
            label: id.into(),
            hint: None,
            required: false,
            kind,
        },
    }
}

fn form(blocks: Vec<Block>) -> Form {
    Form {
        title: "Grade".into(),
        blocks,
        submit_label: "Save".into(),
        callback: "grade".into(),
        state: r#"{"assignment":"a-1"}"#.into(),
    }
}

fn every_kind() -> Vec<Block> {
    vec![
        Block::Header {
            text: "Grade the answer".into(),
        },
        Block::Text {
            text: "Read it *carefully*.".into(),
        },
        Block::Input {
            input: text_input("comment"),
        },
        input(
            "score",
            InputKind::Number(NumberInput {
                integer: false,
                decimals: 1,
                min: Some("0".into()),
                max: Some("10".into()),
                initial: Some("7.5".into()),
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
                max: None,
                initial: Some(Date {
                    year: 2030,
                    month: 2,
                    day: 28,
                }),
            }),
        ),
        input(
            "due",
            InputKind::DateTime(DateTimeInput {
                min: Some(0),
                max: Some(10),
                initial: Some(5),
            }),
        ),
        input(
            "grade",
            InputKind::Choice(ChoiceInput {
                options: vec![choice("a"), choice("b")],
                multiple: false,
                initial: vec!["a".into()],
            }),
        ),
        input(
            "reviewer",
            InputKind::Member(MemberInput {
                initial: Some("u-1".into()),
            }),
        ),
        input(
            "final",
            InputKind::Checkbox(CheckboxInput { initial: true }),
        ),
    ]
}

fn form_error(blocks: Vec<Block>) -> String {
    check_form(&form(blocks), &declared())
        .expect_err("refused")
        .to_string()
}

#[test]
fn accepts_a_form_with_every_input_kind() {
    assert_eq!(check_form(&form(every_kind()), &declared()), Ok(()));
    let mut stateless = form(every_kind());
    stateless.state = String::new();
    assert_eq!(check_form(&stateless, &declared()), Ok(()));
}

#[test]
fn refuses_what_breaks_a_form_rule() {
    let mut f = form(every_kind());
    f.title = String::new();
    assert_eq!(
        check_form(&f, &declared()).map_err(|e| e.to_string()),
        Err("title is empty".into())
    );
    let mut f = form(every_kind());
    f.state = format!("\"{}\"", "s".repeat(MAX_PAYLOAD_BYTES));
    assert_eq!(
        check_form(&f, &declared()).map_err(|e| e.to_string()),
        Err("state is 8194 bytes, over the 8192-byte limit".into())
    );
    let mut f = form(every_kind());
    f.state = "{".into();
    assert!(
        check_form(&f, &declared())
            .expect_err("refused")
            .to_string()
            .starts_with("state is not JSON")
    );
    let mut f = form(every_kind());
    f.callback = "a\nb".into();
    assert!(
        check_form(&f, &declared())
            .expect_err("refused")
            .to_string()
            .starts_with("callback holds a line break")
    );

    let cases: Vec<(Vec<Block>, &str)> = vec![
        (
            vec![Block::Text { text: "hi".into() }],
            "blocks hold no input; a form needs at least one",
        ),
        (
            vec![
                Block::Input {
                    input: text_input("name"),
                },
                Block::Input {
                    input: text_input("name"),
                },
            ],
            "blocks[1].input.id \"name\" is already the id of blocks[0]",
        ),
        (
            vec![Block::Input {
                input: text_input("Full Name"),
            }],
            "blocks[0].input.id is \"Full Name\"; ids are 1 to 64 lowercase letters, digits, `-` and `_`",
        ),
        (
            vec![Block::Input {
                input: text_input(&"x".repeat(65)),
            }],
            "blocks[0].input.id is",
        ),
        (
            (0..=MAX_INPUTS)
                .map(|i| Block::Input {
                    input: text_input(&format!("i{i}")),
                })
                .collect(),
            "inputs hold 21 inputs, over the limit of 20",
        ),
        (
            vec![
                Block::Input {
                    input: text_input("name"),
                },
                Block::Actions {
                    elements: vec![button("vote", "")],
                },
            ],
            "blocks[1] is an actions block; forms hold text, headers, fields, dividers, context lines and inputs",
        ),
        (
            vec![input(
                "t",
                InputKind::Text(TextInput {
                    min_length: Some(5),
                    max_length: Some(2),
                    ..TextInput::default()
                }),
            )],
            "blocks[0].input.kind.min_length is 5, more than max_length (2)",
        ),
        (
            vec![input(
                "t",
                InputKind::Text(TextInput {
                    max_length: Some(5000),
                    ..TextInput::default()
                }),
            )],
            "blocks[0].input.kind.max_length is 5000, over the 3000-character limit",
        ),
        (
            vec![input(
                "t",
                InputKind::Text(TextInput {
                    max_length: Some(3),
                    initial: Some("long".into()),
                    ..TextInput::default()
                }),
            )],
            "blocks[0].input.kind.initial is \"long\", which the input itself refuses (must be at most 3 characters)",
        ),
        (
            vec![input(
                "n",
                InputKind::Number(NumberInput {
                    min: Some("abc".into()),
                    ..NumberInput::default()
                }),
            )],
            "blocks[0].input.kind.min is \"abc\", which is not a number",
        ),
        (
            vec![input(
                "n",
                InputKind::Number(NumberInput {
                    min: Some("10".into()),
                    max: Some("9.99".into()),
                    decimals: 2,
                    ..NumberInput::default()
                }),
            )],
            "blocks[0].input.kind.min is 10, more than max (9.99)",
        ),
        (
            vec![input(
                "n",
                InputKind::Number(NumberInput {
                    decimals: 19,
                    ..NumberInput::default()
                }),
            )],
            "blocks[0].input.kind.decimals is 19, over the limit of 18 digits",
        ),
        (
            vec![input(
                "n",
                InputKind::Number(NumberInput {
                    integer: true,
                    max: Some("5".into()),
                    initial: Some("6".into()),
                    ..NumberInput::default()
                }),
            )],
            "blocks[0].input.kind.initial is \"6\", which the input itself refuses (must be at most 5)",
        ),
        (
            vec![input(
                "d",
                InputKind::Date(DateInput {
                    min: Some(Date {
                        year: 2030,
                        month: 2,
                        day: 30,
                    }),
                    ..DateInput::default()
                }),
            )],
            "blocks[0].input.kind.min is 2030-02-30, which is not a calendar date",
        ),
        (
            vec![input(
                "d",
                InputKind::Date(DateInput {
                    min: Some(Date {
                        year: 2031,
                        month: 1,
                        day: 1,
                    }),
                    max: Some(Date {
                        year: 2030,
                        month: 1,
                        day: 1,
                    }),
                    initial: None,
                }),
            )],
            "blocks[0].input.kind.min is 2031-01-01, more than max (2030-01-01)",
        ),
        (
            vec![input(
                "w",
                InputKind::DateTime(DateTimeInput {
                    min: Some(10),
                    max: Some(5),
                    initial: None,
                }),
            )],
            "blocks[0].input.kind.min is 10, more than max (5)",
        ),
        (
            vec![input(
                "c",
                InputKind::Choice(ChoiceInput {
                    options: vec![],
                    ..ChoiceInput::default()
                }),
            )],
            "blocks[0].input.kind.options are empty; give at least one option",
        ),
        (
            vec![input(
                "c",
                InputKind::Choice(ChoiceInput {
                    options: vec![choice("a"), choice("a")],
                    ..ChoiceInput::default()
                }),
            )],
            "blocks[0].input.kind.options[1].value \"a\" is already the value of options[0]",
        ),
        (
            vec![input(
                "c",
                InputKind::Choice(ChoiceInput {
                    options: vec![choice("a"), choice("b")],
                    multiple: false,
                    initial: vec!["a".into(), "b".into()],
                }),
            )],
            "blocks[0].input.kind.initial is [\"a\", \"b\"], which the input itself refuses (must be just one of the options)",
        ),
        (
            vec![input(
                "c",
                InputKind::Choice(ChoiceInput {
                    options: vec![choice("a")],
                    multiple: true,
                    initial: vec!["z".into()],
                }),
            )],
            "blocks[0].input.kind.initial is [\"z\"], which the input itself refuses (\"z\" is not one of the options)",
        ),
        (
            vec![input(
                "m",
                InputKind::Member(MemberInput {
                    initial: Some("two words".into()),
                }),
            )],
            "blocks[0].input.kind.initial is \"two words\", which the input itself refuses (is not a member of this group)",
        ),
        (
            vec![Block::Input {
                input: Input {
                    label: String::new(),
                    ..text_input("name")
                },
            }],
            "blocks[0].input.label is empty",
        ),
    ];
    for (blocks, says) in cases {
        let err = form_error(blocks);
        assert!(err.starts_with(says), "{err}\n  should start with\n{says}");
    }
}

fn option(name: &str, kind: InputKind) -> CommandOption {
    CommandOption {
        name: name.into(),
        description: "One line".into(),
        required: true,
        kind,
    }
}

fn command(name: &str, options: Vec<CommandOption>) -> CommandSpec {
    CommandSpec {
        name: name.into(),
        description: "Does things".into(),
        options,
    }
}

#[test]
fn checks_declared_commands() {
    let good = vec![
        command("poll", vec![]),
        command(
            "event",
            vec![
                option("title", InputKind::Text(TextInput::default())),
                option(
                    "capacity",
                    InputKind::Number(NumberInput {
                        integer: true,
                        min: Some("1".into()),
                        ..NumberInput::default()
                    }),
                ),
            ],
        ),
    ];
    assert_eq!(check_app_commands(&good), Ok(()));
    let text = || option("t", InputKind::Text(TextInput::default()));
    let cases: Vec<(Vec<CommandSpec>, &str)> = vec![
        (
            vec![command("Poll", vec![])],
            "commands[0].name is \"Poll\"; ids are",
        ),
        (
            vec![command("poll", vec![]), command("poll", vec![])],
            "commands[1].name \"poll\" is already the name of commands[0]",
        ),
        (
            vec![CommandSpec {
                description: "two\nlines".into(),
                ..command("poll", vec![])
            }],
            "commands[0].description holds a line break",
        ),
        (
            vec![command(
                "x",
                (0..=MAX_COMMAND_OPTIONS)
                    .map(|i| option(&format!("o{i}"), InputKind::Text(TextInput::default())))
                    .collect(),
            )],
            "commands[0].options hold 11 options, over the limit of 10",
        ),
        (
            vec![command("x", vec![text(), text()])],
            "commands[0].options[1].name \"t\" is already the name of options[0]",
        ),
        (
            vec![command(
                "x",
                vec![option("due date", InputKind::Date(DateInput::default()))],
            )],
            "commands[0].options[0].name is \"due date\"",
        ),
        (
            vec![command(
                "x",
                vec![option(
                    "n",
                    InputKind::Number(NumberInput {
                        max: Some("1,5".into()),
                        ..NumberInput::default()
                    }),
                )],
            )],
            "commands[0].options[0].kind.max is \"1,5\", which is not a number",
        ),
        (
            vec![command(
                "x",
                vec![option("c", InputKind::Choice(ChoiceInput::default()))],
            )],
            "commands[0].options[0].kind.options are empty",
        ),
    ];
    for (commands, says) in cases {
        let err = check_app_commands(&commands)
            .expect_err("refused")
            .to_string();
        assert!(err.starts_with(says), "{err}\n  should start with\n{says}");
    }
}

#[test]
fn a_chosen_value_must_be_an_option() {
    let options = [choice("a"), choice("b")];
    assert_eq!(check_choice(&options, "b"), Ok(()));
    assert_eq!(
        check_choice(&options, "B").map_err(|e| e.to_string()),
        Err("value \"B\" is not one of the options".into())
    );
}
