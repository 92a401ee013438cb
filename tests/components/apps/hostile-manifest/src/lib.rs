//! `hostile-manifest`: a describe answer with 20,000 commands; uploading it must be refused with `manifest_limit` and leave nothing stored or cached. (Tens of thousands, yet clear of the describe deadline on a busy machine in a debug build.)

// One source shape for every manifest test app; not every app uses every helper.
#![allow(dead_code, unused_imports)]

wit_bindgen::generate!({
    path: "../../../../wit/0.1.0",
    world: "group-app",
});

use exports::qun::app::handler::{
    AppInfo, Command, CommandSpec, Context, Error, Event, Guest, Message, Subscription,
};

struct App;

impl Guest for App {
    fn describe() -> AppInfo {
        AppInfo {
            name: "hostile-manifest".to_string(),
            title: "Hostile manifest".to_string(),
            version: "1.0.0".to_string(),
            description: "Declares 20,000 commands.".to_string(),
            commands: (0..20_000)
                .map(|i| CommandSpec {
                    name: format!("c{i}"),
                    description: "x".repeat(8),
                })
                .collect(),
            actions: Vec::new(),
            subscriptions: Vec::new(),
        }
    }

    fn on_command(_ctx: Context, command: Command) -> Result<Option<Message>, Error> {
        Ok(Some(Message {
            text: Some(format!(
                "hostile-manifest 1.0.0 /{}: {}",
                command.name, command.args
            )),
            card: None,
        }))
    }

    fn on_action(_ctx: Context, action: String, _payload: String) -> Result<String, Error> {
        Err(Error::NotFound(format!("no action {action}")))
    }

    fn on_event(_ctx: Context, _event: Event) -> Result<(), Error> {
        Ok(())
    }
}

fn commands(names: &[&str]) -> Vec<CommandSpec> {
    names
        .iter()
        .map(|name| CommandSpec {
            name: name.to_string(),
            description: format!("The {name} command."),
        })
        .collect()
}

export!(App);
