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
        self.charge_effect(text.as_ref().map_or(0, |t| t.len()) + card_bytes(&card))?;
        self.effects.messages.push(OutMessage { text, card });
        Ok(())
    }

    async fn send_direct_impl(&mut self, to: String, message: types::Message) -> Result<(), Error> {
        self.check_size("member id", to.len(), self.limits.string_bytes)?;
        self.check_text("member id", &to)?;
        let (text, card) = message_parts(&message, self.limits.message_bytes)?;
        self.check_dm_quota(&to).await?;
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
        self.charge_effect(to.len() + text.as_ref().map_or(0, |t| t.len()) + card_bytes(&card))?;
        *self
            .dm_recent
            .get_or_insert_default()
            .1
            .entry(to.clone())
            .or_default() += 1;
        self.effects.directs.push(OutDirect { to, text, card });
        Ok(())
    }

    /// `quota-exceeded` when one more direct message (to `to`) would pass
    /// the installation's per-minute bounds; the invocation then fails with
    /// `dm_quota` (issue 10, item 6).
    async fn check_dm_quota(&mut self, to: &str) -> Result<(), Error> {
        if let Some(hit) = &self.limit_hit {
            return Err(Error::QuotaExceeded(hit.message().to_string()));
        }
        if self.dm_recent.is_none() {
            let since = now_ms() - 60_000;
            let recent = self
                .db
                .directs_sent_since(&self.ident.installation_id, since)
                .await
                .map_err(internal)?;
            self.dm_recent = Some((
                recent.iter().map(|(_, n)| n).sum(),
                recent.into_iter().collect(),
            ));
        }
        let Some((before, per)) = &self.dm_recent else {
            return Ok(());
        };
        let buffered = self.effects.directs.len() as i64;
        let (all, to_one) = (self.limits.dms_per_minute, self.limits.dms_per_recipient);
        let message = if before + buffered >= all {
            Some(format!(
                "dm_quota: this app may send {all} direct messages per minute in a group"
            ))
        } else if per.get(to).copied().unwrap_or(0) >= to_one {
            Some(format!(
                "dm_quota: this app may send {to_one} direct messages per minute to one member"
            ))
        } else {
            None
        };
        match message {
            Some(message) => {
                self.limit_hit = Some(crate::runtime::LimitHit::Dms(message.clone()));
                Err(Error::QuotaExceeded(message))
            }
            None => Ok(()),
        }
    }
}

/// Bytes of a card as stored.
fn card_bytes(card: &Option<serde_json::Value>) -> usize {
    card.as_ref().map_or(0, |c| c.to_string().len())
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
