//! The host's checks the harness runs, by the host's own code (`qun-blocks`):
//! messages and forms against the limits and the declared actions, submitted
//! values against their inputs, typed command arguments, recurrences.

use qun_blocks::{BlockError, CommandSpec, Declared, Form, Message, Zone};

pub(crate) use qun_blocks::{CommandArgs, Submitted};

use crate::scheduler::Recurrence;
use crate::{Describe, Error, Reply, Result, Timestamp};

pub(crate) fn declared(describe: &Describe) -> Declared {
    Declared::new(describe.actions.iter().map(|a| a.name.clone()))
}

fn invalid(err: BlockError) -> Error {
    Error::invalid(err.to_string())
}

/// The group's zone; a harness set up with a zone the IANA database does
/// not know is a mistake in the test.
pub(crate) fn zone(name: &str) -> Zone {
    Zone::parse(name).unwrap_or_else(|err| panic!("TestGroup::zone: {err}"))
}

pub(crate) fn check_message(message: &Message, declared: &Declared) -> Result<()> {
    qun_blocks::check_message(message, declared).map_err(invalid)
}

/// A reply an app gave: its message or form checked as the host checks it
/// (the files it shows too: call it inside the invocation); field errors
/// only answer a submission.
pub(crate) fn check_reply(reply: &Reply, declared: &Declared, submission: bool) -> Result<()> {
    match reply {
        Reply::None => Ok(()),
        Reply::Post(m) | Reply::Private(m) => {
            check_message(&m.clone().into(), declared)?;
            super::host::check_reply_files(&m.blocks)
        }
        Reply::Form(f) => {
            qun_blocks::check_form(f.model(), declared).map_err(invalid)?;
            super::host::check_reply_files(&f.model().blocks)
        }
        Reply::FieldErrors(_) if submission => Ok(()),
        Reply::FieldErrors(_) => Err(Error::invalid("field errors only answer a form submission")),
    }
}

pub(crate) fn check_submission(
    form: &Form,
    values: &serde_json::Map<String, serde_json::Value>,
    zone_name: &str,
) -> std::result::Result<Submitted, Vec<qun_blocks::FieldError>> {
    qun_blocks::check_submission(form, values, &zone(zone_name))
}

pub(crate) fn parse_command(
    spec: &CommandSpec,
    args: &str,
    zone_name: &str,
    now: Timestamp,
) -> CommandArgs {
    qun_blocks::parse_command(spec, args, &zone(zone_name), now.millis())
}

pub(crate) fn check_recurrence(rule: &Recurrence) -> Result<()> {
    qun_blocks::check_recurrence(rule).map_err(invalid)
}

pub(crate) fn next_occurrence(
    rule: &Recurrence,
    zone_name: &str,
    after: Timestamp,
) -> Option<Timestamp> {
    qun_blocks::next_occurrence(rule, &zone(zone_name), after.millis()).map(Timestamp::from_millis)
}
