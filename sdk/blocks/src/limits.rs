//! The published limits of messages and forms (also listed in
//! `wit/0.2.0/blocks.wit`). Over any of them the host answers `invalid`
//! naming the limit.

/// Blocks in one message or form.
pub const MAX_BLOCKS: usize = 50;
/// Fields in one `fields` block.
pub const MAX_FIELDS: usize = 10;
/// Elements in one `actions` block.
pub const MAX_ELEMENTS: usize = 5;
/// Options of one select menu or choice input.
pub const MAX_OPTIONS: usize = 100;
/// Inputs in one form.
pub const MAX_INPUTS: usize = 20;
/// Options of one command.
pub const MAX_COMMAND_OPTIONS: usize = 10;
/// Characters in one text, header or context block.
pub const MAX_TEXT_CHARS: usize = 3_000;
/// Characters in a label, title, placeholder, option, field name or id.
pub const MAX_LABEL_CHARS: usize = 150;
/// Characters in a field's value or an input's hint.
pub const MAX_VALUE_CHARS: usize = 2_000;
/// Characters in a message's plain text.
pub const MAX_MESSAGE_TEXT_CHARS: usize = 4_000;
/// Bytes in one action payload or form state (JSON).
pub const MAX_PAYLOAD_BYTES: usize = 8 * 1024;
/// Characters a member may enter in one text input.
pub const MAX_INPUT_CHARS: usize = 3_000;
/// Forms in one chain (a form opened by a command, then its next forms).
pub const MAX_FORM_STEPS: u8 = 5;
/// The shortest period of an `every-minutes` recurring timer.
pub const MIN_EVERY_MINUTES: u32 = 5;
/// Files chosen in one file input.
pub const MAX_FILES_PER_INPUT: u8 = 10;
