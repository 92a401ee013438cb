//! `manifest-rival` 2.0.0: declares `/rival` and `/probe` (the `probe` test app's command), so it cannot be installed, or upgraded to, in a group where `probe` is installed.

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
            name: "manifest-rival".to_string(),
            title: "Rival".to_string(),
            version: "2.0.0".to_string(),
            description: "Version two also wants /probe.".to_string(),
            commands: commands(&["rival", "probe"]),
            actions: Vec::new(),
            subscriptions: vec![Subscription::MessagePosted],
        }
    }

    fn on_command(_ctx: Context, command: Command) -> Result<Option<Message>, Error> {
        Ok(Some(Message {
            text: Some(format!(
                "manifest-rival 2.0.0 /{}: {}",
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
