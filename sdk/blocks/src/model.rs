//! The data of `wit/0.2.0/blocks.wit` and of typed commands, one Rust type
//! per WIT type. JSON: enums are tagged with `"type"` (snake_case).

use serde::{Deserialize, Serialize};

/// A member id (an opaque string).
pub type MemberId = String;
/// Milliseconds since the Unix epoch, UTC.
pub type Timestamp = i64;

/// A labelled value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    /// The label.
    pub name: String,
    /// The value (plain text).
    pub value: String,
}

/// How a button looks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ButtonStyle {
    /// An ordinary button.
    #[default]
    Default,
    /// The main thing to do here.
    Primary,
    /// Something destructive.
    Danger,
}

/// "Are you sure?" before a button's action runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirm {
    /// The question's title.
    pub title: String,
    /// The question.
    pub text: String,
    /// The label of the button that goes ahead.
    pub confirm_label: String,
    /// The label of the button that goes back.
    pub deny_label: String,
}

/// A button: runs `action` with `payload` as the clicking member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Button {
    /// The text on the button.
    pub label: String,
    /// The action to run.
    pub action: String,
    /// A JSON document handed to `on-action` unchanged.
    pub payload: String,
    /// How it looks.
    #[serde(default)]
    pub style: ButtonStyle,
    /// Ask before running the action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirm: Option<Confirm>,
}

/// One option of a select menu or a choice input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    /// What the app receives.
    pub value: String,
    /// What the member sees.
    pub label: String,
}

/// A menu of static options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelectMenu {
    /// The action to run.
    pub action: String,
    /// A JSON document handed to `on-action` unchanged.
    pub payload: String,
    /// Shown before anything is chosen.
    pub placeholder: String,
    /// The options, in order.
    pub options: Vec<Choice>,
}

/// A picker of members of the current group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberPicker {
    /// The action to run.
    pub action: String,
    /// A JSON document handed to `on-action` unchanged.
    pub payload: String,
    /// Shown before anyone is picked.
    pub placeholder: String,
}

/// Something a member can act on, in an `actions` block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Element {
    /// A button.
    Button(Button),
    /// A select menu.
    Select(SelectMenu),
    /// A member picker.
    MemberPicker(MemberPicker),
}

impl Element {
    /// The action this element runs.
    pub fn action(&self) -> &str {
        match self {
            Element::Button(b) => &b.action,
            Element::Select(s) => &s.action,
            Element::MemberPicker(p) => &p.action,
        }
    }

    /// The payload this element carries.
    pub fn payload(&self) -> &str {
        match self {
            Element::Button(b) => &b.payload,
            Element::Select(s) => &s.payload,
            Element::MemberPicker(p) => &p.payload,
        }
    }
}

/// A text input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextInput {
    /// At least this many characters.
    #[serde(default)]
    pub min_length: Option<u32>,
    /// At most this many characters.
    #[serde(default)]
    pub max_length: Option<u32>,
    /// Several lines.
    #[serde(default)]
    pub multiline: bool,
    /// Shown inside the empty input.
    #[serde(default)]
    pub placeholder: Option<String>,
    /// What the input starts with.
    #[serde(default)]
    pub initial: Option<String>,
}

/// A number input (decimal strings keep decimals exact).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NumberInput {
    /// Only whole numbers.
    #[serde(default)]
    pub integer: bool,
    /// Digits allowed after the point (decimal inputs).
    #[serde(default)]
    pub decimals: u8,
    /// The smallest value, a decimal string.
    #[serde(default)]
    pub min: Option<String>,
    /// The largest value, a decimal string.
    #[serde(default)]
    pub max: Option<String>,
    /// The initial value, a decimal string.
    #[serde(default)]
    pub initial: Option<String>,
}

/// A calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Date {
    /// The year.
    pub year: i32,
    /// 1 to 12.
    pub month: u8,
    /// 1 to 31.
    pub day: u8,
}

