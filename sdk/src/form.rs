//! Forms a command, a click or a submission opens for the acting member, and
//! the inputs they hold (also used to declare typed command options).
//!
//! ```
//! # use qun_sdk::prelude::*;
//! # fn main() -> Result<()> {
//! let form = Form::new("Hand in homework #1", "hand-in")
//!     .text("Write your answer below.")
//!     .input(Input::text("answer", "Your answer").required().multiline().max_length(2000))
//!     .input(Input::checkbox("final", "This is my final answer"))
//!     .submit_label("Hand in")
//!     .state(&json!({"assignment": "1"}))?;
//! assert_eq!(form.inputs().count(), 2);
//! # Ok(()) }
//! ```

use serde::Serialize;

use qun_blocks::{
    Block, CheckboxInput, Choice, ChoiceInput, CommandOption, DateInput, DateTimeInput, Field,
    FileInput, InputKind, MemberInput, NumberInput, TextInput,
};

use crate::{Date, Result, Timestamp};

/// A form: a title, text and inputs, a submit label, the `callback` the
/// app's `on_submit` receives and a `state` handed back unchanged.
/// Converts to and from the shared model, [`qun_blocks::Form`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Form(pub(crate) qun_blocks::Form);

impl Form {
    /// A form titled `title`; its submission reaches `on_submit` with
    /// `callback` (an action-like name).
    pub fn new(title: impl Into<String>, callback: impl Into<String>) -> Self {
        Self(qun_blocks::Form {
            title: title.into(),
            blocks: Vec::new(),
            submit_label: "Submit".into(),
            callback: callback.into(),
            state: String::new(),
        })
    }

    /// Adds a paragraph (light markup).
    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.0.blocks.push(Block::Text { text: text.into() });
        self
    }

    /// Adds a small grey line.
    pub fn context(mut self, text: impl Into<String>) -> Self {
        self.0.blocks.push(Block::Context { text: text.into() });
        self
    }

    /// Adds labelled values.
    pub fn fields<N: Into<String>, V: Into<String>>(
        mut self,
        fields: impl IntoIterator<Item = (N, V)>,
    ) -> Self {
        let fields = fields
            .into_iter()
            .map(|(name, value)| Field {
                name: name.into(),
                value: value.into(),
            })
            .collect();
        self.0.blocks.push(Block::Fields { fields });
        self
    }

    /// Adds an input.
    pub fn input(mut self, input: Input) -> Self {
        self.0.blocks.push(Block::Input { input: input.0 });
        self
    }

    /// Sets the submit button's label ("Submit" unless set).
    pub fn submit_label(mut self, label: impl Into<String>) -> Self {
        self.0.submit_label = label.into();
        self
    }

    /// Sets the state handed back on submit: `state` serialised as JSON (at
    /// most 8 KiB; kept by the host, never shown to the member).
    pub fn state(mut self, state: &impl Serialize) -> Result<Self> {
        self.0.state = serde_json::to_string(state)?;
        Ok(self)
    }

    /// The title.
    pub fn title(&self) -> &str {
        &self.0.title
    }

    /// The callback.
    pub fn callback(&self) -> &str {
        &self.0.callback
    }

    /// The state (JSON text, "" when none).
    pub fn state_json(&self) -> &str {
        &self.0.state
    }

    /// The inputs, in order.
    pub fn inputs(&self) -> impl Iterator<Item = &qun_blocks::Input> {
        self.0.inputs()
    }

    /// The input `id`.
    pub fn input_named(&self, id: &str) -> Option<&qun_blocks::Input> {
        self.0.inputs().find(|i| i.id == id)
    }

    /// The shared model of this form.
    pub fn model(&self) -> &qun_blocks::Form {
        &self.0
    }
}

impl From<Form> for qun_blocks::Form {
    fn from(f: Form) -> Self {
        f.0
    }
}

impl From<qun_blocks::Form> for Form {
    fn from(f: qun_blocks::Form) -> Self {
        Self(f)
    }
}

/// One input of a form, or one option of a typed command (its `id` is the
/// option's name, its label the option's description).
///
/// The kind-specific setters do nothing on inputs of other kinds: `multiline`
/// only changes a text input, `range` a number input, and so on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input(pub(crate) qun_blocks::Input);

