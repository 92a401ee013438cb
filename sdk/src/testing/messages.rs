//! What members see: the group's messages (with ids, updates, deletions and
//! private replies), clicks on their elements, and API action calls.

use qun_blocks::{Element, Value};

use super::{TestGroup, checks};
use crate::{ActionAnswer, ActionCall, App, Error, Json, Message, MessageId, Reply, Result};

/// Who a message is from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Author {
    /// The app (a reply or a `messaging` call).
    App,
}

/// A message in the group as the host keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Posted {
    /// Its id.
    pub id: MessageId,
    /// Who posted it.
    pub author: Author,
    /// What it shows now (the latest update).
    pub message: Message,
    /// The only member who sees it (a private reply); `None` for everyone.
    pub visible_to: Option<String>,
    /// How many times it was updated.
    pub updates: u32,
    /// It was deleted (members see it as deleted; it answers 404).
    pub deleted: bool,
}

impl Posted {
    /// True when `member` sees it in the timeline.
    pub fn visible_for(&self, member: &str) -> bool {
        !self.deleted && self.visible_to.as_deref().is_none_or(|to| to == member)
    }
}

impl<A: App> TestGroup<A> {
    /// Every message the app put in the group, in order: public and private,
    /// deleted ones included (see [`Posted::deleted`]).
    pub fn messages(&self) -> &[Posted] {
        &self.state.messages
    }

    /// The messages everyone sees, as they read now (updates applied,
    /// deleted and private ones left out).
    pub fn posted(&self) -> Vec<&Message> {
        self.state
            .messages
            .iter()
            .filter(|p| !p.deleted && p.visible_to.is_none())
            .map(|p| &p.message)
            .collect()
    }

    /// The last message everyone sees.
    pub fn last_posted(&self) -> Option<&Message> {
        self.posted().last().copied()
    }

    /// The id of the last message everyone sees.
    pub fn last_posted_id(&self) -> Option<MessageId> {
        self.state
            .messages
            .iter()
            .rev()
            .find(|p| !p.deleted && p.visible_to.is_none())
            .map(|p| p.id.clone())
    }

    /// What `member` sees in the group's timeline: public messages and their
    /// own private replies, updates applied, deleted ones left out.
    pub fn timeline(&self, member: &str) -> Vec<&Posted> {
        self.state
            .messages
            .iter()
            .filter(|p| p.visible_for(member))
            .collect()
    }

    /// The private replies only `member` sees.
    pub fn private_replies(&self, member: &str) -> Vec<&Message> {
        self.state
            .messages
            .iter()
            .filter(|p| !p.deleted && p.visible_to.as_deref() == Some(member))
            .map(|p| &p.message)
            .collect()
    }

    /// The message `id` as `member` sees it; `None` if deleted, private to
    /// someone else, or unknown (the API answers 404 for all three).
    pub fn message_for(&self, member: &str, id: &MessageId) -> Option<&Message> {
        self.state
            .messages
            .iter()
            .find(|p| &p.id == id && p.visible_for(member))
            .map(|p| &p.message)
    }

    fn element_on(
        &self,
        actor: &str,
        id: &MessageId,
        find: impl Fn(&Element) -> bool,
    ) -> Result<Element> {
        let message = self
            .message_for(actor, id)
            .ok_or_else(|| Error::not_found(format!("no message {id} that {actor} can see")))?;
        message
            .elements()
            .into_iter()
            .find(|e| find(e))
            .cloned()
            .ok_or_else(|| Error::not_found(format!("message {id} has no such element")))
    }

    /// `actor` clicks the button labelled `label` on message `id` (which they
    /// must see). The app's `on_action` gets the button's payload and the
    /// message id; what it answers the member is returned and, for a post or
    /// a private reply, put in the group.
    pub fn click(&mut self, actor: &str, id: &MessageId, label: &str) -> Result<Reply> {
        let element = self.element_on(
            actor,
            id,
            |e| matches!(e, Element::Button(b) if b.label == label),
        )?;
        self.element_call(actor, id, &element, None)
    }

    /// `actor` chooses `value` in the select menu running `action` on message `id`.
    pub fn choose(
        &mut self,
        actor: &str,
        id: &MessageId,
        action: &str,
        value: &str,
    ) -> Result<Reply> {
        let element = self.element_on(
            actor,
            id,
            |e| matches!(e, Element::Select(s) if s.action == action),
        )?;
        if let Element::Select(select) = &element {
            qun_blocks_choice(select, value)?;
        }
        self.element_call(
            actor,
            id,
            &element,
            Some(Value::Choices(vec![value.to_owned()])),
        )
    }

