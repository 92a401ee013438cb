//! Implementation of the `qun:app/messaging` interface.
//!
//! Messages, updates, deletions, private replies and direct messages are
//! buffered in the invocation's effects and written when the handler
//! returns `ok`; a failed invocation changes nothing. A posted message's id
//! is given out at once (the row is inserted with it at commit), so an app
//! can keep it and update the message later.

use qun_blocks::Message;

use super::generated::qun::app::blocks as wit;
use super::generated::qun::app::messaging::Host;
use super::{Capability, Error, capability_call, internal, message_from_wit};
use crate::runtime::{InvocationState, OutDirect, OutMessage, checks};
use crate::store::now_ms;

/// Bytes a buffered message is charged against `effects_bytes`.
fn charge(message: &Message) -> usize {
    message.text.len() + serde_json::to_string(&message.blocks).map_or(0, |json| json.len())
}

impl InvocationState {
    /// `invalid` unless `message` keeps to the rules (limits, declared
    /// actions, storable text).
    pub(crate) fn check_message(&self, message: &Message) -> Result<(), Error> {
        checks::message(message, &self.declared_actions, self.limits.message_bytes)
            .map_err(Error::Invalid)
    }

    /// `not-found` unless `to` is a member of this group.
    async fn check_member(&mut self, to: &str) -> Result<(), Error> {
        self.check_size("member id", to.len(), self.limits.string_bytes)?;
        self.check_text("member id", to)?;
        match self
            .db
            .member(&self.ident.group_id, to)
            .await
            .map_err(internal)?
        {
            Some(_) => Ok(()),
            None => Err(Error::NotFound(format!(
                "{to} is not a member of this group"
            ))),
        }
    }

    /// Buffer a checked message for the group (or, with `visible_to`, for
    /// one member); its id, given out now. `card` is a `qun:app@0.1.0` card
    /// kept beside its blocks.
    pub(crate) async fn post_message(
        &mut self,
        message: Message,
        card: Option<serde_json::Value>,
        visible_to: Option<String>,
    ) -> Result<i64, Error> {
        let since = now_ms() - 60_000;
        let (posted, drawn) = self
            .db
            .posted_since_and_new_id(&self.ident.installation_id, since)
            .await
            .map_err(internal)?;
        if posted + self.effects.messages.len() as i64 >= self.limits.messages_per_minute {
            return Err(Error::QuotaExceeded(format!(
                "this app may post {} messages per minute in a group",
                self.limits.messages_per_minute
            )));
        }
        self.charge_effect(charge(&message))?;
        let id = match drawn {
            Some(id) => id,
            None => self.db.allocate_message_id().await.map_err(internal)?,
        };
        self.effects.messages.push(OutMessage {
            id: Some(id),
            message,
            card,
            visible_to,
        });
        Ok(id)
    }

    /// Buffer a checked direct message to `to`, a member of this group.
    pub(crate) async fn send_direct_message(
        &mut self,
        to: String,
        message: Message,
        card: Option<serde_json::Value>,
    ) -> Result<(), Error> {
        self.check_dm_quota(&to).await?;
        self.check_member(&to).await?;
        self.charge_effect(to.len() + charge(&message))?;
        *self
            .dm_recent
            .get_or_insert_default()
            .1
            .entry(to.clone())
            .or_default() += 1;
        self.effects.directs.push(OutDirect { to, message, card });
        Ok(())
    }

    /// The message `id` if this installation posted it in this group and it
    /// is not deleted: buffered in this invocation (`Some(index)`) or stored
    /// (`None`). `not-found` otherwise, whoever posted it.
    async fn own_message(&mut self, id: &str) -> Result<Option<usize>, Error> {
        let not_found =
            || Error::NotFound(format!("this app posted no message {id:?} in this group"));
        let id: i64 = id.parse().map_err(|_| not_found())?;
        if self.effects.deletes.contains(&id) {
            return Err(not_found());
        }
        if let Some(at) = self.effects.messages.iter().position(|m| m.id == Some(id)) {
            return Ok(Some(at));
        }
        match self
            .db
            .own_message(&self.ident.group_id, &self.ident.installation_id, id)
            .await
            .map_err(internal)?
        {
            Some(_) => Ok(None),
            None => Err(not_found()),
        }
    }

