//! Messages an app posts: a fallback text and a list of blocks, built with
//! chained calls.
//!
//! ```
//! # use qun_sdk::prelude::*;
//! # fn main() -> Result<()> {
//! let message = Message::new("Lunch? Noodles 2, Rice 1")
//!     .header("Lunch?")
//!     .text("Press a button to vote")
//!     .fields([("Noodles", "2"), ("Rice", "1")])
//!     .divider()
//!     .context("3 ballots")
//!     .actions([
//!         Button::new("Noodles", "vote").payload(&json!({"choice": 0}))?.style(ButtonStyle::Primary),
//!         Button::new("Rice", "vote").payload(&json!({"choice": 1}))?,
//!     ]);
//! assert_eq!(message.buttons()[1].payload, r#"{"choice":1}"#);
//! assert_eq!(message.field("Noodles"), Some("2"));
//! # Ok(()) }
//! ```

use serde::Serialize;

use qun_blocks::{Block, ButtonStyle, Choice, Confirm, Element, Field};

use crate::Result;

/// A message: `text` (what notifications and clients without blocks show)
/// and `blocks`. Converts to and from the shared model, [`qun_blocks::Message`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Message {
    /// Plain text (may be empty when there are blocks).
    pub text: String,
    /// The blocks, in order.
    pub blocks: Vec<Block>,
}

