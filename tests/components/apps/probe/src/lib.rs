//! `probe`: a group app that exercises every capability on demand, so host
//! tests can drive each host function through `on-action` and see its exact
//! answer. Any capability error is returned unchanged as the invocation's
//! error. See README.md for the actions and their payloads.

wit_bindgen::generate!({
    path: "../../../../wit/0.1.0",
    world: "group-app",
});

use exports::qun::app::handler::{
    ActionSpec, AppInfo, Command, CommandSpec, Context, Error, Event, Guest, Message, Subscription,
};
use qun::app::log::{self, Level};
use qun::app::payments::{self, Payment, PaymentRequest, PaymentStatus};
use qun::app::types::{Member, Role};
use qun::app::{membership, messaging, scheduler, storage};
use serde_json::{Map, Value, json};

/// Every action `on-action` answers, with one line of help.
const ACTIONS: &[(&str, &str)] = &[
    ("context", "{} -> the invocation's context"),
    ("get", "{key} -> {value}"),
    ("set", "{key, value} -> {}"),
    ("delete", "{key} -> {existed}"),
    (
        "list",
        "{prefix, cursor?, limit} -> {entries: [[k, v]], next}",
    ),
    ("cas", "{key, expected, new} -> {swapped}"),
    (
        "incr",
        "{key} -> {value}: read an integer (missing = 0), write it + 1",
    ),
    ("post", "{text} -> {}"),
    ("dm", "{to, text} -> {}"),
    ("group", "{} -> {id, name, owner, member_count}"),
    ("member", "{id} -> {id, display_name, role, joined_at}"),
    ("members", "{cursor?, limit} -> {members, next}"),
    ("pay", "{payer, amount, currency, memo, key} -> payment"),
    ("refund", "{id, amount, key} -> payment"),
    ("payment", "{id} -> payment"),
    ("schedule", "{key, at, payload} -> {}"),
    (
        "set-schedule",
        "{key, value, timer, at}: set a key and schedule a timer in one commit",
    ),
    ("cancel", "{key} -> {existed}"),
    ("log", "{level, message, fields?} -> {}"),
    ("print", "{text} -> {}: the text to stdout and to stderr"),
    (
        "set-post",
        "{key, value, text}: set a key and post a message in one commit",
    ),
    ("set-post-trap", "{key, value, text}: set, post, then trap"),
    (
        "set-post-fail",
        "{key, value, text}: set, post, then fail with invalid",
    ),
    ("loop", "{}: loop forever"),
    (
        "set-post-loop",
        "{key, value, text}: set, post, then loop forever",
    ),
    (
        "set-post-grow",
        "{key, value, text, mb}: set, post, then allocate mb MiB",
    ),
    ("grow", "{mb} -> {len}: allocate and touch mb MiB"),
    ("recurse", "{depth} -> {depth}: recurse depth times"),
    (
        "big-reply",
        "{bytes} -> a JSON document of about that many bytes",
    ),
    ("echo", "any JSON -> the same text"),
];

struct Probe;

impl Guest for Probe {
    fn describe() -> AppInfo {
        AppInfo {
            name: "probe".to_string(),
            title: "Probe".to_string(),
            version: "0.1.0".to_string(),
            description: "Exercises every capability on demand; for the host's tests.".to_string(),
            commands: vec![CommandSpec {
                name: "probe".to_string(),
                description: "Answers `probe: <args>`.".to_string(),
            }],
            actions: ACTIONS
                .iter()
                .map(|(name, description)| ActionSpec {
                    name: (*name).to_string(),
                    description: (*description).to_string(),
                })
                .collect(),
            subscriptions: vec![Subscription::MessagePosted],
        }
    }

    fn on_command(_ctx: Context, command: Command) -> Result<Option<Message>, Error> {
        if command.name != "probe" {
            return Err(invalid(format!("unknown command: {}", command.name)));
        }
        Ok(Some(text_message(format!("probe: {}", command.args))))
    }