impl Input {
    fn new(id: impl Into<String>, label: impl Into<String>, kind: InputKind) -> Self {
        Self(qun_blocks::Input {
            id: id.into(),
            label: label.into(),
            hint: None,
            required: false,
            kind,
        })
    }

    /// A text input.
    pub fn text(id: impl Into<String>, label: impl Into<String>) -> Self {
        Self::new(id, label, InputKind::Text(TextInput::default()))
    }

    /// A whole-number input.
    pub fn integer(id: impl Into<String>, label: impl Into<String>) -> Self {
        Self::new(
            id,
            label,
            InputKind::Number(NumberInput {
                integer: true,
                ..NumberInput::default()
            }),
        )
    }

    /// A decimal input with at most `decimals` digits after the point; the
    /// app receives a canonical decimal string ("12.5").
    pub fn decimal(id: impl Into<String>, label: impl Into<String>, decimals: u8) -> Self {
        Self::new(
            id,
            label,
            InputKind::Number(NumberInput {
                integer: false,
                decimals,
                ..NumberInput::default()
            }),
        )
    }

    /// A date input.
    pub fn date(id: impl Into<String>, label: impl Into<String>) -> Self {
        Self::new(id, label, InputKind::Date(DateInput::default()))
    }

    /// A date-and-time input, read in the group's time zone.
    pub fn date_time(id: impl Into<String>, label: impl Into<String>) -> Self {
        Self::new(id, label, InputKind::DateTime(DateTimeInput::default()))
    }

    /// A single choice among `(value, label)` options.
    pub fn choice<V: Into<String>, L: Into<String>>(
        id: impl Into<String>,
        label: impl Into<String>,
        options: impl IntoIterator<Item = (V, L)>,
    ) -> Self {
        Self::new(
            id,
            label,
            InputKind::Choice(ChoiceInput {
                options: choices(options),
                multiple: false,
                initial: Vec::new(),
            }),
        )
    }

    /// A choice of several among `(value, label)` options.
    pub fn multi_choice<V: Into<String>, L: Into<String>>(
        id: impl Into<String>,
        label: impl Into<String>,
        options: impl IntoIterator<Item = (V, L)>,
    ) -> Self {
        Self::new(
            id,
            label,
            InputKind::Choice(ChoiceInput {
                options: choices(options),
                multiple: true,
                initial: Vec::new(),
            }),
        )
    }

    /// A picker of one member of the group.
    pub fn member(id: impl Into<String>, label: impl Into<String>) -> Self {
        Self::new(id, label, InputKind::Member(MemberInput::default()))
    }

    /// A checkbox.
    pub fn checkbox(id: impl Into<String>, label: impl Into<String>) -> Self {
        Self::new(id, label, InputKind::Checkbox(CheckboxInput::default()))
    }

    /// Files the member chooses from their device (forms only; a command
    /// option cannot be a file): one file of any type unless changed with
    /// [`max_files`](Self::max_files) and [`accept`](Self::accept). The app
    /// receives the files' ids ([`Submission::files`](crate::Submission::files))
    /// and reads them with [`files`](crate::files). The host checks, before the
    /// app runs, that each file is one the member uploaded, of an accepted type.
    ///
    /// ```
    /// # use qun_sdk::prelude::*;
    /// let photos = Input::file("work", "Your work")
    ///     .max_files(5)
    ///     .accept(["image/", "application/pdf"]);
    /// # let _ = photos;
    /// ```
    pub fn file(id: impl Into<String>, label: impl Into<String>) -> Self {
        Self::new(id, label, InputKind::File(FileInput::default()))
    }

    /// File: how many files may be chosen (1 to
    /// [`MAX_FILES_PER_INPUT`](qun_blocks::MAX_FILES_PER_INPUT)).
    pub fn max_files(mut self, max: u8) -> Self {
        if let InputKind::File(f) = &mut self.0.kind {
            f.max_files = max;
        }
        self
    }

    /// File: the types accepted, as content types (`"application/pdf"`) or
    /// families (`"image/"`); any type unless set. The host reads a file's
    /// type from its bytes, not from its name.
    pub fn accept<S: Into<String>>(mut self, types: impl IntoIterator<Item = S>) -> Self {
        if let InputKind::File(f) = &mut self.0.kind {
            f.accept = types.into_iter().map(Into::into).collect();
        }
        self
    }

