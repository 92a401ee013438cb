//! Implementation of the `qun:app/messaging` interface.
//!
//! Messages are buffered in the invocation's effects and written when the
//! handler returns `ok`; a failed invocation posts nothing.

use serde_json::json;

use super::generated::qun::app::messaging::Host;
use super::{Capability, Error, capability_call, internal, types};
use crate::runtime::{InvocationState, OutDirect, OutMessage};
use crate::store::now_ms;

/// A message checked and turned into what the store keeps: text and card JSON.
pub(crate) fn message_parts(
    message: &types::Message,
    max_bytes: usize,
) -> Result<(Option<String>, Option<serde_json::Value>), Error> {
    if message.text.is_none() && message.card.is_none() {
        return Err(Error::Invalid("a message needs text or a card".into()));
    }
    let card = match &message.card {
        None => None,
        Some(card) => {
            let mut buttons = Vec::with_capacity(card.buttons.len());
            for button in &card.buttons {
                let payload: serde_json::Value =
                    serde_json::from_str(&button.payload).map_err(|e| {
                        Error::Invalid(format!(
                            "button {:?} has a payload that is not JSON: {e}",
                            button.label
                        ))
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
    // Text the database could not store the same way on both backends.
    if let Some(text) = &message.text {
        crate::text::check("text", text).map_err(Error::Invalid)?;
    }
    if let Some(card) = &card {
        crate::text::check_json("card", card).map_err(Error::Invalid)?;
    }
    let size = message.text.as_ref().map_or(0, |t| t.len())
        + card.as_ref().map_or(0, |c| c.to_string().len());
    if size > max_bytes {
        return Err(Error::Invalid(format!(
            "message is {size} bytes; the limit is {max_bytes}"
        )));
    }
    Ok((message.text.clone(), card))
}

impl InvocationState {
    async fn post_impl(&mut self, message: types::Message) -> Result<(), Error> {
        let (text, card) = message_parts(&message, self.limits.message_bytes)?;
        let since = now_ms() - 60_000;
        let posted = self
            .db
            .messages_posted_since(&self.ident.installation_id, since)
            .await
            .map_err(internal)?;
        if posted + self.effects.messages.len() as i64 >= self.limits.messages_per_minute {
            return Err(Error::QuotaExceeded(format!(
                "this app may post {} messages per minute in a group",
                self.limits.messages_per_minute
            )));
        }
        self.effects.messages.push(OutMessage { text, card });
        Ok(())
    }

    async fn send_direct_impl(&mut self, to: String, message: types::Message) -> Result<(), Error> {
        self.check_size("member id", to.len(), self.limits.string_bytes)?;
        self.check_text("member id", &to)?;
        let (text, card) = message_parts(&message, self.limits.message_bytes)?;
        if self
            .db
            .member(&self.ident.group_id, &to)
            .await
            .map_err(internal)?
            .is_none()
        {
            return Err(Error::NotFound(format!(
                "{to} is not a member of this group"
            )));
        }
        self.effects.directs.push(OutDirect { to, text, card });
        Ok(())
    }
}

impl Host for InvocationState {
    async fn post(&mut self, message: types::Message) -> Result<(), Error> {
        capability_call!(
            self,
            Capability::Messaging,
            "messaging.post",
            self.post_impl(message)
        )
    }

    async fn send_direct(&mut self, to: String, message: types::Message) -> Result<(), Error> {
        capability_call!(
            self,
            Capability::Messaging,
            "messaging.send-direct",
            self.send_direct_impl(to, message)
        )
    }
}
