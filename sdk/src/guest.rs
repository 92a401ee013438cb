//! The wasm side: the generated WIT bindings, the adapter that exports an
//! [`App`], and the capability calls made through the component's imports.
//!
//! Only what an app calls is linked in, so a component imports exactly the
//! capability interfaces its code uses; nothing here calls a capability on
//! its own (no logging, no panic hook).

use std::marker::PhantomData;

use crate::{App, Context, Error, Event, Json, Result, Timestamp};

/// The bindings `wit-bindgen` generates for the world `group-app`.
#[doc(hidden)]
#[allow(unsafe_code, missing_docs, dead_code, unused, clippy::all)]
pub mod wit {
    wit_bindgen::generate!({
        world: "group-app",
        path: "../wit/0.2.0",
        pub_export_macro: true,
        export_macro_name: "__qun_export_group_app",
    });
}

mod convert;

pub(crate) use convert::message;
use convert::{from_wit_value, named_values, response};
use wit::exports::qun::app::handler as h;
use wit::qun::app::types as t;

/// Implements the generated `Guest` trait for any [`App`];
/// [`export_app!`](crate::export_app) exports `Adapter<YourApp>`.
#[doc(hidden)]
pub struct Adapter<T>(PhantomData<T>);

impl<T: App> h::Guest for Adapter<T> {
    fn describe() -> h::AppInfo {
        let info = T::describe();
        h::AppInfo {
            name: info.name,
            title: info.title,
            version: info.version,
            description: info.description,
            commands: info
                .commands
                .into_iter()
                .map(convert::command_spec)
                .collect(),
            actions: info
                .actions
                .into_iter()
                .map(|s| h::ActionSpec {
                    name: s.name,
                    description: s.description,
                })
                .collect(),
            subscriptions: info
                .subscriptions
                .into_iter()
                .map(|crate::Subscription::MessagePosted| h::Subscription::MessagePosted)
                .collect(),
        }
    }

    fn on_command(ctx: t::Context, command: h::Command) -> Result<h::Response, t::Error> {
        let command = crate::Command {
            name: command.name,
            args: command.args,
            options: named_values(command.options),
        };
        let reply = T::on_command(&context(ctx), &command).map_err(to_wit_error)?;
        Ok(response(reply))
    }

    fn on_action(ctx: t::Context, call: h::ActionCall) -> Result<h::ActionAnswer, t::Error> {
        let run = || -> Result<h::ActionAnswer> {
            // A button without a payload carries "": the app sees `null`.
            let payload: Json = if call.payload.trim().is_empty() {
                Json::Null
            } else {
                serde_json::from_str(&call.payload).map_err(|err| {
                    Error::invalid(format!("the payload of `{}` is not JSON: {err}", call.name))
                })?
            };
            let call = crate::ActionCall {
                name: call.name,
                payload,
                value: call.value.map(from_wit_value),
                message_id: call.message_id.map(crate::MessageId),
            };
            let answer = T::on_action(&context(ctx), &call)?;
            let data = if answer.data.is_null() {
                String::new()
            } else {
                serde_json::to_string(&answer.data)
                    .map_err(|err| Error::internal(err.to_string()))?
            };
            Ok(h::ActionAnswer {
                data,
                response: response(answer.reply),
            })
        };
        run().map_err(to_wit_error)
    }

    fn on_submit(ctx: t::Context, submission: h::Submission) -> Result<h::Response, t::Error> {
        let submission = crate::Submission {
            callback: submission.callback,
            state: submission.state,
            values: named_values(submission.values),
            step: submission.step,
        };
        let reply = T::on_submit(&context(ctx), &submission).map_err(to_wit_error)?;
        Ok(response(reply))
    }

    fn on_event(ctx: t::Context, event: h::Event) -> Result<(), t::Error> {
        T::on_event(&context(ctx), &from_wit_event(event)).map_err(to_wit_error)
    }
}

fn context(ctx: t::Context) -> Context {
    Context {
        group_id: ctx.group_id,
        installation_id: ctx.installation_id,
        actor: ctx.actor,
        now: Timestamp::from_millis(ctx.now),
        invocation_id: ctx.invocation_id,
        time_zone: ctx.time_zone,
        locale: ctx.locale,
    }
}

fn from_wit_event(event: h::Event) -> Event {
    match event {
        h::Event::Installed => Event::Installed,
        h::Event::Uninstalled => Event::Uninstalled,
        h::Event::MemberJoined(id) => Event::MemberJoined(id),
        h::Event::MemberLeft(id) => Event::MemberLeft(id),
        h::Event::MessagePosted(m) => Event::MessagePosted(crate::event::PostedMessage {
            id: m.id,
            author: m.author,
            text: m.text,
            files: m.files,
        }),
        h::Event::PaymentSettled(p) => Event::PaymentSettled(payment(p)),
        h::Event::PaymentFailed(f) => Event::PaymentFailed {
            payment: payment(f.payment),
            reason: f.reason,
        },
        h::Event::TimerFired(timer) => Event::TimerFired(crate::event::Timer {
            key: timer.key,
            payload: timer.payload,
            due: Timestamp::from_millis(timer.due),
            recurring: timer.recurring,
        }),
    }
}