    fn on_action(ctx: Context, action: String, payload: String) -> Result<String, Error> {
        let args: Value = serde_json::from_str(&payload)
            .map_err(|e| invalid(format!("payload is not JSON: {e}")))?;
        let args = Args(&args);
        let answer = match action.as_str() {
            "context" => json!({
                "group_id": ctx.group_id,
                "installation_id": ctx.installation_id,
                "actor": ctx.actor,
                "now": ctx.now,
                "invocation_id": ctx.invocation_id,
            }),
            "get" => {
                let key = args.str("key")?;
                let value = storage::get(&key)?.map(|v| utf8(&key, v)).transpose()?;
                json!({ "value": value })
            }
            "set" => {
                storage::set(&args.str("key")?, args.str("value")?.as_bytes())?;
                json!({})
            }
            "delete" => json!({ "existed": storage::delete(&args.str("key")?)? }),
            "list" => {
                let page = storage::list(
                    &args.str("prefix")?,
                    args.opt_str("cursor")?.as_deref(),
                    args.u32("limit")?,
                )?;
                let mut entries = Vec::with_capacity(page.entries.len());
                for entry in page.entries {
                    let value = utf8(&entry.key, entry.value)?;
                    entries.push(json!([entry.key, value]));
                }
                json!({ "entries": entries, "next": page.next_cursor })
            }
            "cas" => {
                let expected = args.opt_str("expected")?;
                let new = args.opt_str("new")?;
                let swapped = storage::compare_and_swap(
                    &args.str("key")?,
                    expected.as_deref().map(str::as_bytes),
                    new.as_deref().map(str::as_bytes),
                )?;
                json!({ "swapped": swapped })
            }
            "incr" => {
                let key = args.str("key")?;
                let current = match storage::get(&key)? {
                    None => 0,
                    Some(bytes) => utf8(&key, bytes)?
                        .trim()
                        .parse::<i64>()
                        .map_err(|e| invalid(format!("value of {key} is not an integer: {e}")))?,
                };
                let next = current
                    .checked_add(1)
                    .ok_or_else(|| invalid(format!("value of {key} overflows")))?;
                storage::set(&key, next.to_string().as_bytes())?;
                json!({ "value": next })
            }
            "post" => {
                messaging::post(&text_message(args.str("text")?))?;
                json!({})
            }
            "dm" => {
                messaging::send_direct(&args.str("to")?, &text_message(args.str("text")?))?;
                json!({})
            }
            "group" => {
                let group = membership::current_group()?;
                json!({
                    "id": group.id,
                    "name": group.name,
                    "owner": group.owner,
                    "member_count": group.member_count,
                })
            }
            "member" => member_json(membership::get_member(&args.str("id")?)?),
            "members" => {
                let page = membership::list_members(
                    args.opt_str("cursor")?.as_deref(),
                    args.u32("limit")?,
                )?;
                let members: Vec<Value> = page.members.into_iter().map(member_json).collect();
                json!({ "members": members, "next": page.next_cursor })
            }
            "pay" => payment_json(payments::request(&PaymentRequest {
                payer: args.str("payer")?,
                amount: args.u64("amount")?,
                currency: args.str("currency")?,
                memo: args.str("memo")?,
                idempotency_key: args.str("key")?,
            })?),
            "refund" => payment_json(payments::refund(
                &args.str("id")?,
                args.u64("amount")?,
                &args.str("key")?,
            )?),
            "payment" => payment_json(payments::status(&args.str("id")?)?),
            "schedule" => {
                scheduler::schedule(&args.str("key")?, args.i64("at")?, &args.str("payload")?)?;
                json!({})
            }
            "set-schedule" => {
                storage::set(&args.str("key")?, args.str("value")?.as_bytes())?;
                let timer = args.str("timer")?;
                scheduler::schedule(&timer, args.i64("at")?, &timer)?;
                json!({})
            }
            "cancel" => json!({ "existed": scheduler::cancel(&args.str("key")?)? }),
            "log" => {
                let level = match args.str("level")?.as_str() {
                    "trace" => Level::Trace,
                    "debug" => Level::Debug,
                    "info" => Level::Info,
                    "warn" => Level::Warn,
                    "error" => Level::Error,
                    other => return Err(invalid(format!("unknown log level: {other}"))),
                };
                let mut fields = Vec::new();
                if let Some(map) = args.opt_object("fields")? {
                    for (name, value) in map {
                        let value = match value {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        };
                        fields.push((name.clone(), value));
                    }
                }
                log::write(level, &args.str("message")?, &fields);
                json!({})
            }
            "print" => {
                let text = args.str("text")?;
                println!("{text}");
                eprintln!("{text}");
                json!({})
            }
            "set-post" => {
                storage::set(&args.str("key")?, args.str("value")?.as_bytes())?;
                messaging::post(&text_message(args.str("text")?))?;
                json!({})
            }
            "set-post-trap" => {
                storage::set(&args.str("key")?, args.str("value")?.as_bytes())?;
                messaging::post(&text_message(args.str("text")?))?;
                panic!("probe trap");
            }
            "set-post-fail" => {
                storage::set(&args.str("key")?, args.str("value")?.as_bytes())?;
                messaging::post(&text_message(args.str("text")?))?;
                return Err(invalid("probe failure".to_string()));
            }
            "loop" => spin(),
            "set-post-loop" => {
                storage::set(&args.str("key")?, args.str("value")?.as_bytes())?;
                messaging::post(&text_message(args.str("text")?))?;
                spin()
            }
            "set-post-grow" => {
                storage::set(&args.str("key")?, args.str("value")?.as_bytes())?;
                messaging::post(&text_message(args.str("text")?))?;
                let mb = usize::try_from(args.u64("mb")?).unwrap_or(usize::MAX);
                let buffer = grow(mb.saturating_mul(1024 * 1024));
                json!({ "len": buffer.len() })
            }
            "grow" => {
                let mb = args.u64("mb")?;
                let len = usize::try_from(mb)
                    .ok()
                    .and_then(|mb| mb.checked_mul(1024 * 1024))
                    .ok_or_else(|| invalid(format!("{mb} MiB is too large")))?;
                let buffer = grow(len);
                json!({ "len": buffer.len() })
            }
            "recurse" => json!({ "depth": recurse(args.u32("depth")?) }),
            "big-reply" => {
                // `{"data":"…"}` is 11 bytes plus the padding.
                let bytes = usize::try_from(args.u64("bytes")?)
                    .map_err(|_| invalid("bytes is too large".to_string()))?;
                let mut reply = String::with_capacity(bytes.max(11));
                reply.push_str("{\"data\":\"");
                reply.extend(std::iter::repeat_n('x', bytes.saturating_sub(11)));
                reply.push_str("\"}");
                return Ok(reply);
            }
            "echo" => return Ok(payload),
            other => return Err(invalid(format!("unknown action: {other}"))),
        };
        Ok(answer.to_string())
    }