/// `2030-06-01`.
impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// A date input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DateInput {
    /// The earliest date allowed.
    #[serde(default)]
    pub min: Option<Date>,
    /// The latest date allowed.
    #[serde(default)]
    pub max: Option<Date>,
    /// What the input starts with.
    #[serde(default)]
    pub initial: Option<Date>,
}

/// A date-and-time input, read in the group's time zone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DateTimeInput {
    /// The earliest moment allowed.
    #[serde(default)]
    pub min: Option<Timestamp>,
    /// The latest moment allowed.
    #[serde(default)]
    pub max: Option<Timestamp>,
    /// What the input starts with.
    #[serde(default)]
    pub initial: Option<Timestamp>,
}

/// A choice of one or several options.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChoiceInput {
    /// The options, in order.
    pub options: Vec<Choice>,
    /// Several may be chosen.
    #[serde(default)]
    pub multiple: bool,
    /// What starts chosen.
    #[serde(default)]
    pub initial: Vec<String>,
}

/// A picker of one member of the current group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberInput {
    /// Who starts picked.
    #[serde(default)]
    pub initial: Option<MemberId>,
}

/// A checkbox.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckboxInput {
    /// Whether it starts ticked.
    #[serde(default)]
    pub initial: bool,
}

/// Files chosen from the member's device (forms only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileInput {
    /// How many files may be chosen, 1 to [`crate::limits::MAX_FILES_PER_INPUT`].
    #[serde(default = "one")]
    pub max_files: u8,
    /// Content types ("application/pdf") or families ("image/") accepted;
    /// empty: any.
    #[serde(default)]
    pub accept: Vec<String>,
}

fn one() -> u8 {
    1
}

impl Default for FileInput {
    fn default() -> Self {
        FileInput {
            max_files: 1,
            accept: Vec::new(),
        }
    }
}

impl FileInput {
    /// Whether a file of `content_type` is accepted.
    pub fn accepts(&self, content_type: &str) -> bool {
        self.accept.is_empty()
            || self.accept.iter().any(|a| {
                if a.ends_with('/') {
                    content_type.starts_with(a.as_str())
                } else {
                    content_type == a
                }
            })
    }
}

/// What kind of value an input or a command option takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum InputKind {
    /// Text.
    Text(TextInput),
    /// A number.
    Number(NumberInput),
    /// A date.
    Date(DateInput),
    /// A date and time.
    DateTime(DateTimeInput),
    /// One or several options.
    Choice(ChoiceInput),
    /// A member of the group.
    Member(MemberInput),
    /// On or off.
    Checkbox(CheckboxInput),
    /// Files.
    File(FileInput),
}

/// One input of a form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Input {
    /// Unique in the form: lowercase letters, digits, `-`, `_`.
    pub id: String,
    /// The label.
    pub label: String,
    /// Help shown under it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// A value must be given.
    #[serde(default)]
    pub required: bool,
    /// What it takes.
    pub kind: InputKind,
}

/// A piece of a message or form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Block {
    /// A paragraph with light markup.
    Text {
        /// The text.
        text: String,
    },
    /// A heading line.
    Header {
        /// The text.
        text: String,
    },
    /// Labelled values.
    Fields {
        /// The fields.
        fields: Vec<Field>,
    },
    /// A horizontal rule.
    Divider,
    /// A small grey line.
    Context {
        /// The text.
        text: String,
    },
    /// A row of buttons, menus and pickers.
    Actions {
        /// The elements.
        elements: Vec<Element>,
    },
    /// An input (forms only).
    Input {
        /// The input.
        input: Input,
    },
    /// A file members can download (one of the app's own files).
    File {
        /// The file's id.
        file: String,
    },
    /// An image shown in the message (one of the app's own image files).
    Image {
        /// The file's id.
        file: String,
        /// What the image shows.
        #[serde(default)]
        alt: String,
    },
}

/// A message from an app.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Plain text (may be empty when there are blocks).
    #[serde(default)]
    pub text: String,
    /// The blocks.
    #[serde(default)]
    pub blocks: Vec<Block>,
}

