//! A submitted form: the raw JSON a client sent, checked against the form's
//! inputs and turned into typed values, or the errors to show beside them.

use serde_json::{Map, Value as Json};

use crate::limits::MAX_INPUTS;
use crate::model::{Date, FieldError, Form, Input, InputKind, MemberId, NamedValue, Value};
use crate::time::{parse_date, parse_date_time};
use crate::value;
use crate::zone::Zone;

/// A submission the host accepted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Submitted {
    /// Each filled-in input's value, in the form's order (checkboxes are
    /// always there, `false` when not ticked).
    pub values: Vec<NamedValue>,
    /// The member inputs' values (input id, member id): the caller checks
    /// that each is a member of the group and answers a [`FieldError`] for
    /// that input otherwise.
    pub members: Vec<(String, MemberId)>,
    /// The file inputs' values (input id, file ids): the caller checks that
    /// each file is one the submitting member uploaded to this group, of a
    /// type the input accepts, and answers a [`FieldError`] otherwise.
    pub files: Vec<(String, Vec<String>)>,
}

/// Checks what a client submitted for `form` (input id -> JSON value), with
/// dates and times read in the group's `zone`.
///
/// Accepted JSON per input kind: text: a string; number: a number or a
/// numeric string; date: `"2030-06-01"` (or `{"year","month","day"}`);
/// date-time: ISO 8601 with or without an offset (`"2030-06-01T09:00"`,
/// `"2030-06-01 09:00"`, `"2030-06-01T01:00:00Z"`; without one it is read in
/// `zone`), or milliseconds since 1970; choice: a string or an array of
/// strings (option values); member: a member id; checkbox: a boolean (or
/// `"on"`, `"true"`, `"false"`, ...). `null`, `""` and `[]` are empty.
///
/// Every input is checked; the errors (one per input, in the form's order,
/// then ids the form does not have) come back together.
pub fn check_submission(
    form: &Form,
    raw: &Map<String, Json>,
    zone: &Zone,
) -> Result<Submitted, Vec<FieldError>> {
    let mut out = Submitted::default();
    let mut errors = Vec::new();
    for input in form.inputs() {
        let given = raw.get(&input.id).unwrap_or(&Json::Null);
        match checked(input, given, zone) {
            Ok(Some(value)) => {
                if let Value::Member(id) = &value {
                    out.members.push((input.id.clone(), id.clone()));
                }
                if let Value::Files(ids) = &value {
                    out.files.push((input.id.clone(), ids.clone()));
                }
                out.values.push(NamedValue {
                    name: input.id.clone(),
                    value,
                });
            }
            Ok(None) if input.required => errors.push(FieldError {
                input: input.id.clone(),
                message: match input.kind {
                    InputKind::Choice(_) => "must be chosen",
                    InputKind::Checkbox(_) => "must be ticked",
                    InputKind::File(_) => "needs a file",
                    _ => "must be filled in",
                }
                .into(),
            }),
            Ok(None) => {}
            Err(message) => errors.push(FieldError {
                input: input.id.clone(),
                message,
            }),
        }
    }
    let unknown = raw
        .keys()
        .filter(|k| !form.inputs().any(|i| &i.id == *k))
        .take(MAX_INPUTS)
        .map(|k| FieldError {
            input: value::clip(k, 64),
            message: "is not a field of this form".into(),
        });
    errors.extend(unknown);
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// One input's value, `Ok(None)` when empty.
fn checked(input: &Input, given: &Json, zone: &Zone) -> Result<Option<Value>, String> {
    match &input.kind {
        InputKind::Checkbox(_) => checkbox(input.required, given),
        _ if given.is_null() => Ok(None),
        InputKind::Text(t) => match given {
            Json::String(s) => value::text(t, s),
            _ => Err("must be text".into()),
        },
        InputKind::Number(n) => match given {
            Json::String(s) => value::number(n, s),
            Json::Number(x) => value::number(n, &x.to_string()),
            _ => Err("must be a number".into()),
        },
        InputKind::Date(d) => {
            let date = match given {
                Json::String(s) if s.trim().is_empty() => return Ok(None),
                Json::String(s) => parse_date(s),
                Json::Object(_) => serde_json::from_value::<Date>(given.clone()).ok(),
                _ => None,
            };
            match date.filter(|d| crate::zone::to_naive(*d).is_some()) {
                Some(date) => value::date(d, date),
                None => Err("must be a date, like 2030-06-01".into()),
            }
        }
        InputKind::DateTime(d) => {
            let ts = match given {
                Json::String(s) if s.trim().is_empty() => return Ok(None),
                Json::String(s) => parse_date_time(s, zone),
                Json::Number(x) => x.as_i64(),
                _ => None,
            };
            match ts {
                Some(ts) => value::date_time(d, ts, zone),
                None => Err("must be a date and time, like 2030-06-01 09:00".into()),
            }
        }
        InputKind::Choice(c) => {
            let chosen = match given {
                Json::String(s) => vec![s.clone()],
                Json::Array(items) => items
                    .iter()
                    .map(|i| i.as_str().map(String::from))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| "must be one or more of the options".to_string())?,
                _ => return Err("must be one of the options".into()),
            };
            value::choices(c, chosen)
        }
        InputKind::Member(_) => match given {
            Json::String(s) => value::member(s),
            _ => Err("must be a member of this group".into()),
        },
        InputKind::File(f) => files(f, given),
    }
}

