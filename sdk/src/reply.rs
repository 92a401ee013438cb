//! What the member who acted sees after a command, a click or a submission.

use qun_blocks::FieldError;

use crate::{Card, Form, Json, Message};

/// What the member who acted sees: nothing, a message in the group, a
/// private reply only they see, a form, or (after a submission) the form
/// again with errors beside its inputs. The WIT's `response`.
///
/// ```
/// # use qun_sdk::prelude::*;
/// let posted: Reply = Reply::text("Poll #1 created");
/// let private = Reply::private(Message::new("You voted for Rice"));
/// let form: Reply = Form::new("New poll", "create").into();
/// assert!(matches!(form, Reply::Form(_)));
/// # let _ = (posted, private);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Reply {
    /// Nothing more.
    #[default]
    None,
    /// A message posted to the group (no `messaging` grant needed).
    Post(Message),
    /// A message only the acting member sees.
    Private(Message),
    /// A form opened for the acting member.
    Form(Form),
    /// The submitted form again with these errors (`on_submit` only).
    FieldErrors(Vec<FieldError>),
}

/// The WIT name of [`Reply`].
pub type Response = Reply;

impl Reply {
    /// No reply.
    pub fn none() -> Self {
        Self::None
    }

    /// A text message posted to the group.
    pub fn text(text: impl Into<String>) -> Self {
        Self::Post(Message::new(text))
    }

    /// A message posted to the group.
    pub fn message(message: impl Into<Message>) -> Self {
        Self::Post(message.into())
    }

    /// A message only the acting member sees.
    pub fn private(message: impl Into<Message>) -> Self {
        Self::Private(message.into())
    }

    /// A form for the acting member.
    pub fn form(form: Form) -> Self {
        Self::Form(form)
    }

    /// One error beside the input `input`.
    pub fn field_error(input: impl Into<String>, message: impl Into<String>) -> Self {
        Self::FieldErrors(vec![FieldError {
            input: input.into(),
            message: message.into(),
        }])
    }

    /// Errors beside inputs: `(input id, message)` pairs.
    pub fn field_errors<I: Into<String>, M: Into<String>>(
        errors: impl IntoIterator<Item = (I, M)>,
    ) -> Self {
        Self::FieldErrors(
            errors
                .into_iter()
                .map(|(input, message)| FieldError {
                    input: input.into(),
                    message: message.into(),
                })
                .collect(),
        )
    }

    /// The posted or private message, if any.
    pub fn message_ref(&self) -> Option<&Message> {
        match self {
            Self::Post(m) | Self::Private(m) => Some(m),
            _ => None,
        }
    }

    /// The posted message (not a private one), if any.
    pub fn into_message(self) -> Option<Message> {
        match self {
            Self::Post(m) => Some(m),
            _ => None,
        }
    }

    /// The opened form, if any.
    pub fn as_form(&self) -> Option<&Form> {
        match self {
            Self::Form(f) => Some(f),
            _ => None,
        }
    }

    /// The field errors, if any.
    pub fn errors(&self) -> &[FieldError] {
        match self {
            Self::FieldErrors(e) => e,
            _ => &[],
        }
    }

    /// The shared model of this reply.
    pub fn into_model(self) -> qun_blocks::Response {
        match self {
            Self::None => qun_blocks::Response::None,
            Self::Post(m) => qun_blocks::Response::Post { message: m.into() },
            Self::Private(m) => qun_blocks::Response::Private { message: m.into() },
            Self::Form(f) => qun_blocks::Response::Form { form: f.into() },
            Self::FieldErrors(errors) => qun_blocks::Response::FieldErrors { errors },
        }
    }
}

impl From<Message> for Reply {
    fn from(message: Message) -> Self {
        Self::Post(message)
    }
}

impl From<Card> for Reply {
    fn from(card: Card) -> Self {
        Self::Post(card.into())
    }
}

impl From<Form> for Reply {
    fn from(form: Form) -> Self {
        Self::Form(form)
    }
}

impl From<Option<Message>> for Reply {
    fn from(message: Option<Message>) -> Self {
        message.map_or(Self::None, Self::Post)
    }
}

/// What `on_action` answers: JSON for API callers and what the member who
/// acted sees. Every [`Json`] value converts into one (with no reply), and so
/// does every [`Reply`] (with no data).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ActionAnswer {
    /// The JSON document returned to API callers (`Json::Null` for none).
    pub data: Json,
    /// What the member who acted sees.
    pub reply: Reply,
}

impl ActionAnswer {
    /// An answer with data and a reply.
    pub fn new(data: Json, reply: impl Into<Reply>) -> Self {
        Self {
            data,
            reply: reply.into(),
        }
    }

    /// Adds what the member sees.
    pub fn with_reply(mut self, reply: impl Into<Reply>) -> Self {
        self.reply = reply.into();
        self
    }
}

impl From<Json> for ActionAnswer {
    fn from(data: Json) -> Self {
        Self {
            data,
            reply: Reply::None,
        }
    }
}

impl From<Reply> for ActionAnswer {
    fn from(reply: Reply) -> Self {
        Self {
            data: Json::Null,
            reply,
        }
    }
}

impl From<Form> for ActionAnswer {
    fn from(form: Form) -> Self {
        Reply::Form(form).into()
    }
}
