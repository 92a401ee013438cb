//! Commands typed in the group, and a parser for their arguments.
//!
//! The argument syntax is the one chat users already know:
//! `/poll "Lunch | dinner?" | noodles | rice --multiple --closes 2h` gives the
//! parts `Lunch | dinner?`, `noodles`, `rice` and the flags `multiple` and
//! `closes = 2h`. Double quotes (also the typographic `“ ”` phone keyboards
//! insert) keep `|`, `--` and spaces literal; `\"` is a quote inside quotes.

use std::collections::BTreeMap;

use qun_blocks::NamedValue;

use crate::value::{FromValue, find};
use crate::{Error, Result};

/// A command typed in the group: `/name args`, with the declared options
/// the host parsed and checked (or the member filled in on the command's form).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Command {
    /// The word after the slash.
    pub name: String,
    /// Everything after the command word, trimmed.
    pub args: String,
    /// The declared options given, typed (empty for a command without options).
    pub options: Vec<NamedValue>,
}

impl Command {
    /// A command called `name` with `args`.
    pub fn new(name: impl Into<String>, args: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            args: args.into().trim().to_owned(),
            options: Vec::new(),
        }
    }

    /// The same command with these typed options.
    pub fn with_options(mut self, options: Vec<NamedValue>) -> Self {
        self.options = options;
        self
    }

    /// The option `name` as a `T` (`Option<T>` for an optional one); errors
    /// name the option.
    ///
    /// ```
    /// # use qun_sdk::prelude::*;
    /// # use qun_sdk::blocks::{NamedValue, Value};
    /// let cmd = Command::new("event", "Hike | 2030-06-01 09:00 | 10").with_options(vec![
    ///     NamedValue { name: "capacity".into(), value: Value::Integer(10) },
    /// ]);
    /// assert_eq!(cmd.option::<u32>("capacity"), Ok(10));
    /// assert_eq!(cmd.option::<Option<String>>("price"), Ok(None));
    /// ```
    pub fn option<T: FromValue>(&self, name: &str) -> Result<T> {
        T::from_value(name, find(&self.options, name))
    }

    /// Parses a whole line such as `/poll a | b`; `None` if it does not start
    /// with `/` and a command word.
    pub fn from_line(line: &str) -> Option<Self> {
        let rest = line.trim_start().strip_prefix('/')?;
        let (name, args) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        (!name.is_empty()).then(|| Self::new(name, args))
    }

    /// Parses the arguments; the flags named in `value_flags` take a value
    /// (`--closes 2h` or `--closes=2h`), every other flag is a boolean.
    pub fn parse_args(&self, value_flags: &[&str]) -> Result<Args> {
        Args::parse(&self.args, value_flags)
    }
}

/// Parsed command arguments: `|`-separated parts and `--flags`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Args {
    parts: Vec<String>,
    flags: BTreeMap<String, Option<String>>,
}

#[derive(Debug)]
enum Token {
    Word { text: String, quoted: bool },
    Pipe,
}

impl Args {
    /// Parses `input`; see [`Command::parse_args`].
    ///
    /// Parts are trimmed and inner runs of spaces collapse to one (except inside
    /// quotes). An empty part (`a || b`, a trailing `|`) is `invalid`; a part
    /// that holds only flags (`a | b | --multiple`) is dropped.
    pub fn parse(input: &str, value_flags: &[&str]) -> Result<Self> {
        let tokens = tokenize(input)?;
        let mut args = Args::default();
        let mut words: Vec<String> = Vec::new();
        let mut part_had_flag = false;
        let mut pipes = 0;
        let mut tokens = tokens.into_iter().peekable();
        while let Some(token) = tokens.next() {
            match token {
                Token::Pipe => {
                    pipes += 1;
                    args.finish_part(&mut words, &mut part_had_flag, pipes, true)?;
                }
                Token::Word {
                    text,
                    quoted: false,
                } if text.starts_with("--") => {
                    part_had_flag = true;
                    let flag = &text[2..];
                    let (name, inline_value) = match flag.split_once('=') {
                        Some((name, value)) => (name, Some(value.to_owned())),
                        None => (flag, None),
                    };
                    if name.is_empty() {
                        return Err(Error::invalid(format!(
                            "`{text}` is not a flag; flags look like --name (put text in quotes to keep it as it is)"
                        )));
                    }
                    let value = match inline_value {
                        Some(value) => Some(value),
                        None if value_flags.contains(&name) => match tokens.next_if(is_value) {
                            Some(Token::Word { text, .. }) => Some(text),
                            _ => {
                                return Err(Error::invalid(format!(
                                    "--{name} needs a value, e.g. --{name} VALUE"
                                )));
                            }
                        },
                        None => None,
                    };
                    if args.flags.insert(name.to_owned(), value).is_some() {
                        return Err(Error::invalid(format!(
                            "--{name} is given twice; give it once"
                        )));
                    }
                }
                Token::Word { text, .. } => words.push(text),
            }
        }
        args.finish_part(&mut words, &mut part_had_flag, pipes + 1, pipes > 0)?;
        Ok(args)
    }

    fn finish_part(
        &mut self,
        words: &mut Vec<String>,
        had_flag: &mut bool,
        number: usize,
        piped: bool,
    ) -> Result<()> {
        let text = words.join(" ");
        words.clear();
        let only_flags = std::mem::take(had_flag);
        if !text.trim().is_empty() {
            self.parts.push(text);
        } else if !only_flags && (piped || !text.is_empty()) {
            return Err(Error::invalid(format!(
                "part {number} is empty; write some text between each `|` (or remove the extra `|`)"
            )));
        }
        Ok(())
    }