impl Message {
    /// A message whose fallback text is `text`; add blocks with the other methods.
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            blocks: Vec::new(),
        }
    }

    /// A card-only message (see [`Card`]).
    pub fn card(card: Card) -> Self {
        card.into()
    }

    /// Adds a block.
    pub fn block(mut self, block: Block) -> Self {
        self.blocks.push(block);
        self
    }

    /// Adds a paragraph with light markup (`*bold*`, `_italic_`, `` `code` ``,
    /// `<https://...|label>`).
    pub fn text(self, text: impl Into<String>) -> Self {
        self.block(Block::Text { text: text.into() })
    }

    /// Adds a heading line.
    pub fn header(self, text: impl Into<String>) -> Self {
        self.block(Block::Header { text: text.into() })
    }

    /// Adds one block of labelled values: pairs `(name, value)`.
    pub fn fields<N: Into<String>, V: Into<String>>(
        self,
        fields: impl IntoIterator<Item = (N, V)>,
    ) -> Self {
        let fields = fields
            .into_iter()
            .map(|(name, value)| Field {
                name: name.into(),
                value: value.into(),
            })
            .collect();
        self.block(Block::Fields { fields })
    }

    /// Adds a horizontal rule.
    pub fn divider(self) -> Self {
        self.block(Block::Divider)
    }

    /// Adds a small grey line.
    pub fn context(self, text: impl Into<String>) -> Self {
        self.block(Block::Context { text: text.into() })
    }

    /// Adds a row of buttons, select menus and member pickers (at most 5).
    /// Mixed rows: `.actions([Element::from(button), select.into()])`.
    pub fn actions<E: Into<Element>>(self, elements: impl IntoIterator<Item = E>) -> Self {
        let elements = elements.into_iter().map(Into::into).collect();
        self.block(Block::Actions { elements })
    }

    /// Adds a file members can download: one of the app's own files (its
    /// id; see [`files`](crate::files)).
    pub fn file(self, id: impl Into<String>) -> Self {
        self.block(Block::File { file: id.into() })
    }

    /// Adds an image members see in the message: one of the app's own files
    /// of an image type (PNG, JPEG, GIF or WebP; see
    /// [`FileInfo::is_image`](crate::FileInfo::is_image)), with `alt`, what it
    /// shows, for members who cannot see it.
    pub fn image(self, id: impl Into<String>, alt: impl Into<String>) -> Self {
        self.block(Block::Image {
            file: id.into(),
            alt: alt.into(),
        })
    }

    /// Replaces the fallback text.
    pub fn with_text(mut self, text: impl Into<String>) -> Self {
        self.text = text.into();
        self
    }

    /// Appends the blocks of `card`.
    pub fn with_card(mut self, card: Card) -> Self {
        self.blocks.extend(card.into_blocks());
        self
    }

    /// Every element of every actions block, in order.
    pub fn elements(&self) -> Vec<&Element> {
        self.blocks
            .iter()
            .flat_map(|b| match b {
                Block::Actions { elements } => elements.iter().collect(),
                _ => Vec::new(),
            })
            .collect()
    }

    /// Every button, in order.
    pub fn buttons(&self) -> Vec<&qun_blocks::Button> {
        self.elements()
            .into_iter()
            .filter_map(|e| match e {
                Element::Button(b) => Some(b),
                _ => None,
            })
            .collect()
    }

    /// The first button labelled `label`.
    pub fn button(&self, label: &str) -> Option<&qun_blocks::Button> {
        self.buttons().into_iter().find(|b| b.label == label)
    }

    /// Every labelled value of every fields block, in order.
    pub fn all_fields(&self) -> Vec<&Field> {
        self.blocks
            .iter()
            .flat_map(|b| match b {
                Block::Fields { fields } => fields.iter().collect(),
                _ => Vec::new(),
            })
            .collect()
    }

    /// The value of the first field named `name`.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.all_fields()
            .into_iter()
            .find(|f| f.name == name)
            .map(|f| f.value.as_str())
    }

    /// The ids of the files the message shows (`file` and `image` blocks),
    /// in order.
    pub fn files(&self) -> Vec<&str> {
        self.blocks
            .iter()
            .filter_map(|b| match b {
                Block::File { file } | Block::Image { file, .. } => Some(file.as_str()),
                _ => None,
            })
            .collect()
    }

    /// The images the message shows: `(file id, alt)`, in order.
    pub fn images(&self) -> Vec<(&str, &str)> {
        self.blocks
            .iter()
            .filter_map(|b| match b {
                Block::Image { file, alt } => Some((file.as_str(), alt.as_str())),
                _ => None,
            })
            .collect()
    }

    /// The first header's text.
    pub fn title(&self) -> Option<&str> {
        self.blocks.iter().find_map(|b| match b {
            Block::Header { text } => Some(text.as_str()),
            _ => None,
        })
    }

    /// The texts of the text and context blocks, in order.
    pub fn paragraphs(&self) -> Vec<&str> {
        self.blocks
            .iter()
            .filter_map(|b| match b {
                Block::Text { text } | Block::Context { text } => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }

    /// Everything a member reads in it (text, headers, fields, paragraphs,
    /// element labels, `[file <id>]` and `[image <id>: <alt>]`), one piece per line: handy for `contains` in tests.
    pub fn rendered(&self) -> String {
        let mut out = vec![self.text.clone()];
        for block in &self.blocks {
            match block {
                Block::Text { text } | Block::Header { text } | Block::Context { text } => {
                    out.push(text.clone());
                }
                Block::Fields { fields } => {
                    out.extend(fields.iter().map(|f| format!("{}: {}", f.name, f.value)));
                }
                Block::Actions { elements } => {
                    for e in elements {
                        match e {
                            Element::Button(b) => out.push(format!("[{}]", b.label)),
                            Element::Select(s) => out.push(format!("[{}]", s.placeholder)),
                            Element::MemberPicker(p) => out.push(format!("[{}]", p.placeholder)),
                        }
                    }
                }
                Block::Divider => out.push("---".into()),
                Block::Input { input } => out.push(format!("<{}>", input.label)),
                Block::File { file } => out.push(format!("[file {file}]")),
                Block::Image { file, alt } => out.push(format!("[image {file}: {alt}]")),
            }
        }
        out.join("\n")
    }
}

impl From<Message> for qun_blocks::Message {
    fn from(m: Message) -> Self {
        qun_blocks::Message {
            text: m.text,
            blocks: m.blocks,
        }
    }
}

impl From<qun_blocks::Message> for Message {
    fn from(m: qun_blocks::Message) -> Self {
        Message {
            text: m.text,
            blocks: m.blocks,
        }
    }
}

impl From<Card> for Message {
    fn from(card: Card) -> Self {
        let text = card.title.clone();
        Message {
            text,
            blocks: card.into_blocks(),
        }
    }
}

/// A button: clicking it runs the app's `on_action` with `action` and the
/// payload (kept by the host; clients only see an opaque reference).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Button(qun_blocks::Button);

impl Button {
    /// A button labelled `label` running `action` (declare it in
    /// [`Describe`](crate::Describe)), with an empty payload.
    pub fn new(label: impl Into<String>, action: impl Into<String>) -> Self {
        Self(qun_blocks::Button {
            label: label.into(),
            action: action.into(),
            payload: String::new(),
            style: ButtonStyle::Default,
            confirm: None,
        })
    }

    /// Sets the payload: `payload` serialised as JSON (at most 8 KiB).
    pub fn payload(mut self, payload: &impl Serialize) -> Result<Self> {
        self.0.payload = serde_json::to_string(payload)?;
        Ok(self)
    }

    /// Sets a payload that is already a JSON document.
    pub fn payload_raw(mut self, payload: impl Into<String>) -> Self {
        self.0.payload = payload.into();
        self
    }

    /// Sets how it looks.
    pub fn style(mut self, style: ButtonStyle) -> Self {
        self.0.style = style;
        self
    }

    /// Asks "are you sure?" first: a title and a question; the buttons read
    /// "Yes" and "Cancel" unless changed with [`confirm_with`](Self::confirm_with).
    pub fn confirm(self, title: impl Into<String>, text: impl Into<String>) -> Self {
        self.confirm_with(Confirm {
            title: title.into(),
            text: text.into(),
            confirm_label: "Yes".into(),
            deny_label: "Cancel".into(),
        })
    }

    /// Asks first, with every word chosen.
    pub fn confirm_with(mut self, confirm: Confirm) -> Self {
        self.0.confirm = Some(confirm);
        self
    }
}

impl From<Button> for Element {
    fn from(b: Button) -> Self {
        Element::Button(b.0)
    }
}

impl From<Button> for qun_blocks::Button {
    fn from(b: Button) -> Self {
        b.0
    }
}

/// A menu of static options; choosing one runs `on_action` with the chosen
/// value in [`ActionCall::value`](crate::ActionCall).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Select(qun_blocks::SelectMenu);

impl Select {
    /// A menu running `action`, showing `placeholder` before a choice.
    pub fn new(action: impl Into<String>, placeholder: impl Into<String>) -> Self {
        Self(qun_blocks::SelectMenu {
            action: action.into(),
            payload: String::new(),
            placeholder: placeholder.into(),
            options: Vec::new(),
        })
    }

    /// Adds an option: the `value` the app receives, the `label` members see.
    pub fn option(mut self, value: impl Into<String>, label: impl Into<String>) -> Self {
        self.0.options.push(Choice {
            value: value.into(),
            label: label.into(),
        });
        self
    }

    /// Sets the payload (serialised as JSON).
    pub fn payload(mut self, payload: &impl Serialize) -> Result<Self> {
        self.0.payload = serde_json::to_string(payload)?;
        Ok(self)
    }
}

impl From<Select> for Element {
    fn from(s: Select) -> Self {
        Element::Select(s.0)
    }
}

/// A picker of members of the group; picking one runs `on_action` with the
/// member in [`ActionCall::value`](crate::ActionCall) (the host checks that
/// they are in the group).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberPicker(qun_blocks::MemberPicker);

impl MemberPicker {
    /// A picker running `action`, showing `placeholder` before a pick.
    pub fn new(action: impl Into<String>, placeholder: impl Into<String>) -> Self {
        Self(qun_blocks::MemberPicker {
            action: action.into(),
            payload: String::new(),
            placeholder: placeholder.into(),
        })
    }

    /// Sets the payload (serialised as JSON).
    pub fn payload(mut self, payload: &impl Serialize) -> Result<Self> {
        self.0.payload = serde_json::to_string(payload)?;
        Ok(self)
    }
}

impl From<MemberPicker> for Element {
    fn from(p: MemberPicker) -> Self {
        Element::MemberPicker(p.0)
    }
}

/// The 0.1 card (a title, an optional body, fields and buttons), kept for
/// apps written against it: it becomes a header, a text block, a fields
/// block and one actions row, exactly as the host stores 0.1 cards.
///
/// ```
/// # use qun_sdk::prelude::*;
/// # fn main() -> Result<()> {
/// let card = Card::new("Lunch?")
///     .body("Pick one")
///     .field("closes", "12:00")
///     .button("Noodles", "vote", &json!({"choice": 0}))?;
/// let message = Message::from(card);
/// assert_eq!(message.buttons()[0].payload, r#"{"choice":0}"#);
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
    pub buttons: Vec<qun_blocks::Button>,
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
        mut self,
        label: impl Into<String>,
        action: impl Into<String>,
        payload: &impl Serialize,
    ) -> Result<Self> {
        self.buttons
            .push(Button::new(label, action).payload(payload)?.into());
        Ok(self)
    }

    /// The blocks this card becomes.
    pub fn into_blocks(self) -> Vec<Block> {
        let mut blocks = vec![Block::Header { text: self.title }];
        if let Some(body) = self.body {
            blocks.push(Block::Text { text: body });
        }
        if !self.fields.is_empty() {
            blocks.push(Block::Fields {
                fields: self.fields,
            });
        }
        if !self.buttons.is_empty() {
            blocks.push(Block::Actions {
                elements: self.buttons.into_iter().map(Element::Button).collect(),
            });
        }
        blocks
    }
}
