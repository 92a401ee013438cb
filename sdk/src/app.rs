//! The one trait an app implements, and what it says about itself.

use crate::{Command, Context, Error, Event, Json, Reply, Result};

/// A Qun group app. Implement it on a unit struct and register it with
/// [`export_app!`](crate::export_app).
///
/// Every method is static: the host starts a fresh instance per invocation, so
/// an app keeps nothing in memory between calls; state lives in
/// [`storage`](crate::storage).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a Qun app",
    label = "this type must implement `qun_sdk::App`",
    note = "add `impl qun_sdk::App for {Self} {{ fn describe() -> Describe {{ Describe::new(\"name\", \"Title\") }} }}`"
)]
pub trait App {
    /// Who the app is: its name, title, version, commands and actions.
    fn describe() -> Describe;

    /// A member typed `/name args`. The returned [`Reply`] is posted to the
    /// group as the app's answer (no `messaging` capability needed for it).
    ///
    /// The default answers `invalid: unknown command`.
    fn on_command(ctx: &Context, command: &Command) -> Result<Reply> {
        let _ = ctx;
        Err(Error::invalid(format!("unknown command /{}", command.name)))
    }

    /// A member clicked a button or called the action API. `payload` is the
    /// JSON document of the button or request (`null` when empty); the answer
    /// is sent back as JSON.
    ///
    /// The default answers `invalid: unknown action`.
    fn on_action(ctx: &Context, action: &str, payload: &Json) -> Result<Json> {
        let _ = (ctx, payload);
        Err(Error::invalid(format!("unknown action `{action}`")))
    }

    /// Something happened in the group. The default ignores every event.
    fn on_event(ctx: &Context, event: &Event) -> Result<()> {
        let _ = (ctx, event);
        Ok(())
    }
}

/// Events an app can ask for beyond the ones it always receives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subscription {
    /// Every message members post in the group.
    MessagePosted,
}

/// A command or an action the app declares: a name and one line of help.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spec {
    /// The command word (without the slash) or the action name.
    pub name: String,
    /// One line of help.
    pub description: String,
}

/// What an app says about itself, built with chained calls:
///
/// ```
/// # use qun_sdk::prelude::*;
/// let info = Describe::new("polls", "Polls")
///     .version(env!("CARGO_PKG_VERSION"))
///     .description("Ask the group a question.")
///     .command("poll", "Start a poll: /poll Question? | yes | no")
///     .action("vote", "Vote in a poll");
/// assert_eq!(info.commands[0].name, "poll");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Describe {
    /// A short machine name, e.g. `polls`.
    pub name: String,
    /// The title shown in the catalog.
    pub title: String,
    /// Semver; `0.0.0` unless set with [`Describe::version`].
    pub version: String,
    /// One paragraph for the catalog.
    pub description: String,
    /// The commands the app answers.
    pub commands: Vec<Spec>,
    /// The actions the app answers.
    pub actions: Vec<Spec>,
    /// Optional events it wants.
    pub subscriptions: Vec<Subscription>,
}

impl Describe {
    /// An app called `name` (machine name) and `title` (shown to people).
    pub fn new(name: impl Into<String>, title: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            title: title.into(),
            version: "0.0.0".into(),
            description: String::new(),
            commands: Vec::new(),
            actions: Vec::new(),
            subscriptions: Vec::new(),
        }
    }

    /// Sets the version; `env!("CARGO_PKG_VERSION")` keeps it in step with Cargo.toml.
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = version.into();
        self
    }

    /// Sets the catalog paragraph.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    /// Declares a command, `name` without the slash.
    pub fn command(mut self, name: impl Into<String>, description: impl Into<String>) -> Self {
        self.commands.push(Spec {
            name: name.into(),
            description: description.into(),
        });
        self
    }

    /// Declares an action.
    pub fn action(mut self, name: impl Into<String>, description: impl Into<String>) -> Self {
        self.actions.push(Spec {
            name: name.into(),
            description: description.into(),
        });
        self
    }

    /// Asks for an optional event.
    pub fn subscribe(mut self, subscription: Subscription) -> Self {
        self.subscriptions.push(subscription);
        self
    }
}