/// A form shown to the acting member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Form {
    /// The title.
    pub title: String,
    /// Text, fields, context lines and inputs.
    pub blocks: Vec<Block>,
    /// The submit button's label.
    pub submit_label: String,
    /// Which form this is, for the app.
    pub callback: String,
    /// JSON handed back unchanged on submit.
    #[serde(default)]
    pub state: String,
}

impl Message {
    /// The ids of the files this message shows (`file` and `image` blocks).
    pub fn files(&self) -> impl Iterator<Item = &str> {
        self.blocks.iter().filter_map(|b| match b {
            Block::File { file } | Block::Image { file, .. } => Some(file.as_str()),
            _ => None,
        })
    }
}

impl Form {
    /// The form's inputs, in order.
    pub fn inputs(&self) -> impl Iterator<Item = &Input> {
        self.blocks.iter().filter_map(|b| match b {
            Block::Input { input } => Some(input),
            _ => None,
        })
    }
}

/// A value the host checked and typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Value {
    /// Text.
    Text(String),
    /// A whole number.
    Integer(i64),
    /// A canonical decimal string.
    Decimal(String),
    /// A date.
    Date(Date),
    /// A moment.
    DateTime(Timestamp),
    /// Chosen option values.
    Choices(Vec<String>),
    /// A member of the group.
    Member(MemberId),
    /// A checkbox.
    Checkbox(bool),
    /// Ids of files chosen in a file input.
    Files(Vec<String>),
}

/// An input id or option name and its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedValue {
    /// The input id or option name.
    pub name: String,
    /// The value.
    pub value: Value,
}

/// Why a submitted value was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// The input id.
    pub input: String,
    /// What is wrong, for the member.
    pub message: String,
}

/// What the member who acted sees.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Response {
    /// Nothing more.
    #[default]
    None,
    /// A message posted to the group.
    Post {
        /// The message.
        message: Message,
    },
    /// A message only the acting member sees.
    Private {
        /// The message.
        message: Message,
    },
    /// A form opened for the acting member.
    Form {
        /// The form.
        form: Form,
    },
    /// The submitted form again, with errors beside its inputs.
    FieldErrors {
        /// The errors.
        errors: Vec<FieldError>,
    },
}

/// One option of a typed command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandOption {
    /// Its name (lowercase letters, digits, `-`, `_`).
    pub name: String,
    /// One line of help.
    pub description: String,
    /// The command cannot run without it.
    #[serde(default)]
    pub required: bool,
    /// What it takes.
    pub kind: InputKind,
}

/// A command an app answers, with its options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandSpec {
    /// The word after the slash.
    pub name: String,
    /// One line of help.
    pub description: String,
    /// Its options, in the order members type them.
    #[serde(default)]
    pub options: Vec<CommandOption>,
}

/// A day of the week (`scheduler.wit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Weekday {
    /// Monday.
    Monday,
    /// Tuesday.
    Tuesday,
    /// Wednesday.
    Wednesday,
    /// Thursday.
    Thursday,
    /// Friday.
    Friday,
    /// Saturday.
    Saturday,
    /// Sunday.
    Sunday,
}

/// A time of day on the group's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TimeOfDay {
    /// 0 to 23.
    pub hour: u8,
    /// 0 to 59.
    pub minute: u8,
}

/// When a recurring timer fires, in the group's time zone (`scheduler.wit`).
///
/// JSON: `{"type":"daily","value":{"hour":18,"minute":0}}`,
/// `{"type":"weekly","value":[["monday","friday"],{"hour":9,"minute":0}]}`,
/// `{"type":"every_minutes","value":30}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Recurrence {
    /// Every day at this time.
    Daily(TimeOfDay),
    /// On these days of the week at this time.
    Weekly(Vec<Weekday>, TimeOfDay),
    /// Every this many minutes (at least 5), counted from scheduling.
    EveryMinutes(u32),
}
