//! Reminders 24 hours and 1 hour before the due time, by direct message to
//! every student who has not handed in (never to teachers, never to those
//! who have).
//!
//! Timer keys are `remind/<id>/<24h|1h>`, payloads
//! `{"assignment":"<id>","reminder":"24h"|"1h"}`.

use std::time::Duration;

use qun_sdk::prelude::*;
use serde::{Deserialize, Serialize};

use crate::assignment::{Assignment, students};
use crate::create::assignment_message;

/// Timer keys start with this.
pub(crate) const TIMER_PREFIX: &str = "remind/";

/// Which reminder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Reminder {
    /// 24 hours before the due time.
    #[serde(rename = "24h")]
    Day,
    /// 1 hour before the due time.
    #[serde(rename = "1h")]
    Hour,
}

impl Reminder {
    pub(crate) const ALL: [Reminder; 2] = [Reminder::Day, Reminder::Hour];

    fn name(self) -> &'static str {
        match self {
            Reminder::Day => "24h",
            Reminder::Hour => "1h",
        }
    }

    fn before_due(self) -> Duration {
        match self {
            Reminder::Day => Duration::from_secs(24 * 3600),
            Reminder::Hour => Duration::from_secs(3600),
        }
    }
}

/// "24 hours", "1 hour", "40 minutes": the time left, rounded.
fn time_left(left: Duration) -> String {
    let minutes = (left.as_secs() + 30) / 60;
    let (n, unit) = if minutes >= 60 {
        ((minutes + 30) / 60, "hour")
    } else {
        (minutes.max(1), "minute")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// A reminder timer's payload.
#[derive(Serialize, Deserialize)]
pub(crate) struct TimerPayload {
    assignment: String,
    reminder: Reminder,
}

fn timer_key(assignment: &Assignment, reminder: Reminder) -> String {
    format!("{TIMER_PREFIX}{}/{}", assignment.id, reminder.name())
}

fn sent_key(assignment: &str, reminder: Reminder) -> String {
    format!("reminded/{assignment}/{}", reminder.name())
}

/// When `reminder` is due for `assignment`.
pub(crate) fn reminder_time(assignment: &Assignment, reminder: Reminder) -> Timestamp {
    let before = i64::try_from(reminder.before_due().as_millis()).unwrap_or(i64::MAX);
    Timestamp::from_millis(assignment.due.saturating_sub(before))
}

/// Schedules `reminder` unless its time has already passed.
pub(crate) fn schedule(ctx: &Context, assignment: &Assignment, reminder: Reminder) -> Result<()> {
    let at = reminder_time(assignment, reminder);
    if at <= ctx.now() {
        return Ok(());
    }
    scheduler::schedule_json(
        &timer_key(assignment, reminder),
        at,
        &TimerPayload {
            assignment: assignment.id.clone(),
            reminder,
        },
    )
}

/// A `remind/...` timer came due.
pub(crate) fn on_timer(ctx: &Context, timer: &qun_sdk::Timer) -> Result<()> {
    let payload: TimerPayload = serde_json::from_str(&timer.payload).map_err(|err| {
        Error::internal(format!(
            "timer `{}` has a payload this app did not write: {err}",
            timer.key
        ))
    })?;
    let reminder = payload.reminder;
    let assignment = match Assignment::load(&payload.assignment) {
        Ok(assignment) => assignment,
        Err(Error::NotFound(_)) => {
            log::warn(
                "reminder for missing homework",
                &[("assignment", &payload.assignment)],
            );
            return Ok(());
        }
        Err(err) => return Err(err),
    };
    if ctx.now() >= assignment.due() {
        // Delivered after the deadline (the host was down): too late to remind.
        log::info(
            "reminder skipped: already due",
            &[
                ("assignment", &assignment.id),
                ("reminder", reminder.name()),
            ],
        );
        return Ok(());
    }
    let sent = sent_key(&assignment.id, reminder);
    if storage::get(&sent)?.is_some() {
        return Ok(()); // a timer delivered twice reminds once
    }
    let submissions = assignment.submissions()?;
    let card = assignment_message(ctx, &assignment)?;
    let mut reminded = 0_usize;
    for student in students()? {
        if submissions.contains_key(&student.id) {
            continue;
        }
        let text = format!(
            "Reminder: homework #{} “{}” is due in {} ({}) and you have not handed it in yet.",
            assignment.id,
            assignment.title,
            time_left(assignment.due() - ctx.now()),
            ctx.format_time(assignment.due())
        );
        let mut message = card.clone().with_text(text.clone());
        message
            .blocks
            .insert(0, qun_sdk::blocks::Block::Text { text });
        messaging::send_direct(&student.id, &message)?;
        reminded += 1;
    }
    storage::set_json(&sent, &ctx.now())?;
    log::info(
        "reminder sent",
        &[
            ("assignment", &assignment.id),
            ("reminder", reminder.name()),
            ("members", &reminded.to_string()),
        ],
    );
    Ok(())
}
