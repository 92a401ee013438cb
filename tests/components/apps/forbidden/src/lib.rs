//! `forbidden`: a valid group app that also imports an interface the host
//! does not offer: `wasi:http/outgoing-handler` (a way out to the network).
//! The host must reject this component at upload, naming the import and the
//! build flag that removes it.

wit_bindgen::generate!({
    path: ["../../../../wit/0.1.0", "wit"],
    world: "test:forbidden/forbidden-app",
    generate_all,
});

use exports::qun::app::handler::{AppInfo, Command, Context, Error, Event, Guest, Message};

struct Forbidden;

impl Guest for Forbidden {
    fn describe() -> AppInfo {
        AppInfo {
            name: "forbidden".to_string(),
            title: "Forbidden".to_string(),
            version: "0.1.0".to_string(),
            description: "Imports wasi:http, which the host does not offer.".to_string(),
            commands: Vec::new(),
            actions: vec![exports::qun::app::handler::ActionSpec {
                name: "connect".to_string(),
                description: "Tries an HTTP request to 127.0.0.1:1.".to_string(),
            }],
            subscriptions: Vec::new(),
        }
    }

    fn on_command(_ctx: Context, _command: Command) -> Result<Option<Message>, Error> {
        Ok(None)
    }

    fn on_action(_ctx: Context, _action: String, _payload: String) -> Result<String, Error> {
        let status = wasi::http::outgoing_handler::handle("http://127.0.0.1:1/");
        Ok(format!("{{\"status\":{status}}}"))
    }

    fn on_event(_ctx: Context, _event: Event) -> Result<(), Error> {
        Ok(())
    }
}

export!(Forbidden);