    /// `actor` picks `member` in the member picker running `action` on
    /// message `id`; the host refuses someone who is not in the group.
    pub fn pick(
        &mut self,
        actor: &str,
        id: &MessageId,
        action: &str,
        member: &str,
    ) -> Result<Reply> {
        let element = self.element_on(
            actor,
            id,
            |e| matches!(e, Element::MemberPicker(p) if p.action == action),
        )?;
        if !self.state.members.contains_key(member) {
            return Err(Error::invalid(format!(
                "`{member}` is not a member of this group"
            )));
        }
        self.element_call(actor, id, &element, Some(Value::Member(member.to_owned())))
    }

    fn element_call(
        &mut self,
        actor: &str,
        id: &MessageId,
        element: &Element,
        value: Option<Value>,
    ) -> Result<Reply> {
        let payload = parse_payload(element.action(), element.payload(), true)?;
        let call = ActionCall {
            name: element.action().to_owned(),
            payload,
            value,
            message_id: Some(id.clone()),
        };
        Ok(self.act(actor, &call)?.reply)
    }

    /// `actor` calls the action API (`POST .../actions/{name}` with `payload`
    /// as the body): the app's answer data, as JSON. Like the host, the call
    /// reaches the app even for an action it did not declare (its default
    /// `on_action` refuses it), and a reply it gives is put in the group.
    pub fn action(&mut self, actor: &str, name: &str, payload: Json) -> Result<Json> {
        self.action_raw(actor, name, &payload.to_string())
    }

    /// [`action`](Self::action) with a raw request body; an empty body, one
    /// that is not JSON or one over 64 KiB is refused, as the HTTP API refuses it.
    pub fn action_raw(&mut self, actor: &str, name: &str, body: &str) -> Result<Json> {
        let limit = self.state.limits.answer_bytes;
        if body.len() > limit {
            return Err(Error::invalid(format!(
                "the action payload is {} bytes; the limit is {limit}",
                body.len()
            )));
        }
        let payload = parse_payload(name, body, false)?;
        let answer = self.act(actor, &ActionCall::new(name, payload))?;
        Ok(answer.data)
    }

    /// One `on_action` invocation as `actor`, its reply checked and shown.
    pub fn act(&mut self, actor: &str, call: &ActionCall) -> Result<ActionAnswer> {
        let declared = self.state.declared.clone();
        let limit = self.state.limits.answer_bytes;
        let answer = self.invoke(Some(actor), |ctx| {
            let answer = A::on_action(ctx, call)?;
            let size = serde_json::to_string(&answer.data)?.len();
            if size > limit {
                return Err(Error::invalid(format!(
                    "the action answer is {size} bytes; the limit is {limit}"
                )));
            }
            checks::check_reply(&answer.reply, &declared, false)?;
            Ok(answer)
        })?;
        self.show(actor, &answer.reply, None);
        // What the host sends back is the JSON text of the answer.
        let data = serde_json::from_str(&serde_json::to_string(&answer.data)?)?;
        Ok(ActionAnswer {
            data,
            reply: answer.reply,
        })
    }

    /// Puts a checked reply where the member sees it: a post in the group, a
    /// private reply, or an open form.
    pub(crate) fn show(
        &mut self,
        actor: &str,
        reply: &Reply,
        origin: Option<super::forms::Origin>,
    ) {
        match reply {
            Reply::Post(message) => {
                self.state.add_message(message.clone(), None);
            }
            Reply::Private(message) => {
                self.state
                    .add_message(message.clone(), Some(actor.to_owned()));
            }
            Reply::Form(form) => {
                self.forms.open(
                    actor,
                    form.clone(),
                    1,
                    origin.unwrap_or(super::forms::Origin::App),
                );
            }
            Reply::None | Reply::FieldErrors(_) => {}
        }
    }
}

fn qun_blocks_choice(select: &qun_blocks::SelectMenu, value: &str) -> Result<()> {
    if select.options.iter().any(|c| c.value == value) {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "`{value}` is not one of the menu's options"
        )))
    }
}

/// A payload as the app receives it. An element's empty payload is `null`;
/// an empty API body is refused, as the HTTP API refuses it.
fn parse_payload(action: &str, text: &str, element: bool) -> Result<Json> {
    if text.trim().is_empty() {
        if element {
            return Ok(Json::Null);
        }
        return Err(Error::invalid(format!(
            "the request body of `{action}` is empty; send a JSON document"
        )));
    }
    serde_json::from_str(text)
        .map_err(|err| Error::invalid(format!("the payload of `{action}` is not JSON: {err}")))
}
