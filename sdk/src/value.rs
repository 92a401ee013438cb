//! Typed values the host checked (form inputs, command options, menu
//! choices), read into Rust types with errors that name the field.
//!
//! ```
//! # use qun_sdk::prelude::*;
//! # use qun_sdk::blocks::{NamedValue, Value};
//! # fn main() -> Result<()> {
//! let submission = Submission::new("grade", vec![
//!     NamedValue { name: "score".into(), value: Value::Integer(90) },
//!     NamedValue { name: "comment".into(), value: Value::Text("Good".into()) },
//! ]);
//! let score: i64 = submission.value("score")?;
//! let comment: Option<String> = submission.value("comment")?;
//! let missing: Option<String> = submission.value("late")?;
//! assert_eq!((score, comment.as_deref(), missing), (90, Some("Good"), None));
//! let err = submission.value::<bool>("score").unwrap_err();
//! assert!(err.message().contains("`score`"), "{err}");
//! # Ok(()) }
//! ```

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use qun_blocks::{NamedValue, Value};

use crate::messaging::MessageId;
use crate::{Date, Error, Json, Result, Timestamp};

/// A member of the group, picked in a form or a member picker (the host
/// checked that they are in the group).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MemberId(pub String);

impl MemberId {
    /// The member's id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for MemberId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A decimal number as a canonical decimal string ("12.5"), exact.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Decimal(pub String);

impl std::fmt::Display for Decimal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A Rust type a checked value reads into. `name` is the input id or option
/// name, for the error; `value` is `None` when the member left it empty.
pub trait FromValue: Sized {
    /// Reads `value`; `invalid` naming `name` when it is absent or of
    /// another kind.
    fn from_value(name: &str, value: Option<&Value>) -> Result<Self>;
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Text(_) => "text",
        Value::Integer(_) => "a whole number",
        Value::Decimal(_) => "a decimal number",
        Value::Date(_) => "a date",
        Value::DateTime(_) => "a date and time",
        Value::Choices(_) => "a choice",
        Value::Member(_) => "a member",
        Value::Checkbox(_) => "a checkbox",
        Value::Files(_) => "files",
    }
}

fn missing(name: &str) -> Error {
    Error::invalid(format!("`{name}` is missing; give a value for it"))
}

fn wrong(name: &str, value: &Value, expected: &str) -> Error {
    Error::invalid(format!("`{name}` is {}, not {expected}", kind(value)))
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(name: &str, value: Option<&Value>) -> Result<Self> {
        value.map(|v| T::from_value(name, Some(v))).transpose()
    }
}

impl FromValue for Value {
    fn from_value(name: &str, value: Option<&Value>) -> Result<Self> {
        value.cloned().ok_or_else(|| missing(name))
    }
}

impl FromValue for String {
    /// Text, a decimal's string, a member's id, or the one value of a single choice.
    fn from_value(name: &str, value: Option<&Value>) -> Result<Self> {
        match value.ok_or_else(|| missing(name))? {
            Value::Text(s) | Value::Decimal(s) | Value::Member(s) => Ok(s.clone()),
            Value::Choices(c) if c.len() == 1 => Ok(c[0].clone()),
            Value::Integer(n) => Ok(n.to_string()),
            other => Err(wrong(name, other, "text")),
        }
    }
}

impl FromValue for i64 {
    fn from_value(name: &str, value: Option<&Value>) -> Result<Self> {
        match value.ok_or_else(|| missing(name))? {
            Value::Integer(n) => Ok(*n),
            other => Err(wrong(name, other, "a whole number")),
        }
    }
}

macro_rules! narrow_integer {
    ($($t:ty),*) => {$(
        impl FromValue for $t {
            fn from_value(name: &str, value: Option<&Value>) -> Result<Self> {
                let n = i64::from_value(name, value)?;
                <$t>::try_from(n).map_err(|_| {
                    Error::invalid(format!(
                        "`{name}` is {n}; it must be from {} to {}",
                        <$t>::MIN,
                        <$t>::MAX
                    ))
                })
            }
        }
    )*};
}
narrow_integer!(i32, u8, u16, u32, u64, usize);

impl FromValue for Decimal {
    /// A decimal, or a whole number written as a decimal.
    fn from_value(name: &str, value: Option<&Value>) -> Result<Self> {
        match value.ok_or_else(|| missing(name))? {
            Value::Decimal(s) => Ok(Decimal(s.clone())),
            Value::Integer(n) => Ok(Decimal(n.to_string())),
            other => Err(wrong(name, other, "a decimal number")),
        }
    }
}

impl FromValue for bool {
    fn from_value(name: &str, value: Option<&Value>) -> Result<Self> {
        match value {
            // An unticked checkbox may be left out.
            None => Ok(false),
            Some(Value::Checkbox(b)) => Ok(*b),
            Some(other) => Err(wrong(name, other, "a checkbox")),
        }
    }
}

