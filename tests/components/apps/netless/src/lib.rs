//! `netless`: a group app whose `on-action` opens a TCP connection with
//! `std::net`, which makes the component import `wasi:sockets/*` (as
//! Python's runtime does). The host accepts the import and gives it no
//! network: the connection is refused inside the sandbox.

wit_bindgen::generate!({
    path: "../../../../wit/0.1.0",
    world: "group-app",
});

use exports::qun::app::handler::{AppInfo, Command, Context, Error, Event, Guest, Message};

struct Netless;

impl Guest for Netless {
    fn describe() -> AppInfo {
        AppInfo {
            name: "netless".to_string(),
            title: "Netless".to_string(),
            version: "0.1.0".to_string(),
            description: "Imports wasi:sockets; the host gives it no network.".to_string(),
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

export!(Netless);