fn to_wit_error(err: Error) -> t::Error {
    match err {
        Error::Denied(m) => t::Error::Denied(m),
        Error::NotFound(m) => t::Error::NotFound(m),
        Error::Invalid(m) => t::Error::Invalid(m),
        Error::QuotaExceeded(m) => t::Error::QuotaExceeded(m),
        Error::Conflict(m) => t::Error::Conflict(m),
        Error::Internal(m) => t::Error::Internal(m),
    }
}

fn from_wit_error(err: t::Error) -> Error {
    match err {
        t::Error::Denied(m) => Error::Denied(m),
        t::Error::NotFound(m) => Error::NotFound(m),
        t::Error::Invalid(m) => Error::Invalid(m),
        t::Error::QuotaExceeded(m) => Error::QuotaExceeded(m),
        t::Error::Conflict(m) => Error::Conflict(m),
        t::Error::Internal(m) => Error::Internal(m),
    }
}

fn member(m: t::Member) -> crate::membership::Member {
    use crate::membership::Role;
    crate::membership::Member {
        id: m.id,
        display_name: m.display_name,
        role: match m.role {
            t::Role::Owner => Role::Owner,
            t::Role::Admin => Role::Admin,
            t::Role::Member => Role::Member,
        },
        joined_at: Timestamp::from_millis(m.joined_at),
        profile: crate::membership::Profile {
            avatar_url: m.profile.avatar_url,
            locale: m.profile.locale,
            time_zone: m.profile.time_zone,
        },
    }
}

fn payment(p: t::Payment) -> crate::payments::Payment {
    use crate::payments::PaymentStatus as S;
    crate::payments::Payment {
        id: p.id,
        payer: p.payer,
        amount: p.amount,
        currency: p.currency,
        memo: p.memo,
        status: match p.status {
            t::PaymentStatus::Pending => S::Pending,
            t::PaymentStatus::Settled => S::Settled,
            t::PaymentStatus::Declined => S::Declined,
            t::PaymentStatus::Expired => S::Expired,
        },
        refunded: p.refunded,
        created_at: Timestamp::from_millis(p.created_at),
    }
}

/// Capability calls through the component's imports, one module per interface.
pub(crate) mod sys {
    use super::{from_wit_error, member, message, payment, wit};

    pub(crate) mod storage {
        use super::{from_wit_error, wit::qun::app::storage as s};
        use crate::Result;
        use crate::storage::{Entry, Page};

        pub(crate) fn get(key: &str) -> Result<Option<Vec<u8>>> {
            s::get(key).map_err(from_wit_error)
        }
        pub(crate) fn set(key: &str, value: &[u8]) -> Result<()> {
            s::set(key, value).map_err(from_wit_error)
        }
        pub(crate) fn delete(key: &str) -> Result<bool> {
            s::delete(key).map_err(from_wit_error)
        }
        pub(crate) fn list(prefix: &str, cursor: Option<&str>, limit: u32) -> Result<Page> {
            let page = s::list(prefix, cursor, limit).map_err(from_wit_error)?;
            Ok(Page {
                entries: page
                    .entries
                    .into_iter()
                    .map(|e| Entry {
                        key: e.key,
                        value: e.value,
                    })
                    .collect(),
                next_cursor: page.next_cursor,
            })
        }
        pub(crate) fn compare_and_swap(
            key: &str,
            expected: Option<&[u8]>,
            new: Option<&[u8]>,
        ) -> Result<bool> {
            s::compare_and_swap(key, expected, new).map_err(from_wit_error)
        }
    }

    pub(crate) mod files {
        use super::{from_wit_error, wit::qun::app::files as f};
        use crate::files::FileInfo;
        use crate::{Result, Timestamp};

        fn info(i: f::FileInfo) -> FileInfo {
            FileInfo {
                id: i.id,
                name: i.name,
                content_type: i.content_type,
                size: i.size,
                sha256: i.sha256,
                uploaded_by: i.uploaded_by,
                created_at: Timestamp::from_millis(i.created_at),
            }
        }

        pub(crate) fn stat(id: &str) -> Result<FileInfo> {
            f::stat(id).map(info).map_err(from_wit_error)
        }
        pub(crate) fn read(id: &str, offset: u64, length: u32) -> Result<Vec<u8>> {
            f::read(id, offset, length).map_err(from_wit_error)
        }
        pub(crate) fn create(name: &str) -> Result<u32> {
            f::create(name).map_err(from_wit_error)
        }
        pub(crate) fn append(upload: u32, bytes: &[u8]) -> Result<()> {
            f::append(upload, bytes).map_err(from_wit_error)
        }
        pub(crate) fn finish(upload: u32) -> Result<FileInfo> {
            f::finish(upload).map(info).map_err(from_wit_error)
        }
        pub(crate) fn delete(id: &str) -> Result<bool> {
            f::delete(id).map_err(from_wit_error)
        }
    }

    pub(crate) mod messaging {
        use super::{from_wit_error, message, wit::qun::app::messaging as m};
        use crate::{Message, MessageId, Result};