/// File ids (a string or an array of strings), at most `max_files`, each
/// a well-formed id; whose files they are is the caller's to check.
fn files(input: &crate::model::FileInput, given: &Json) -> Result<Option<Value>, String> {
    let ids: Vec<String> = match given {
        Json::String(s) if s.is_empty() => Vec::new(),
        Json::String(s) => vec![s.clone()],
        Json::Array(items) => items
            .iter()
            .map(|i| i.as_str().map(String::from))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| "must be a list of uploaded files".to_string())?,
        _ => return Err("must be a list of uploaded files".into()),
    };
    if ids.is_empty() {
        return Ok(None);
    }
    if ids.len() > usize::from(input.max_files) {
        return Err(format!(
            "has {} files; at most {} may be given",
            ids.len(),
            input.max_files
        ));
    }
    let well_formed = |id: &String| {
        !id.is_empty()
            && id.len() <= 64
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if !ids.iter().all(well_formed) {
        return Err("names a file that was not uploaded".into());
    }
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    if unique.len() != ids.len() {
        return Err("names the same file twice".into());
    }
    Ok(Some(Value::Files(ids)))
}

/// A checkbox is never empty: absent means not ticked. A required one that
/// is not ticked counts as empty, so it is refused as "must be ticked".
fn checkbox(required: bool, given: &Json) -> Result<Option<Value>, String> {
    let ticked = match given {
        Json::Null => false,
        Json::Bool(b) => *b,
        Json::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "on" | "true" | "yes" | "1" => true,
            "off" | "false" | "no" | "0" | "" => false,
            _ => return Err("must be ticked or not".into()),
        },
        _ => return Err("must be ticked or not".into()),
    };
    Ok((ticked || !required).then_some(Value::Checkbox(ticked)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        Block, CheckboxInput, Choice, ChoiceInput, DateInput, DateTimeInput, MemberInput,
        NumberInput, TextInput,
    };
    use serde_json::json;

    fn input(id: &str, required: bool, kind: InputKind) -> Block {
        Block::Input {
            input: Input {
                id: id.into(),
                label: id.into(),
                hint: None,
                required,
                kind,
            },
        }
    }

    fn form() -> Form {
        Form {
            title: "Event".into(),
            blocks: vec![
                Block::Text {
                    text: "Plan an event".into(),
                },
                input(
                    "title",
                    true,
                    InputKind::Text(TextInput {
                        min_length: Some(3),
                        max_length: Some(40),
                        ..TextInput::default()
                    }),
                ),
                input(
                    "notes",
                    false,
                    InputKind::Text(TextInput {
                        multiline: true,
                        ..TextInput::default()
                    }),
                ),
                input(
                    "seats",
                    true,
                    InputKind::Number(NumberInput {
                        integer: true,
                        min: Some("1".into()),
                        max: Some("500".into()),
                        ..NumberInput::default()
                    }),
                ),
                input(
                    "price",
                    false,
                    InputKind::Number(NumberInput {
                        decimals: 2,
                        min: Some("0".into()),
                        ..NumberInput::default()
                    }),
                ),
                input(
                    "day",
                    false,
                    InputKind::Date(DateInput {
                        min: Some(Date {
                            year: 2030,
                            month: 1,
                            day: 1,
                        }),
                        ..DateInput::default()
                    }),
                ),
                input("when", true, InputKind::DateTime(DateTimeInput::default())),
                input(
                    "tags",
                    false,
                    InputKind::Choice(ChoiceInput {
                        options: vec![
                            Choice {
                                value: "outdoor".into(),
                                label: "Outdoor".into(),
                            },
                            Choice {
                                value: "family".into(),
                                label: "Family".into(),
                            },
                        ],
                        multiple: true,
                        initial: vec![],
                    }),
                ),
                input(
                    "level",
                    true,
                    InputKind::Choice(ChoiceInput {
                        options: vec![
                            Choice {
                                value: "easy".into(),
                                label: "Easy".into(),
                            },
                            Choice {
                                value: "hard".into(),
                                label: "Hard".into(),
                            },
                        ],
                        ..ChoiceInput::default()
                    }),
                ),
                input("host", false, InputKind::Member(MemberInput::default())),
                input("agree", true, InputKind::Checkbox(CheckboxInput::default())),
                input(
                    "public",
                    false,
                    InputKind::Checkbox(CheckboxInput::default()),
                ),
            ],
            submit_label: "Create".into(),
            callback: "create".into(),
            state: String::new(),
        }
    }

    fn submit(raw: Json) -> Result<Submitted, Vec<FieldError>> {
        let zone = Zone::parse("Asia/Shanghai").expect("zone");
        let Json::Object(map) = raw else {
            panic!("an object")
        };
        check_submission(&form(), &map, &zone)
    }

    fn errors(raw: Json) -> Vec<(String, String)> {
        submit(raw)
            .expect_err("refused")
            .into_iter()
            .map(|e| (e.input, e.message))
            .collect()
    }

    fn named(name: &str, value: Value) -> NamedValue {
        NamedValue {
            name: name.into(),
            value,
        }
    }

    #[test]
    fn types_every_kind_of_value() {
        let done = submit(json!({
            "title": "  Hike  ",
            "notes": "Bring water\r\nand snacks",
            "seats": "12",
            "price": 2.5,
            "day": "2030-06-01",
            "when": "2030-06-01 09:00",
            "tags": ["family", "outdoor"],
            "level": "hard",
            "host": "@u-7",
            "agree": true,
        }))
        .expect("accepted");
        assert_eq!(
            done.values,
            vec![
                named("title", Value::Text("Hike".into())),
                named("notes", Value::Text("Bring water\nand snacks".into())),
                named("seats", Value::Integer(12)),
                named("price", Value::Decimal("2.5".into())),
                named(
                    "day",
                    Value::Date(Date {
                        year: 2030,
                        month: 6,
                        day: 1
                    })
                ),
                named("when", Value::DateTime(1_906_506_000_000)),
                named(
                    "tags",
                    Value::Choices(vec!["family".into(), "outdoor".into()])
                ),
                named("level", Value::Choices(vec!["hard".into()])),
                named("host", Value::Member("u-7".into())),
                named("agree", Value::Checkbox(true)),
                named("public", Value::Checkbox(false)),
            ]
        );
        assert_eq!(done.members, vec![("host".to_string(), "u-7".to_string())]);
    }

    #[test]
    fn reads_date_times_in_the_group_zone_or_their_offset() {
        let base = json!({"title": "Hike", "seats": 1, "level": "easy", "agree": "on"});
        for (when, expected) in [
            (json!("2030-06-01T09:00"), 1_906_506_000_000_i64),
            (json!("2030-06-01T01:00:00Z"), 1_906_506_000_000),
            (json!("2030-06-01T03:00+02:00"), 1_906_506_000_000),
            (json!(1_906_506_000_000_i64), 1_906_506_000_000),
        ] {
            let mut raw = base.clone();
            raw["when"] = when.clone();
            let done = submit(raw).expect("accepted");
            assert!(
                done.values
                    .contains(&named("when", Value::DateTime(expected))),
                "{when}"
            );
        }
    }

    #[test]
    fn names_every_field_that_is_wrong() {
        let found = errors(json!({
            "title": "Hi",
            "notes": 5,
            "seats": "2.5",
            "price": "1.999",
            "day": "2029-12-31",
            "when": "next tuesday-ish",
            "tags": ["outdoor", "indoor"],
            "level": ["easy", "hard"],
            "host": "two words",
            "agree": false,
            "colour": "red",
        }));
        assert_eq!(
            found,
            vec![
                ("title".into(), "must be at least 3 characters".into()),
                ("notes".into(), "must be text".into()),
                ("seats".into(), "must be a whole number".into()),
                (
                    "price".into(),
                    "may have at most 2 digits after the decimal point".into()
                ),
                ("day".into(), "must be on or after 2030-01-01".into()),
                (
                    "when".into(),
                    "must be a date and time, like 2030-06-01 09:00".into()
                ),
                ("tags".into(), "\"indoor\" is not one of the options".into()),
                ("level".into(), "must be just one of the options".into()),
                ("host".into(), "is not a member of this group".into()),
                ("agree".into(), "must be ticked".into()),
                ("colour".into(), "is not a field of this form".into()),
            ]
        );
    }

    #[test]
    fn required_inputs_must_be_filled_in() {
        let found = errors(json!({"title": "   ", "seats": "", "level": [], "when": null}));
        assert_eq!(
            found,
            vec![
                ("title".into(), "must be filled in".into()),
                ("seats".into(), "must be filled in".into()),
                ("when".into(), "must be filled in".into()),
                ("level".into(), "must be chosen".into()),
                ("agree".into(), "must be ticked".into()),
            ]
        );
    }

    #[test]
    fn optional_inputs_left_empty_are_absent() {
        let done = submit(json!({
            "title": "Hike", "seats": 3, "when": "2030-06-01 09:00", "level": "easy",
            "agree": true, "notes": "", "price": null, "day": "", "tags": [], "host": "",
        }))
        .expect("accepted");
        let names: Vec<&str> = done.values.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(
            names,
            ["title", "seats", "when", "level", "agree", "public"]
        );
        assert!(done.members.is_empty());
    }

    #[test]
    fn refuses_wrong_json_types_and_bad_dates() {
        let found = errors(json!({
            "title": ["Hike"], "seats": true, "when": {"at": 1}, "level": 3,
            "agree": "maybe", "day": "2030-02-30", "host": 42, "tags": [1],
        }));
        assert_eq!(
            found,
            vec![
                ("title".into(), "must be text".into()),
                ("seats".into(), "must be a number".into()),
                ("day".into(), "must be a date, like 2030-06-01".into()),
                (
                    "when".into(),
                    "must be a date and time, like 2030-06-01 09:00".into()
                ),
                ("tags".into(), "must be one or more of the options".into()),
                ("level".into(), "must be one of the options".into()),
                ("host".into(), "must be a member of this group".into()),
                ("agree".into(), "must be ticked or not".into()),
            ]
        );
    }

    #[test]
    fn numbers_at_the_bounds_are_exact() {
        let base =
            json!({"title": "Hike", "when": "2030-06-01 09:00", "level": "easy", "agree": true});
        for (seats, ok) in [
            (json!(500), true),
            (json!("500.0"), true),
            (json!(501), false),
            (json!(1), true),
            (json!(0), false),
            (json!(-1), false),
        ] {
            let mut raw = base.clone();
            raw["seats"] = seats.clone();
            assert_eq!(submit(raw).is_ok(), ok, "{seats}");
        }
        let mut raw = base.clone();
        raw["seats"] = json!(1);
        raw["price"] = json!(0.1);
        let done = submit(raw).expect("accepted");
        assert!(
            done.values
                .contains(&named("price", Value::Decimal("0.1".into())))
        );
    }

    #[test]
    fn a_date_may_come_as_the_value_json() {
        let raw = json!({"title": "Hike", "seats": 1, "when": "2030-06-01 09:00", "level": "easy",
            "agree": true, "day": {"year": 2030, "month": 6, "day": 2}});
        let done = submit(raw).expect("accepted");
        assert!(done.values.contains(&named(
            "day",
            Value::Date(Date {
                year: 2030,
                month: 6,
                day: 2
            })
        )));
    }
}
