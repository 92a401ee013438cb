//! `qun:app/handler@0.1.0`, the export: a 0.1 app's answers converted to
//! the 0.2 shapes the runtime works with, and 0.2 events to 0.1.

use serde_json::json;

use super::types::payment;
use super::wit_handler as v1;
use super::wit_types;
use crate::capabilities::handler as v2;

/// A 0.1 `describe` answer as 0.2's (commands without typed options).
pub fn app_info(info: v1::AppInfo) -> v2::AppInfo {
    v2::AppInfo {
        name: info.name,
        title: info.title,
        version: info.version,
        description: info.description,
        commands: info
            .commands
            .into_iter()
            .map(|c| v2::CommandSpec {
                name: c.name,
                description: c.description,
                options: Vec::new(),
            })
            .collect(),
        actions: info
            .actions
            .into_iter()
            .map(|a| v2::ActionSpec {
                name: a.name,
                description: a.description,
            })
            .collect(),
        subscriptions: info
            .subscriptions
            .into_iter()
            .map(|s| match s {
                v1::Subscription::MessagePosted => v2::Subscription::MessagePosted,
            })
            .collect(),
    }
}

/// An event as a 0.1 app receives it (a timer does not say whether it recurs:
/// 0.1 apps schedule one-off timers only).
pub fn event_to_v0_1(event: &v2::Event) -> v1::Event {
    match event {
        v2::Event::Installed => v1::Event::Installed,
        v2::Event::Uninstalled => v1::Event::Uninstalled,
        v2::Event::MemberJoined(m) => v1::Event::MemberJoined(m.clone()),
        v2::Event::MemberLeft(m) => v1::Event::MemberLeft(m.clone()),
        v2::Event::MessagePosted(m) => v1::Event::MessagePosted(v1::PostedMessage {
            id: m.id.clone(),
            author: m.author.clone(),
            text: m.text.clone(),
        }),
        v2::Event::PaymentSettled(p) => v1::Event::PaymentSettled(payment(p.clone())),
        v2::Event::PaymentFailed(f) => v1::Event::PaymentFailed(v1::PaymentFailure {
            payment: payment(f.payment.clone()),
            reason: f.reason.clone(),
        }),
        v2::Event::TimerFired(t) => v1::Event::TimerFired(v1::Timer {
            key: t.key.clone(),
            payload: t.payload.clone(),
            due: t.due,
        }),
    }
}

/// A 0.1 message as blocks, with its card as 0.1 clients read it
/// (`{"title","body","fields","buttons"}`, button payloads as JSON).
pub fn legacy_message(
    message: &wit_types::Message,
) -> Result<(qun_blocks::Message, Option<serde_json::Value>), String> {
    if message.text.is_none() && message.card.is_none() {
        return Err("a message needs text or a card".into());
    }
    let card = match &message.card {
        None => None,
        Some(card) => {
            let mut buttons = Vec::with_capacity(card.buttons.len());
            for button in &card.buttons {
                let payload: serde_json::Value =
                    serde_json::from_str(&button.payload).map_err(|e| {
                        format!(
                            "button {:?} has a payload that is not JSON: {e}",
                            button.label
                        )
                    })?;
                buttons.push(
                    json!({"label": button.label, "action": button.action, "payload": payload}),
                );
            }
            let fields: Vec<_> = card
                .fields
                .iter()
                .map(|f| json!({"name": f.name, "value": f.value}))
                .collect();
            Some(
                json!({"title": card.title, "body": card.body, "fields": fields, "buttons": buttons}),
            )
        }
    };
    let blocks = qun_blocks::Message {
        text: message.text.clone().unwrap_or_default(),
        blocks: card
            .as_ref()
            .map(crate::store::card_to_blocks)
            .unwrap_or_default(),
    };
    Ok((blocks, card))
}
