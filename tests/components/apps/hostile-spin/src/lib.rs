//! `hostile-spin`: burns CPU until the host stops it. `on-action("spin")` and
//! the command `/spin` loop forever (only the deadline ends them); the action
//! `ok` answers `{}` at once. For the fairness tests: a looping app in one
//! group must not stop another group's invocations.

wit_bindgen::generate!({
    path: "../../../../wit/0.1.0",
    world: "group-app",
});

use exports::qun::app::handler::{
    ActionSpec, AppInfo, Command, CommandSpec, Context, Error, Event, Guest, Message,
};

struct Spin;

fn spin() -> ! {
    let mut counter = 0u64;
    loop {
        counter = std::hint::black_box(counter).wrapping_add(1);
    }
}

impl Guest for Spin {
    fn describe() -> AppInfo {
        AppInfo {
            name: "hostile-spin".to_string(),
            title: "Hostile spin".to_string(),
            version: "0.1.0".to_string(),
            description: "Loops forever in on-action and on-command.".to_string(),
            commands: vec![CommandSpec {
                name: "spin".to_string(),
                description: "Loops forever.".to_string(),
            }],
            actions: vec![
                ActionSpec {
                    name: "spin".to_string(),
                    description: "Loops forever.".to_string(),
                },
                ActionSpec {
                    name: "ok".to_string(),
                    description: "Answers {}.".to_string(),
                },
            ],
            subscriptions: Vec::new(),
        }
    }

    fn on_command(_ctx: Context, _command: Command) -> Result<Option<Message>, Error> {
        spin()
    }

    fn on_action(_ctx: Context, action: String, _payload: String) -> Result<String, Error> {
        match action.as_str() {
            "ok" => Ok("{}".to_string()),
            _ => spin(),
        }
    }

    fn on_event(_ctx: Context, _event: Event) -> Result<(), Error> {
        Ok(())
    }
}

export!(Spin);