impl FromValue for Date {
    fn from_value(name: &str, value: Option<&Value>) -> Result<Self> {
        match value.ok_or_else(|| missing(name))? {
            Value::Date(d) => Ok((*d).into()),
            other => Err(wrong(name, other, "a date")),
        }
    }
}

impl FromValue for Timestamp {
    fn from_value(name: &str, value: Option<&Value>) -> Result<Self> {
        match value.ok_or_else(|| missing(name))? {
            Value::DateTime(at) => Ok(Timestamp::from_millis(*at)),
            other => Err(wrong(name, other, "a date and time")),
        }
    }
}

impl FromValue for Vec<String> {
    /// The chosen values (empty when nothing was chosen).
    fn from_value(name: &str, value: Option<&Value>) -> Result<Self> {
        match value {
            None => Ok(Vec::new()),
            Some(Value::Choices(c)) => Ok(c.clone()),
            Some(other) => Err(wrong(name, other, "a choice")),
        }
    }
}

impl FromValue for MemberId {
    fn from_value(name: &str, value: Option<&Value>) -> Result<Self> {
        match value.ok_or_else(|| missing(name))? {
            Value::Member(m) => Ok(MemberId(m.clone())),
            other => Err(wrong(name, other, "a member")),
        }
    }
}

pub(crate) fn find<'a>(values: &'a [NamedValue], name: &str) -> Option<&'a Value> {
    values.iter().find(|v| v.name == name).map(|v| &v.value)
}

/// A form a member submitted, every value checked by the host against its
/// input. Inputs left empty are absent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Submission {
    /// The form's callback.
    pub callback: String,
    /// The form's state (JSON text, "" when none), unchanged.
    pub state: String,
    /// The values, by input id.
    pub values: Vec<NamedValue>,
    /// 1 for the first form, one more for each next form.
    pub step: u8,
}

impl Submission {
    /// A first-step submission of `callback` with `values` and no state: for tests.
    pub fn new(callback: impl Into<String>, values: Vec<NamedValue>) -> Self {
        Self {
            callback: callback.into(),
            state: String::new(),
            values,
            step: 1,
        }
    }

    /// The value of input `id` as a `T` (`Option<T>` when it may be empty).
    pub fn value<T: FromValue>(&self, id: &str) -> Result<T> {
        T::from_value(id, find(&self.values, id))
    }

    /// The ids of the files chosen in the file input `id` (empty when none
    /// were); `invalid` when `id` is an input of another kind. Read them with
    /// [`files`](crate::files): they become this installation's own when the
    /// invocation succeeds.
    pub fn files(&self, id: &str) -> Result<Vec<String>> {
        match find(&self.values, id) {
            None => Ok(Vec::new()),
            Some(Value::Files(ids)) => Ok(ids.clone()),
            Some(other) => Err(wrong(id, other, "files")),
        }
    }

    /// The form's state read as JSON into `T`; `invalid` naming the field
    /// that does not fit.
    pub fn state<T: DeserializeOwned>(&self) -> Result<T> {
        from_json_text("form state", &self.state)
    }
}

/// A button click, a menu choice, a member picked, or an API call.
#[derive(Clone, Debug, PartialEq)]
pub struct ActionCall {
    /// The action's name.
    pub name: String,
    /// The payload as JSON (`Json::Null` for a button without a payload).
    pub payload: Json,
    /// The option chosen in a select menu, or the member picked.
    pub value: Option<Value>,
    /// The message the element was on; `None` for API calls.
    pub message_id: Option<MessageId>,
}

impl ActionCall {
    /// An API call of `name` with `payload`: for tests.
    pub fn new(name: impl Into<String>, payload: Json) -> Self {
        Self {
            name: name.into(),
            payload,
            value: None,
            message_id: None,
        }
    }

    /// The payload read into `T`; `invalid` naming the field that does not fit.
    pub fn payload<T: DeserializeOwned>(&self) -> Result<T> {
        crate::from_payload(&self.payload)
    }

    /// The chosen option or picked member as a `T`.
    pub fn chosen<T: FromValue>(&self) -> Result<T> {
        T::from_value("value", self.value.as_ref())
    }
}

/// `text` (JSON) read into `T`, errors naming `what` and the field.
pub(crate) fn from_json_text<T: DeserializeOwned>(what: &str, text: &str) -> Result<T> {
    let text = if text.trim().is_empty() { "null" } else { text };
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if path == "." {
            Error::invalid(format!("bad {what}: {inner}"))
        } else {
            Error::invalid(format!("bad {what}: `{path}`: {inner}"))
        }
    })
}