    async fn post_impl(&mut self, message: wit::Message) -> Result<String, Error> {
        let message = message_from_wit(message);
        self.check_message(&message)?;
        self.check_shown_files(&message).await?;
        let id = self.post_message(message, None, None).await?;
        Ok(id.to_string())
    }

    async fn send_direct_impl(&mut self, to: String, message: wit::Message) -> Result<(), Error> {
        self.check_size("member id", to.len(), self.limits.string_bytes)?;
        self.check_text("member id", &to)?;
        let message = message_from_wit(message);
        self.check_message(&message)?;
        self.check_shown_files(&message).await?;
        self.send_direct_message(to, message, None).await
    }

    async fn update_impl(&mut self, id: String, message: wit::Message) -> Result<(), Error> {
        self.check_size("message id", id.len(), self.limits.string_bytes)?;
        let message = message_from_wit(message);
        self.check_message(&message)?;
        self.check_shown_files(&message).await?;
        let buffered = self.own_message(&id).await?;
        self.charge_effect(charge(&message))?;
        match buffered {
            // Posted by this invocation: it is stored as it ends up.
            Some(at) => {
                let out = &mut self.effects.messages[at];
                out.message = message;
                out.card = None;
            }
            None => {
                let id: i64 = id.parse().map_err(|_| Error::NotFound(id.clone()))?;
                self.effects.updates.insert(id, message);
            }
        }
        Ok(())
    }

    async fn delete_message_impl(&mut self, id: String) -> Result<(), Error> {
        self.check_size("message id", id.len(), self.limits.string_bytes)?;
        let buffered = self.own_message(&id).await?;
        self.charge_effect(16)?;
        match buffered {
            // Posted by this invocation: it is never stored.
            Some(at) => {
                self.effects.messages.remove(at);
            }
            None => {
                let id: i64 = id.parse().map_err(|_| Error::NotFound(id.clone()))?;
                self.effects.updates.remove(&id);
                self.effects.deletes.insert(id);
            }
        }
        Ok(())
    }

    async fn post_private_impl(
        &mut self,
        to: String,
        message: wit::Message,
    ) -> Result<String, Error> {
        let message = message_from_wit(message);
        self.check_message(&message)?;
        self.check_shown_files(&message).await?;
        self.check_member(&to).await?;
        let id = self.post_message(message, None, Some(to)).await?;
        Ok(id.to_string())
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

impl Host for InvocationState {
    async fn post(&mut self, message: wit::Message) -> Result<String, Error> {
        capability_call!(
            self,
            Capability::Messaging,
            "messaging.post",
            self.post_impl(message)
        )
    }

    async fn update(&mut self, id: String, message: wit::Message) -> Result<(), Error> {
        capability_call!(
            self,
            Capability::Messaging,
            "messaging.update",
            self.update_impl(id, message)
        )
    }

    async fn delete(&mut self, id: String) -> Result<(), Error> {
        capability_call!(
            self,
            Capability::Messaging,
            "messaging.delete",
            self.delete_message_impl(id)
        )
    }

    async fn post_private(&mut self, to: String, message: wit::Message) -> Result<String, Error> {
        capability_call!(
            self,
            Capability::Messaging,
            "messaging.post-private",
            self.post_private_impl(to, message)
        )
    }

    async fn send_direct(&mut self, to: String, message: wit::Message) -> Result<(), Error> {
        capability_call!(
            self,
            Capability::Messaging,
            "messaging.send-direct",
            self.send_direct_impl(to, message)
        )
    }
}
