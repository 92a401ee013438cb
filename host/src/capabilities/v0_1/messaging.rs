//! `qun:app/messaging@0.1.0` onto 0.2: a 0.1 message (text and/or a card)
//! becomes blocks, kept with its card as 0.1 clients read it.

use super::generated::qun::app::messaging::Host;
use super::{error, legacy_message, wit_types};
use crate::capabilities::{Capability, Error, capability_call};
use crate::runtime::{InvocationState, checks};

impl InvocationState {
    /// A 0.1 message as blocks and card, checked by the rules of 0.1.
    fn legacy(
        &self,
        message: &wit_types::Message,
    ) -> Result<(qun_blocks::Message, Option<serde_json::Value>), Error> {
        let (message, card) = legacy_message(message).map_err(Error::Invalid)?;
        checks::message_v0_1(&message, &self.declared_actions, self.limits.message_bytes)
            .map_err(Error::Invalid)?;
        Ok((message, card))
    }

    async fn post_v0_1(&mut self, message: wit_types::Message) -> Result<(), Error> {
        let (message, card) = self.legacy(&message)?;
        self.post_message(message, card, None).await.map(|_| ())
    }

    async fn send_direct_v0_1(
        &mut self,
        to: String,
        message: wit_types::Message,
    ) -> Result<(), Error> {
        self.check_size("member id", to.len(), self.limits.string_bytes)?;
        self.check_text("member id", &to)?;
        let (message, card) = self.legacy(&message)?;
        self.send_direct_message(to, message, card).await
    }
}

impl Host for InvocationState {
    async fn post(&mut self, message: wit_types::Message) -> Result<(), wit_types::Error> {
        capability_call!(
            self,
            Capability::Messaging,
            "messaging.post",
            self.post_v0_1(message)
        )
        .map_err(error)
    }

    async fn send_direct(
        &mut self,
        to: String,
        message: wit_types::Message,
    ) -> Result<(), wit_types::Error> {
        capability_call!(
            self,
            Capability::Messaging,
            "messaging.send-direct",
            self.send_direct_v0_1(to, message)
        )
        .map_err(error)
    }
}