    fn on_event(ctx: Context, event: Event) -> Result<(), Error> {
        let mut description = match event {
            Event::Installed => json!({ "kind": "installed" }),
            Event::Uninstalled => json!({ "kind": "uninstalled" }),
            Event::MemberJoined(member) => json!({ "kind": "member-joined", "member": member }),
            Event::MemberLeft(member) => json!({ "kind": "member-left", "member": member }),
            Event::MessagePosted(message) => json!({
                "kind": "message-posted",
                "id": message.id,
                "author": message.author,
                "text": message.text,
            }),
            Event::PaymentSettled(payment) => json!({
                "kind": "payment-settled",
                "payment": payment_json(payment),
            }),
            Event::PaymentFailed(failure) => json!({
                "kind": "payment-failed",
                "payment": payment_json(failure.payment),
                "reason": failure.reason,
            }),
            Event::TimerFired(timer) => json!({
                "kind": "timer-fired",
                "key": timer.key,
                "payload": timer.payload,
                "due": timer.due,
            }),
        };
        description["actor"] = json!(ctx.actor);
        description["event_id"] = json!(ctx.invocation_id);
        let kind = description["kind"].as_str().unwrap_or_default().to_string();
        // Switches set through `set`: fail events (every kind, or one), or
        // take a while over each one (so a test can kill the host mid-way).
        if let Some(fail) = storage::get("fail-events")? {
            let fail = String::from_utf8_lossy(&fail).to_string();
            if fail == "all" || fail == kind {
                return Err(invalid(format!("probe refuses {kind} events")));
            }
        }
        if let Some(ms) = storage::get("slow-events")? {
            let ms: u64 = String::from_utf8_lossy(&ms).trim().parse().unwrap_or(0);
            let start = std::time::Instant::now();
            while start.elapsed() < std::time::Duration::from_millis(ms) {
                std::hint::black_box(0u64);
            }
        }
        let key = format!("event/{}", ctx.invocation_id);
        storage::set(&key, description.to_string().as_bytes())?;
        // The order events arrived in: `events/000001`, `events/000002`, ...
        let count = match storage::get("events-count")? {
            Some(bytes) => String::from_utf8_lossy(&bytes)
                .trim()
                .parse::<u64>()
                .unwrap_or(0),
            None => 0,
        } + 1;
        storage::set("events-count", count.to_string().as_bytes())?;
        storage::set(
            &format!("events/{count:06}"),
            description.to_string().as_bytes(),
        )?;
        if kind == "message-posted" && storage::get("echo-posts")?.is_some() {
            let text = description["text"].as_str().unwrap_or_default();
            messaging::post(&text_message(format!("probe saw: {text}")))?;
        }
        if kind == "timer-fired" && storage::get("post-timers")?.is_some() {
            let key = description["key"].as_str().unwrap_or_default();
            messaging::post(&text_message(format!("probe timer {key} fired")))?;
        }
        Ok(())
    }
}