        pub(crate) fn post(msg: &Message) -> Result<MessageId> {
            m::post(&message(msg))
                .map(MessageId)
                .map_err(from_wit_error)
        }
        pub(crate) fn update(id: &MessageId, msg: &Message) -> Result<()> {
            m::update(id.as_str(), &message(msg)).map_err(from_wit_error)
        }
        pub(crate) fn delete(id: &MessageId) -> Result<()> {
            m::delete(id.as_str()).map_err(from_wit_error)
        }
        pub(crate) fn post_private(to: &str, msg: &Message) -> Result<MessageId> {
            m::post_private(to, &message(msg))
                .map(MessageId)
                .map_err(from_wit_error)
        }
        pub(crate) fn send_direct(to: &str, msg: &Message) -> Result<()> {
            m::send_direct(to, &message(msg)).map_err(from_wit_error)
        }
    }

    pub(crate) mod membership {
        use super::{from_wit_error, member, wit::qun::app::membership as m};
        use crate::Result;
        use crate::membership::{Group, Member, MemberPage};

        pub(crate) fn current_group() -> Result<Group> {
            let g = m::current_group().map_err(from_wit_error)?;
            Ok(Group {
                id: g.id,
                name: g.name,
                owner: g.owner,
                member_count: g.member_count,
                time_zone: g.time_zone,
                locale: g.locale,
            })
        }
        pub(crate) fn get_member(id: &str) -> Result<Member> {
            m::get_member(id).map(member).map_err(from_wit_error)
        }
        pub(crate) fn list_members(cursor: Option<&str>, limit: u32) -> Result<MemberPage> {
            let page = m::list_members(cursor, limit).map_err(from_wit_error)?;
            Ok(MemberPage {
                members: page.members.into_iter().map(member).collect(),
                next_cursor: page.next_cursor,
            })
        }
    }

    pub(crate) mod scheduler {
        use super::{from_wit_error, wit::qun::app::scheduler as s};
        use crate::scheduler::{Recurrence, TimeOfDay, Weekday};
        use crate::{Result, Timestamp};

        fn time(at: TimeOfDay) -> s::TimeOfDay {
            s::TimeOfDay {
                hour: at.hour,
                minute: at.minute,
            }
        }

        fn day(d: Weekday) -> s::Weekday {
            match d {
                Weekday::Monday => s::Weekday::Monday,
                Weekday::Tuesday => s::Weekday::Tuesday,
                Weekday::Wednesday => s::Weekday::Wednesday,
                Weekday::Thursday => s::Weekday::Thursday,
                Weekday::Friday => s::Weekday::Friday,
                Weekday::Saturday => s::Weekday::Saturday,
                Weekday::Sunday => s::Weekday::Sunday,
            }
        }

        pub(crate) fn schedule_recurring(
            key: &str,
            rule: &Recurrence,
            payload: &str,
        ) -> Result<Timestamp> {
            let rule = match rule {
                Recurrence::Daily(at) => s::Recurrence::Daily(time(*at)),
                Recurrence::Weekly(days, at) => {
                    s::Recurrence::Weekly((days.iter().copied().map(day).collect(), time(*at)))
                }
                Recurrence::EveryMinutes(minutes) => s::Recurrence::EveryMinutes(*minutes),
            };
            s::schedule_recurring(key, &rule, payload)
                .map(Timestamp::from_millis)
                .map_err(from_wit_error)
        }

        pub(crate) fn schedule(key: &str, at: Timestamp, payload: &str) -> Result<()> {
            s::schedule(key, at.millis(), payload).map_err(from_wit_error)
        }
        pub(crate) fn cancel(key: &str) -> Result<bool> {
            s::cancel(key).map_err(from_wit_error)
        }
    }

    pub(crate) mod payments {
        use super::{from_wit_error, payment, wit::qun::app::payments as p};
        use crate::Result;
        use crate::payments::{Payment, PaymentRequest};

        pub(crate) fn request(r: &PaymentRequest) -> Result<Payment> {
            let r = p::PaymentRequest {
                payer: r.payer.clone(),
                amount: r.amount,
                currency: r.currency.clone(),
                memo: r.memo.clone(),
                idempotency_key: r.idempotency_key.clone(),
            };
            p::request(&r).map(payment).map_err(from_wit_error)
        }
        pub(crate) fn status(id: &str) -> Result<Payment> {
            p::status(id).map(payment).map_err(from_wit_error)
        }
        pub(crate) fn refund(id: &str, amount: u64, idempotency_key: &str) -> Result<Payment> {
            p::refund(id, amount, idempotency_key)
                .map(payment)
                .map_err(from_wit_error)
        }
    }

    pub(crate) mod log {
        use super::wit::qun::app::log as l;
        use crate::log::Level;

        pub(crate) fn write(level: Level, message: &str, fields: &[(&str, &str)]) {
            let level = match level {
                Level::Trace => l::Level::Trace,
                Level::Debug => l::Level::Debug,
                Level::Info => l::Level::Info,
                Level::Warn => l::Level::Warn,
                Level::Error => l::Level::Error,
            };
            let fields: Vec<(String, String)> = fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            l::write(level, message, &fields);
        }
    }
}
