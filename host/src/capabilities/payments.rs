//! Implementation of the `qun:app/payments` interface.
//!
//! Payments (wallets, ledger, member consent) are built in their own issue.
//! Until then every call is audited and answers `denied`, even when granted,
//! so no app can believe it asked anyone for money.

use super::generated::qun::app::payments::{Host, Payment, PaymentRequest};
use super::{Capability, Error, capability_call};
use crate::runtime::InvocationState;

const NOT_ENABLED: &str = "payments are not enabled on this host";

async fn not_enabled<T>() -> Result<T, Error> {
    Err(Error::Denied(NOT_ENABLED.into()))
}

impl Host for InvocationState {
    async fn request(&mut self, _request: PaymentRequest) -> Result<Payment, Error> {
        capability_call!(
            self,
            Capability::Payments,
            "payments.request",
            not_enabled()
        )
    }

    async fn status(&mut self, _id: String) -> Result<Payment, Error> {
        capability_call!(self, Capability::Payments, "payments.status", not_enabled())
    }

    async fn refund(
        &mut self,
        _id: String,
        _amount: u64,
        _idempotency_key: String,
    ) -> Result<Payment, Error> {
        capability_call!(self, Capability::Payments, "payments.refund", not_enabled())
    }
}