export!(Probe);

fn invalid(message: String) -> Error {
    Error::Invalid(message)
}

fn text_message(text: String) -> Message {
    Message {
        text: Some(text),
        card: None,
    }
}

fn utf8(key: &str, value: Vec<u8>) -> Result<String, Error> {
    String::from_utf8(value).map_err(|_| invalid(format!("value of {key} is not UTF-8")))
}

fn member_json(member: Member) -> Value {
    let role = match member.role {
        Role::Owner => "owner",
        Role::Admin => "admin",
        Role::Member => "member",
    };
    json!({
        "id": member.id,
        "display_name": member.display_name,
        "role": role,
        "joined_at": member.joined_at,
    })
}

fn payment_json(payment: Payment) -> Value {
    let status = match payment.status {
        PaymentStatus::Pending => "pending",
        PaymentStatus::Settled => "settled",
        PaymentStatus::Declined => "declined",
        PaymentStatus::Expired => "expired",
    };
    json!({
        "id": payment.id,
        "payer": payment.payer,
        "amount": payment.amount,
        "currency": payment.currency,
        "memo": payment.memo,
        "status": status,
        "refunded": payment.refunded,
        "created_at": payment.created_at,
    })
}

/// Loops forever; `black_box` keeps the optimizer from proving anything
/// about the loop, so only the host's deadline can end it.
fn spin() -> ! {
    let mut counter = 0u64;
    loop {
        counter = std::hint::black_box(counter).wrapping_add(1);
    }
}

/// Allocates `len` bytes and writes every one of them, so the pages are
/// really used (a zeroed allocation could be left untouched).
fn grow(len: usize) -> Vec<u8> {
    let mut buffer = Vec::with_capacity(len);
    buffer.resize(len, 0xA5u8);
    std::hint::black_box(&mut buffer);
    buffer
}

/// Recurses `depth` times. Not a tail call: each frame keeps a small buffer
/// alive across the recursive call and uses it afterwards, and `black_box`
/// hides the values from the optimizer, so it cannot become a loop.
#[inline(never)]
fn recurse(depth: u32) -> u32 {
    let mut frame = [depth as u8; 16];
    std::hint::black_box(&mut frame);
    if std::hint::black_box(depth) == 0 {
        return 0;
    }
    let below = recurse(depth - 1);
    std::hint::black_box(&frame);
    below + 1
}

/// Reads the action's JSON payload without panicking: a missing or mistyped
/// field is an `invalid` error naming the field.
struct Args<'a>(&'a Value);

impl Args<'_> {
    fn field(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    fn str(&self, name: &str) -> Result<String, Error> {
        self.opt_str(name)?
            .ok_or_else(|| invalid(format!("payload needs a string `{name}`")))
    }

    fn opt_str(&self, name: &str) -> Result<Option<String>, Error> {
        match self.field(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(invalid(format!("`{name}` must be a string or null"))),
        }
    }

    fn opt_object(&self, name: &str) -> Result<Option<&Map<String, Value>>, Error> {
        match self.field(name) {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(map)),
            Some(_) => Err(invalid(format!("`{name}` must be an object"))),
        }
    }

    fn u64(&self, name: &str) -> Result<u64, Error> {
        self.field(name)
            .and_then(Value::as_u64)
            .ok_or_else(|| invalid(format!("payload needs a non-negative integer `{name}`")))
    }

    fn u32(&self, name: &str) -> Result<u32, Error> {
        u32::try_from(self.u64(name)?).map_err(|_| invalid(format!("`{name}` is too large")))
    }

    fn i64(&self, name: &str) -> Result<i64, Error> {
        self.field(name)
            .and_then(Value::as_i64)
            .ok_or_else(|| invalid(format!("payload needs an integer `{name}`")))
    }
}
