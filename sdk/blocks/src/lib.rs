//! Message blocks, forms, typed values and command options of the
//! `qun:app@0.2.0` contract (`wit/0.2.0/blocks.wit`), as plain Rust data,
//! and the rules they follow.
//!
//! The host and the SDK both use this crate, so a message or form is checked
//! by exactly the same code in a native unit test (`qun_sdk::testing`) and on
//! a real server. The JSON form of these types (serde) is what the HTTP API
//! serves to clients and stores.
//!
//! - [`check_message`], [`check_form`], [`check_app_commands`],
//!   [`check_choice`]: what an app produces, against [`limits`](crate#constants).
//! - [`check_submission`]: what a member submitted, against the form's inputs.
//! - [`parse_command`], [`command_form`], [`help_message`]: typed commands.
//! - [`Zone`], [`format_timestamp`], [`parse_typed_date_time`]: time zones
//!   and dates as people type them.
//! - [`next_occurrence`], [`check_recurrence`]: recurring timers.

mod check;
mod command;
mod decimal;
mod error;
mod help;
mod limits;
mod markup;
mod model;
mod recurrence;
mod submission;
mod time;
mod value;
mod zone;

pub use check::{Declared, check_app_commands, check_choice, check_form, check_message};
pub use command::{CommandArgs, OptionError, command_form, parse_command};
pub use decimal::{Decimal, DecimalError};
pub use error::BlockError;
pub use help::help_message;
pub use limits::*;
pub use markup::check_markup;
pub use model::*;
pub use recurrence::{check_recurrence, next_occurrence};
pub use submission::{Submitted, check_submission};
pub use time::{parse_date, parse_date_time, parse_typed_date, parse_typed_date_time};
pub use zone::{UnknownZone, Zone, format_timestamp};
