//! `hostile-subscriptions`: subscribes to `message-posted` 100,000 times (a million can outlast the describe deadline, which refuses it too, but less clearly); uploading it must be refused with `manifest_limit`.

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
            name: "hostile-subscriptions".to_string(),
            title: "Hostile subscriptions".to_string(),
            version: "1.0.0".to_string(),
            description: "Subscribes 100,000 times.".to_string(),
            commands: commands(&["subs"]),
            actions: Vec::new(),
            subscriptions: vec![Subscription::MessagePosted; 100_000],
        }
    }

    fn on_command(_ctx: Context, command: Command) -> Result<Option<Message>, Error> {
        Ok(Some(Message {
            text: Some(format!(
                "hostile-subscriptions 1.0.0 /{}: {}",
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
