//! `qun:app/scheduler@0.1.0` onto 0.2 (one-off timers only).

use super::generated::qun::app::scheduler::Host;
use super::{error, wit_types};
use crate::capabilities::generated::qun::app::scheduler::Host as V2;
use crate::runtime::InvocationState;

impl Host for InvocationState {
    async fn schedule(
        &mut self,
        key: String,
        at: wit_types::Timestamp,
        payload: String,
    ) -> Result<(), wit_types::Error> {
        V2::schedule(self, key, at, payload).await.map_err(error)
    }

    async fn cancel(&mut self, key: String) -> Result<bool, wit_types::Error> {
        V2::cancel(self, key).await.map_err(error)
    }
}
