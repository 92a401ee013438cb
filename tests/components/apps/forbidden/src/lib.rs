//! `forbidden`: a valid group app that also imports an interface the host
//! does not offer. `on-action` opens a TCP connection with `std::net`, which
//! makes the component import `wasi:sockets/*`; the host gives apps no
//! sockets, so it must reject this component at upload, naming the import.

wit_bindgen::generate!({
    path: "../../../../wit/0.1.0",
    world: "group-app",
});

use exports::qun::app::handler::{AppInfo, Command, Context, Error, Event, Guest, Message};

struct Forbidden;

impl Guest for Forbidden {
    fn describe() -> AppInfo {
        AppInfo {
            name: "forbidden".to_string(),
            title: "Forbidden".to_string(),
            version: "0.1.0".to_string(),
            description: "Imports wasi:sockets, which the host does not offer.".to_string(),
            commands: Vec::new(),
            actions: vec![exports::qun::app::handler::ActionSpec {
                name: "connect".to_string(),
                description: "Tries to open a TCP connection to 127.0.0.1:1.".to_string(),
            }],
            subscriptions: Vec::new(),
        }
    }

    fn on_command(_ctx: Context, _command: Command) -> Result<Option<Message>, Error> {
        Ok(None)
    }

    fn on_action(_ctx: Context, _action: String, _payload: String) -> Result<String, Error> {
        match std::net::TcpStream::connect("127.0.0.1:1") {
            Ok(_) => Ok("{\"connected\":true}".to_string()),
            Err(e) => Err(Error::Internal(format!("connect failed: {e}"))),
        }
    }

    fn on_event(_ctx: Context, _event: Event) -> Result<(), Error> {
        Ok(())
    }
}

export!(Forbidden);
