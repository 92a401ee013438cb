//! Write Qun group apps in Rust.
//!
//! A Qun app is a WebAssembly component (`wasm32-wasip2`) that answers
//! `/commands` typed in a group, button clicks (actions) and events. It works
//! only through the capabilities the group's owner granted: [`membership`],
//! [`messaging`], [`payments`], [`storage`], [`files`], [`scheduler`] and
//! [`log`]. The
//! host reads which ones an app asks for from the component's imports, and
//! the SDK links a capability only when the app calls it.
//!
//! An app is one type implementing [`App`] and one [`export_app!`] line:
//!
//! ```
//! use qun_sdk::prelude::*;
//!
//! struct Checkin;
//!
//! impl App for Checkin {
//!     fn describe() -> Describe {
//!         Describe::new("checkin", "Daily check-in")
//!             .version(env!("CARGO_PKG_VERSION"))
//!             .command("checkin", "Check in for today")
//!     }
//!
//!     fn on_command(ctx: &Context, _cmd: &Command) -> Result<Reply> {
//!         let day = ctx.now().date();
//!         storage::set_json(&format!("{day}/{}", ctx.actor()?), &true)?;
//!         let count = storage::list_all(&format!("{day}/"))?.len();
//!         Ok(Reply::text(format!("{} checked in ({count} today)", ctx.actor_name()?)))
//!     }
//! }
//!
//! export_app!(Checkin);
//!
//! // The same code runs natively against an in-memory host:
//! # fn main() -> Result<()> {
//! use qun_sdk::testing::TestGroup;
//! let mut group = TestGroup::<Checkin>::new().member("ann", "Ann", Role::Owner);
//! let reply = group.command("ann", "/checkin")?;
//! assert_eq!(reply, Reply::text("Ann checked in (1 today)"));
//! # Ok(()) }
//! ```
//!
//! Messages are blocks ([`Message`]), a member can be asked things with a
//! [`Form`], commands can declare typed options ([`Describe::command_with`]),
//! and what the acting member sees is a [`Reply`]: a post, a private reply,
//! a form, or field errors. The shared model of all of it is re-exported as
//! [`blocks`] (the crate `qun-blocks`, which the host uses too).
//!
//! Every method but [`App::describe`] has a default. Errors of every
//! capability, of JSON and of the argument parser convert into [`Error`] with
//! `?`; the variant an app returns (`invalid`, `denied`, ...) reaches the
//! member who acted. An invocation is atomic: when it returns an error, its
//! storage writes, files, messages, timers and payment requests are dropped.
//!
//! Build with `cargo build --release --target wasm32-wasip2` in a crate with
//! `crate-type = ["cdylib"]`; test with `cargo test` and `qun_sdk::testing` (native builds only).

#![deny(missing_docs)]

mod app;
mod command;
mod context;
mod error;
mod event;
mod form;
mod message;
mod reply;
mod time;
mod value;

pub mod files;
pub mod log;
pub mod membership;
pub mod messaging;
pub mod payments;
pub mod scheduler;
pub mod storage;

#[cfg(target_arch = "wasm32")]
mod guest;
#[cfg(target_arch = "wasm32")]
use guest::sys;

#[cfg(not(target_arch = "wasm32"))]
pub mod testing;
#[cfg(not(target_arch = "wasm32"))]
use testing::sys;

pub use app::{App, CommandBuilder, Describe, Spec, Subscription};
pub use command::{Args, Command};
pub use context::Context;
pub use error::{Error, Result};
pub use event::{Event, PostedMessage, Timer};
pub use files::FileInfo;
pub use form::{Form, Input};
pub use message::{Button, Card, MemberPicker, Message, Select};
pub use messaging::MessageId;
pub use qun_blocks::{ButtonStyle, Confirm, Element, Field, FieldError};
pub use reply::{ActionAnswer, Reply, Response};
pub use time::{Date, Timestamp, parse_duration};
pub use value::{ActionCall, Decimal, FromValue, MemberId, Submission};

