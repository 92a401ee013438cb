//! Commands (typed options, the command's form when options are missing) and
//! forms: open ones per member, submissions checked value by value as the
//! host checks them, next steps.

use qun_blocks::{FieldError, MAX_FORM_STEPS};

use super::TestGroup;
use super::checks::{self, CommandArgs};
use crate::{App, Command, Error, Form, Json, Reply, Result, Submission};

/// Where a form came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The host opened a command's form (options were missing); submitting
    /// it runs the command with the values as its options.
    Command {
        /// The command word.
        name: String,
        /// What was typed after it.
        args: String,
    },
    /// The app opened it; submitting it runs `on_submit`.
    App,
}

/// A form open for one member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenForm {
    /// The member it was opened for (only they can submit it).
    pub member: String,
    /// The form.
    pub form: Form,
    /// 1 for the first form, one more for each next form.
    pub step: u8,
    /// Where it came from.
    pub origin: Origin,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Forms {
    open: Vec<OpenForm>,
}

impl Forms {
    pub(crate) fn open(&mut self, member: &str, form: Form, step: u8, origin: Origin) {
        self.open.retain(|f| f.member != member);
        self.open.push(OpenForm {
            member: member.to_owned(),
            form,
            step,
            origin,
        });
    }

    fn of(&self, member: &str) -> Option<&OpenForm> {
        self.open.iter().find(|f| f.member == member)
    }

    fn close(&mut self, member: &str) {
        self.open.retain(|f| f.member != member);
    }
}

impl<A: App> TestGroup<A> {
    /// `actor` types `line` (e.g. `/poll a | b`); what they see is returned
    /// (a post or a private reply is also put in the group, a form is opened
    /// for them).
    ///
    /// As on the host: `/help` (unless the app declares it) is the host's
    /// private reply listing the app's commands; a command no app declares is `not-found`; a command
    /// with declared options has them parsed and checked first: a wrong
    /// value is `invalid` naming the option (the app never runs), and
    /// missing required options open the command's form pre-filled with what
    /// was typed (the app runs when it is submitted).
    pub fn command(&mut self, actor: &str, line: &str) -> Result<Reply> {
        let command = Command::from_line(line).ok_or_else(|| {
            Error::invalid(format!(
                "`{line}` is not a command; commands look like /name args"
            ))
        })?;
        let describe = A::describe();
        if command.name == "help" && !describe.commands.iter().any(|c| c.name == "help") {
            // The host answers `/help` itself, privately, from the declarations.
            let help = qun_blocks::help_message(&[(describe.title.clone(), describe.commands)]);
            self.state
                .add_message(help.clone().into(), Some(actor.to_owned()));
            return Ok(Reply::Private(help.into()));
        }
        let spec = describe
            .commands
            .into_iter()
            .find(|c| c.name == command.name)
            .ok_or_else(|| {
                Error::not_found(format!("no app in this group answers /{}", command.name))
            })?;
        if spec.options.is_empty() {
            return self.run_command(actor, command);
        }
        let zone = self.state.time_zone.clone();
        match checks::parse_command(&spec, &command.args, &zone, self.state.now) {
            CommandArgs::Complete(options) => {
                self.run_command(actor, command.with_options(options))
            }
            CommandArgs::Incomplete { form, .. } => {
                let form = Form::from(form);
                self.forms.open(
                    actor,
                    form.clone(),
                    1,
                    Origin::Command {
                        name: command.name,
                        args: command.args,
                    },
                );
                Ok(Reply::Form(form))
            }
            CommandArgs::Usage(err) => Err(Error::invalid(format!(
                "/{} {}: {}",
                command.name, err.option, err.message
            ))),
        }
    }

    /// The files chosen in a submitted form's file inputs: the ids to give
    /// the app, or an error beside each input naming a file that `actor` did
    /// not upload or of a type it does not accept.
    fn given_files(
        &self,
        actor: &str,
        form: &Form,
        chosen: &[(String, Vec<String>)],
    ) -> (Vec<String>, Vec<FieldError>) {
        let mut given = Vec::new();
        let mut errors = Vec::new();
        for (input, ids) in chosen {
            let accepts = match form.input_named(input).map(|i| &i.kind) {
                Some(qun_blocks::InputKind::File(f)) => f.clone(),
                _ => qun_blocks::FileInput::default(),
            };
            let problem = ids.iter().find_map(|id| {
                let file = self
                    .state
                    .files
                    .get(id)
                    .filter(|f| f.info.uploaded_by.as_deref() == Some(actor));
                match file {
                    None => Some(format!("`{id}` is not a file you uploaded")),
                    Some(f) if !accepts.accepts(&f.info.content_type) => Some(format!(
                        "“{}” is {}; this input accepts {}",
                        f.info.name,
                        f.info.content_type,
                        accepts.accept.join(", ")
                    )),
                    Some(_) => None,
                }
            });
            match problem {
                Some(message) => errors.push(FieldError {
                    input: input.clone(),
                    message,
                }),
                None => given.extend(ids.iter().cloned()),
            }
        }
        (given, errors)
    }

