//! Messages an app posts: text, a card with fields and buttons, or both.

use serde::Serialize;

use crate::Result;

/// A message: plain text, a [`Card`], or both.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Message {
    /// Plain text.
    pub text: Option<String>,
    /// A card.
    pub card: Option<Card>,
}

impl Message {
    /// A text-only message.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: Some(text.into()),
            card: None,
        }
    }

    /// A card-only message.
    pub fn card(card: Card) -> Self {
        Self {
            text: None,
            card: Some(card),
        }
    }

    /// Adds (or replaces) the card of this message.
    pub fn with_card(mut self, card: Card) -> Self {
        self.card = Some(card);
        self
    }

    /// Adds (or replaces) the text of this message.
    pub fn with_text(mut self, text: impl Into<String>) -> Self {
        self.text = Some(text.into());
        self
    }
}

impl From<Card> for Message {
    fn from(card: Card) -> Self {
        Message::card(card)
    }
}

/// A labelled value on a card.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// The label.
    pub name: String,
    /// The value.
    pub value: String,
}

/// A button on a card: clicking it runs the app's `on_action` with `action`
/// and `payload` (a JSON document) as the clicking member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Button {
    /// The text on the button.
    pub label: String,
    /// The action to run; declare it in [`Describe`](crate::Describe).
    pub action: String,
    /// The JSON document handed to `on_action` unchanged.
    pub payload: String,
}

/// A rich message: a title, an optional body, fields and buttons.
///
/// ```
/// # use qun_sdk::prelude::*;
/// # fn main() -> Result<()> {
/// let card = Card::new("Lunch?")
///     .body("Pick one")
///     .field("closes", "12:00")
///     .button("Noodles", "vote", &json!({"choice": 0}))?;
/// assert_eq!(card.buttons[0].payload, r#"{"choice":0}"#);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Card {
    /// The title.
    pub title: String,
    /// Optional text under the title.
    pub body: Option<String>,
    /// Labelled values, in order.
    pub fields: Vec<Field>,
    /// Buttons, in order.
    pub buttons: Vec<Button>,
}

impl Card {
    /// A card with this title.
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            ..Self::default()
        }
    }

    /// Sets the text under the title.
    pub fn body(mut self, body: impl Into<String>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// Adds a labelled value.
    pub fn field(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.fields.push(Field {
            name: name.into(),
            value: value.into(),
        });
        self
    }

    /// Adds a button running `action` with `payload` serialised as JSON.
    pub fn button(
        self,
        label: impl Into<String>,
        action: impl Into<String>,
        payload: &impl Serialize,
    ) -> Result<Self> {
        Ok(self.button_raw(label, action, serde_json::to_string(payload)?))
    }

    /// Adds a button whose payload is already a JSON document.
    pub fn button_raw(
        mut self,
        label: impl Into<String>,
        action: impl Into<String>,
        payload: impl Into<String>,
    ) -> Self {
        self.buttons.push(Button {
            label: label.into(),
            action: action.into(),
            payload: payload.into(),
        });
        self
    }
}

/// What `on_command` answers: a message posted to the group as the app's
/// reply, or nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reply(pub Option<Message>);

impl Reply {
    /// No reply.
    pub fn none() -> Self {
        Self(None)
    }

    /// A text reply.
    pub fn text(text: impl Into<String>) -> Self {
        Self(Some(Message::text(text)))
    }

    /// A reply with this message.
    pub fn message(message: Message) -> Self {
        Self(Some(message))
    }

    /// The message, if any.
    pub fn into_message(self) -> Option<Message> {
        self.0
    }
}

impl From<Message> for Reply {
    fn from(message: Message) -> Self {
        Self(Some(message))
    }
}

impl From<Card> for Reply {
    fn from(card: Card) -> Self {
        Self(Some(Message::card(card)))
    }
}

impl From<Option<Message>> for Reply {
    fn from(message: Option<Message>) -> Self {
        Self(message)
    }
}
