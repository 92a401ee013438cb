//! `qun:app/log@0.1.0` onto 0.2 (the same interface).

use super::generated::qun::app::log::{Host, Level};
use crate::capabilities::generated::qun::app::log::{Host as V2, Level as V2Level};
use crate::runtime::InvocationState;

impl Host for InvocationState {
    async fn write(&mut self, level: Level, message: String, fields: Vec<(String, String)>) {
        let level = match level {
            Level::Trace => V2Level::Trace,
            Level::Debug => V2Level::Debug,
            Level::Info => V2Level::Info,
            Level::Warn => V2Level::Warn,
            Level::Error => V2Level::Error,
        };
        V2::write(self, level, message, fields).await
    }
}