/// The shared model of blocks, forms, typed values and command options, and
/// the published limits (the crate `qun-blocks`, used by the host as well).
pub use qun_blocks as blocks;

pub use serde;
pub use serde_json;
/// A JSON document: action payloads and answers.
pub use serde_json::Value as Json;
pub use serde_json::json;

/// Reads an action payload into a typed value; `invalid` naming the field
/// that does not fit.
///
/// ```
/// # use qun_sdk::prelude::*;
/// #[derive(serde::Deserialize)]
/// struct Vote { poll: String, choices: Vec<usize> }
/// let vote: Vote = from_payload(&json!({"poll": "1", "choices": [0]})).unwrap();
/// assert_eq!(vote.poll, "1");
/// let err = from_payload::<Vote>(&json!({"poll": "1", "choices": ["a"]})).err().unwrap();
/// assert!(err.message().contains("choices[0]"), "{err}");
/// ```
pub fn from_payload<T: serde::de::DeserializeOwned>(payload: &Json) -> Result<T> {
    serde_path_to_error::deserialize(payload).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if path == "." {
            Error::invalid(format!("bad payload: {inner}"))
        } else {
            Error::invalid(format!("bad payload: `{path}`: {inner}"))
        }
    })
}

/// Everything an app needs: `use qun_sdk::prelude::*;`.
pub mod prelude {
    pub use crate::membership::{Member, Role};
    pub use crate::{
        ActionAnswer, ActionCall, App, Args, Button, ButtonStyle, Card, Command, Context, Date,
        Decimal, Describe, Element, Error, Event, FileInfo, Form, Input, Json, MemberId,
        MemberPicker, Message, MessageId, Reply, Response, Result, Select, Submission,
        Subscription, Timestamp, export_app, from_payload, json, parse_duration,
    };
    pub use crate::{files, log, membership, messaging, payments, scheduler, storage};
}

#[doc(hidden)]
pub mod __private {
    #[cfg(target_arch = "wasm32")]
    pub use crate::guest::{Adapter, wit};

    /// Names the requirement in the error a wrong `export_app!` argument gets.
    pub const fn the_type_given_to_export_app_must_implement_qun_sdk_app<T: crate::App>() {}
}

/// Exports an [`App`] as the component's `handler`: write it once, at the
/// crate root, with the type that implements `App`.
///
/// ```
/// # use qun_sdk::prelude::*;
/// struct MyApp;
/// impl App for MyApp {
///     fn describe() -> Describe { Describe::new("my-app", "My app") }
/// }
/// export_app!(MyApp);
/// ```
///
/// A type that is not an app is refused with "`NotAnApp` is not a Qun app"
/// and a note showing the `impl` to add:
///
/// ```compile_fail
/// struct NotAnApp;
/// qun_sdk::export_app!(NotAnApp);
/// ```
///
/// In native builds it only checks that the type is an app, so the crate's
/// tests build and run with the in-memory host of `qun_sdk::testing`.
#[macro_export]
macro_rules! export_app {
    ($app:ty $(,)?) => {
        const _: () = $crate::__private::the_type_given_to_export_app_must_implement_qun_sdk_app::<$app>();
        #[cfg(target_arch = "wasm32")]
        #[allow(unsafe_code)]
        const _: () = {
            type QunAppAdapter = $crate::__private::Adapter<$app>;
            $crate::__private::wit::__qun_export_group_app!(QunAppAdapter with_types_in $crate::__private::wit);
        };
    };
    () => {
        ::core::compile_error!(
            "export_app! needs the type that implements qun_sdk::App, e.g. `export_app!(MyApp);`"
        );
    };
    ($($other:tt)*) => {
        ::core::compile_error!(
            "export_app! takes exactly one type, the one that implements qun_sdk::App, e.g. `export_app!(MyApp);`"
        );
    };
}