    /// A value must be given (a checkbox must be ticked, a file chosen).
    pub fn required(mut self) -> Self {
        self.0.required = true;
        self
    }

    /// Help shown under the input.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.0.hint = Some(hint.into());
        self
    }

    /// Text: several lines.
    pub fn multiline(mut self) -> Self {
        if let InputKind::Text(t) = &mut self.0.kind {
            t.multiline = true;
        }
        self
    }

    /// Text: at least this many characters.
    pub fn min_length(mut self, chars: u32) -> Self {
        if let InputKind::Text(t) = &mut self.0.kind {
            t.min_length = Some(chars);
        }
        self
    }

    /// Text: at most this many characters.
    pub fn max_length(mut self, chars: u32) -> Self {
        if let InputKind::Text(t) = &mut self.0.kind {
            t.max_length = Some(chars);
        }
        self
    }

    /// Text: shown inside the empty input.
    pub fn placeholder(mut self, text: impl Into<String>) -> Self {
        if let InputKind::Text(t) = &mut self.0.kind {
            t.placeholder = Some(text.into());
        }
        self
    }

    /// Number: the smallest and largest values allowed.
    pub fn range(self, min: impl ToString, max: impl ToString) -> Self {
        self.min(min).max(max)
    }

    /// Number: the smallest value allowed ("0", "-2.5", or a number).
    pub fn min(mut self, min: impl ToString) -> Self {
        if let InputKind::Number(n) = &mut self.0.kind {
            n.min = Some(min.to_string());
        }
        self
    }

    /// Number: the largest value allowed.
    pub fn max(mut self, max: impl ToString) -> Self {
        if let InputKind::Number(n) = &mut self.0.kind {
            n.max = Some(max.to_string());
        }
        self
    }

    /// Date: the earliest and latest dates allowed.
    pub fn date_range(mut self, min: Option<Date>, max: Option<Date>) -> Self {
        if let InputKind::Date(d) = &mut self.0.kind {
            d.min = min.map(Into::into);
            d.max = max.map(Into::into);
        }
        self
    }

    /// Date-time: the earliest and latest moments allowed.
    pub fn time_range(mut self, min: Option<Timestamp>, max: Option<Timestamp>) -> Self {
        if let InputKind::DateTime(d) = &mut self.0.kind {
            d.min = min.map(Timestamp::millis);
            d.max = max.map(Timestamp::millis);
        }
        self
    }

    /// What the input starts with, as a member would see it: text, a number,
    /// a choice's value, a member id, "true" for a ticked checkbox.
    pub fn initial(mut self, value: impl ToString) -> Self {
        let value = value.to_string();
        match &mut self.0.kind {
            InputKind::Text(t) => t.initial = Some(value),
            InputKind::Number(n) => n.initial = Some(value),
            InputKind::Choice(c) => c.initial = vec![value],
            InputKind::Member(m) => m.initial = Some(value),
            InputKind::Checkbox(c) => c.initial = value == "true",
            InputKind::Date(_) | InputKind::DateTime(_) | InputKind::File(_) => {}
        }
        self
    }

    /// Date: what the input starts with.
    pub fn initial_date(mut self, date: Date) -> Self {
        if let InputKind::Date(d) = &mut self.0.kind {
            d.initial = Some(date.into());
        }
        self
    }

    /// Date-time: what the input starts with.
    pub fn initial_time(mut self, at: Timestamp) -> Self {
        if let InputKind::DateTime(d) = &mut self.0.kind {
            d.initial = Some(at.millis());
        }
        self
    }

    /// The shared model of this input.
    pub fn model(&self) -> &qun_blocks::Input {
        &self.0
    }

    /// This input as a command option: its id is the option's name, its label
    /// the description.
    pub fn into_option(self) -> CommandOption {
        CommandOption {
            name: self.0.id,
            description: self.0.label,
            required: self.0.required,
            kind: self.0.kind,
        }
    }
}

impl From<Input> for qun_blocks::Input {
    fn from(i: Input) -> Self {
        i.0
    }
}

fn choices<V: Into<String>, L: Into<String>>(
    options: impl IntoIterator<Item = (V, L)>,
) -> Vec<Choice> {
    options
        .into_iter()
        .map(|(value, label)| Choice {
            value: value.into(),
            label: label.into(),
        })
        .collect()
}
