//! `qun:app/payments@0.1.0` onto 0.2 (the same interface).

use super::generated::qun::app::payments::{Host, PaymentRequest};
use super::{error, types, wit_types};
use crate::capabilities::generated::qun::app::payments::{Host as V2, PaymentRequest as V2Request};
use crate::runtime::InvocationState;

impl Host for InvocationState {
    async fn request(&mut self, r: PaymentRequest) -> Result<wit_types::Payment, wit_types::Error> {
        let r = V2Request {
            payer: r.payer,
            amount: r.amount,
            currency: r.currency,
            memo: r.memo,
            idempotency_key: r.idempotency_key,
        };
        V2::request(self, r)
            .await
            .map(types::payment)
            .map_err(error)
    }

    async fn status(&mut self, id: String) -> Result<wit_types::Payment, wit_types::Error> {
        V2::status(self, id)
            .await
            .map(types::payment)
            .map_err(error)
    }

    async fn refund(
        &mut self,
        id: String,
        amount: u64,
        idempotency_key: String,
    ) -> Result<wit_types::Payment, wit_types::Error> {
        V2::refund(self, id, amount, idempotency_key)
            .await
            .map(types::payment)
            .map_err(error)
    }
}
