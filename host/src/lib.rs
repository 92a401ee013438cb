//! Qun's host: runs group apps (WebAssembly components) in a sandbox and gives
//! them only the capabilities a group's owner granted.
//!
//! - [`store`]: the database (SQLite or PostgreSQL).
//! - [`runtime`]: loading, sandboxing and invoking components.
//! - [`capabilities`]: the host side of the `qun:app` WIT contract.
//! - [`http`]: the HTTP API (axum), built by [`app`].

pub mod blobs;
pub mod capabilities;
pub mod http;
pub mod limits;
pub mod runtime;
pub mod store;
pub mod text;

pub use capabilities::Capability;
pub use http::{AppState, app};
pub use limits::Limits;
pub use runtime::{
    Answer, Call, Invocation, InvokeError, LoadError, Outcome, Runtime, RuntimeConfig,
};
pub use store::Store;