    fn run_command(&mut self, actor: &str, command: Command) -> Result<Reply> {
        let declared = self.state.declared.clone();
        let reply = self.invoke(Some(actor), |ctx| {
            let reply = A::on_command(ctx, &command)?;
            checks::check_reply(&reply, &declared, false)?;
            Ok(reply)
        })?;
        self.show(actor, &reply, None);
        Ok(reply)
    }

    /// The form open for `member`, if any.
    pub fn open_form(&self, member: &str) -> Option<&OpenForm> {
        self.forms.of(member)
    }

    /// `member` closes their open form without submitting it.
    pub fn close_form(&mut self, member: &str) {
        self.forms.close(member);
    }

    /// `actor` submits the form open for them with `values`, a JSON object
    /// by input id, as a client sends them (`{"answer": "...", "score": 90,
    /// "due": "2030-06-01 09:00", "photos": ["file-3"]}`; a file input takes
    /// the ids [`upload`](Self::upload) gave).
    ///
    /// The values are checked against the inputs first, by the host's code
    /// (and each chosen file must be one `actor` uploaded, of a type the
    /// input accepts; the app may read them in this invocation):
    /// when one is wrong, the answer is [`Reply::FieldErrors`] naming the
    /// inputs, the app is not invoked, and the form stays open. Otherwise the
    /// app's answer is returned: its field errors keep the form open, its
    /// next form replaces it (at most 5 steps), anything else closes it.
    pub fn submit(&mut self, actor: &str, values: Json) -> Result<Reply> {
        let open = self
            .forms
            .of(actor)
            .cloned()
            .ok_or_else(|| Error::not_found(format!("no form is open for {actor}")))?;
        let values = match values {
            Json::Object(map) => map,
            other => {
                return Err(Error::invalid(format!(
                    "form values must be a JSON object by input id, not {other}"
                )));
            }
        };
        let zone = self.state.time_zone.clone();
        let submitted = match checks::check_submission(open.form.model(), &values, &zone) {
            Ok(submitted) => submitted,
            Err(errors) => return Ok(Reply::FieldErrors(errors)),
        };
        let not_members: Vec<FieldError> = submitted
            .members
            .iter()
            .filter(|(_, member)| !self.state.members.contains_key(member))
            .map(|(input, _)| FieldError {
                input: input.clone(),
                message: "is not a member of this group".into(),
            })
            .collect();
        if !not_members.is_empty() {
            return Ok(Reply::FieldErrors(not_members));
        }
        let (given, file_errors) = self.given_files(actor, &open.form, &submitted.files);
        if !file_errors.is_empty() {
            return Ok(Reply::FieldErrors(file_errors));
        }
        let declared = self.state.declared.clone();
        let reply = match &open.origin {
            Origin::Command { name, args } => {
                let command =
                    Command::new(name.clone(), args.clone()).with_options(submitted.values);
                self.invoke_given(Some(actor), &given, |ctx| {
                    let reply = A::on_command(ctx, &command)?;
                    checks::check_reply(&reply, &declared, false)?;
                    Ok(reply)
                })?
            }
            Origin::App => {
                let submission = Submission {
                    callback: open.form.callback().to_owned(),
                    state: open.form.state_json().to_owned(),
                    values: submitted.values,
                    step: open.step,
                };
                self.invoke_given(Some(actor), &given, |ctx| {
                    let reply = A::on_submit(ctx, &submission)?;
                    checks::check_reply(&reply, &declared, true)?;
                    Ok(reply)
                })?
            }
        };
        match &reply {
            Reply::FieldErrors(_) => {}
            Reply::Form(next) => {
                if open.step >= MAX_FORM_STEPS {
                    self.forms.close(actor);
                    return Err(Error::invalid(format!(
                        "a chain of forms has at most {MAX_FORM_STEPS} steps"
                    )));
                }
                self.forms
                    .open(actor, next.clone(), open.step + 1, Origin::App);
            }
            other => {
                self.forms.close(actor);
                self.show(actor, other, None);
            }
        }
        Ok(reply)
    }
}