    /// The `|`-separated parts, trimmed, without flags.
    pub fn parts(&self) -> &[String] {
        &self.parts
    }

    /// True if `--name` was given (with or without a value).
    pub fn flag(&self, name: &str) -> bool {
        self.flags.contains_key(name)
    }

    /// The value of `--name VALUE`, if given with a value.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.flags.get(name).and_then(Option::as_deref)
    }

    /// Every flag given, by name, with its value if any.
    pub fn flags(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        self.flags
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_deref()))
    }

    /// `invalid` naming the first flag not in `known`, and listing the known ones.
    pub fn allow_only(&self, known: &[&str]) -> Result<()> {
        match self
            .flags
            .keys()
            .find(|name| !known.contains(&name.as_str()))
        {
            None => Ok(()),
            Some(name) => {
                let known: Vec<String> = known.iter().map(|k| format!("--{k}")).collect();
                Err(Error::invalid(format!(
                    "unknown flag --{name}; known flags: {}",
                    known.join(", ")
                )))
            }
        }
    }
}

fn is_value(token: &Token) -> bool {
    matches!(token, Token::Word { text, quoted } if *quoted || !text.starts_with("--"))
}

fn tokenize(input: &str) -> Result<Vec<Token>> {
    let mut tokens = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quoted = false;
    let mut chars = input.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' | '“' | '”' => {
                in_word = true;
                quoted = true;
                let mut closed = false;
                while let Some(q) = chars.next() {
                    match q {
                        '"' | '“' | '”' => {
                            closed = true;
                            break;
                        }
                        '\\' => match chars.next() {
                            Some(escaped) => word.push(escaped),
                            None => break,
                        },
                        other => word.push(other),
                    }
                }
                if !closed {
                    return Err(Error::invalid(
                        "a quote is not closed; add the closing `\"`",
                    ));
                }
            }
            '|' => {
                push_word(&mut tokens, &mut word, &mut in_word, &mut quoted);
                tokens.push(Token::Pipe);
            }
            c if c.is_whitespace() => push_word(&mut tokens, &mut word, &mut in_word, &mut quoted),
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    push_word(&mut tokens, &mut word, &mut in_word, &mut quoted);
    Ok(tokens)
}

fn push_word(tokens: &mut Vec<Token>, word: &mut String, in_word: &mut bool, quoted: &mut bool) {
    if std::mem::take(in_word) {
        tokens.push(Token::Word {
            text: std::mem::take(word),
            quoted: std::mem::take(quoted),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(input: &str) -> Result<Args> {
        Args::parse(input, &["closes"])
    }

    #[test]
    fn splits_parts_and_flags() {
        let args = parse(r#"Lunch  today? | "noodles | soup" | rice --multiple --closes 2h"#)
            .expect("parses");
        assert_eq!(args.parts(), ["Lunch today?", "noodles | soup", "rice"]);
        assert!(args.flag("multiple"));
        assert_eq!(args.value("closes"), Some("2h"));
        assert_eq!(args.value("multiple"), None);
        assert!(!args.flag("anonymous"));
    }

    #[test]
    fn flags_may_sit_anywhere_and_use_equals() {
        let args = parse("--anonymous Q? | a --closes=30m | b | --multiple").expect("parses");
        assert_eq!(args.parts(), ["Q?", "a", "b"]);
        assert_eq!(args.value("closes"), Some("30m"));
        assert!(args.flag("anonymous") && args.flag("multiple"));
        assert!(
            args.allow_only(&["anonymous", "closes", "multiple"])
                .is_ok()
        );
        let err = args.allow_only(&["closes"]).expect_err("unknown flags");
        assert!(err.message().contains("--anonymous"), "{err}");
    }

    #[test]
    fn quotes_keep_text_literal() {
        let args = parse(r#"“Is -- ok?” | "say \"hi\"" | "--multiple""#).expect("parses");
        assert_eq!(args.parts(), ["Is -- ok?", r#"say "hi""#, "--multiple"]);
        assert!(!args.flag("multiple"));
        let quoted_value = parse(r#"q | a --closes "2026-11-25 18:00Z""#).expect("parses");
        assert_eq!(quoted_value.value("closes"), Some("2026-11-25 18:00Z"));
    }

    #[test]
    fn rejects_malformed_input() {
        for bad in [
            "a || b",
            "a | b |",
            "| a",
            "a \"open",
            "a --closes",
            "a --closes --multiple",
            "a -- b",
            "a --x --x",
            " | ",
        ] {
            let err = parse(bad).expect_err(bad);
            assert_eq!(err.code(), "invalid", "{bad}: {err}");
        }
    }

    #[test]
    fn empty_input_has_no_parts() {
        assert!(parse("").expect("parses").parts().is_empty());
        assert!(parse("--multiple").expect("parses").flag("multiple"));
    }

    #[test]
    fn reads_command_lines() {
        assert_eq!(
            Command::from_line("/poll  a | b "),
            Some(Command::new("poll", "a | b"))
        );
        assert_eq!(Command::from_line("/poll"), Some(Command::new("poll", "")));
        assert_eq!(Command::from_line("poll"), None);
        assert_eq!(Command::from_line("/ x"), None);
    }
}
