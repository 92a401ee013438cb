//! The one trait an app implements, and what it says about itself.

use qun_blocks::{CommandOption, CommandSpec};

use crate::{
    ActionAnswer, ActionCall, Command, Context, Error, Event, Input, Reply, Result, Submission,
};

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

    /// A member typed `/name args` (or submitted the command's form, for a
    /// command with options). The [`Reply`] is what they see: a message
    /// posted to the group (no `messaging` capability needed), a private
    /// reply, a form, or nothing.
    ///
    /// The default answers `invalid: unknown command`.
    fn on_command(ctx: &Context, command: &Command) -> Result<Reply> {
        let _ = ctx;
        Err(Error::invalid(format!("unknown command /{}", command.name)))
    }

    /// A member clicked a button, chose from a menu, picked a member, or
    /// called the action API. The answer's data goes back to API callers as
    /// JSON; its reply is what the member sees. A plain [`Json`](crate::Json)
    /// converts: `Ok(json!({"ok": true}).into())`.
    ///
    /// The default answers `invalid: unknown action`.
    fn on_action(ctx: &Context, call: &ActionCall) -> Result<ActionAnswer> {
        let _ = ctx;
        Err(Error::invalid(format!("unknown action `{}`", call.name)))
    }

    /// A member submitted a form the app opened; every value was checked by
    /// the host against its input. Answer with field errors to show the form
    /// again, with the next form, or with what the member sees next.
    ///
    /// The default answers `invalid: unknown form`.
    fn on_submit(ctx: &Context, submission: &Submission) -> Result<Reply> {
        let _ = ctx;
        Err(Error::invalid(format!(
            "unknown form `{}`",
            submission.callback
        )))
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

/// An action the app declares: a name and one line of help.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spec {
    /// The action's name.
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
    /// The commands the app answers, with their typed options.
    pub commands: Vec<CommandSpec>,
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

    /// Declares a command without options, `name` without the slash (the
    /// app parses [`Command::args`] itself).
    pub fn command(self, name: impl Into<String>, description: impl Into<String>) -> Self {
        self.command_with(CommandSpec {
            name: name.into(),
            description: description.into(),
            options: Vec::new(),
        })
    }

    /// Declares a command with typed options: the host parses what members
    /// type, answers usage errors naming the option, and opens the command's
    /// form (pre-filled) when a required option is missing.
    ///
    /// ```
    /// # use qun_sdk::prelude::*;
    /// let info = Describe::new("events", "Events").command_with(
    ///     Describe::spec("event", "Create an event")
    ///         .option(Input::text("title", "What").required().max_length(200))
    ///         .option(Input::date_time("when", "When it starts").required())
    ///         .option(Input::integer("capacity", "Seats").required().min(1)),
    /// );
    /// assert_eq!(info.commands[0].options[2].name, "capacity");
    /// ```
    pub fn command_with(mut self, spec: impl Into<CommandSpec>) -> Self {
        self.commands.push(spec.into());
        self
    }

    /// A command's declaration, to fill with [`CommandBuilder::option`].
    pub fn spec(name: impl Into<String>, description: impl Into<String>) -> CommandBuilder {
        CommandBuilder(CommandSpec {
            name: name.into(),
            description: description.into(),
            options: Vec::new(),
        })
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

/// A command's declaration with typed options; see [`Describe::command_with`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandBuilder(CommandSpec);

impl CommandBuilder {
    /// Adds an option (at most 10), in the order members type them
    /// (separated by `|`, or as `name: value`). The input's id is the
    /// option's name, its label the description.
    pub fn option(mut self, input: Input) -> Self {
        self.0.options.push(input.into_option());
        self
    }

    /// Adds an option given as the shared model.
    pub fn option_raw(mut self, option: CommandOption) -> Self {
        self.0.options.push(option);
        self
    }
}

impl From<CommandBuilder> for CommandSpec {
    fn from(b: CommandBuilder) -> Self {
        b.0
    }
}
