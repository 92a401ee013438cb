//! Implementation of the `qun:app/payments` interface.
//!
//! A request or refund is checked when the app asks and buffered in the
//! invocation's effects: it exists only if the invocation commits, and the
//! commit checks it again (see `runtime::effects`). Money moves only when
//! the payer confirms through the HTTP API.

use super::generated::qun::app::payments::{Host, Payment, PaymentRequest};
use super::{Capability, Error, capability_call, internal, types};
use crate::runtime::InvocationState;
use crate::store::ledger::{user_account, valid_currency};
use crate::store::payments::split;
use crate::store::{PaymentRecord, PaymentState, new_id, now_ms};

/// A stored payment as the app sees it.
pub(crate) fn to_wit(p: &PaymentRecord) -> Payment {
    Payment {
        id: p.id.clone(),
        payer: p.payer.clone(),
        amount: u64::try_from(p.amount).unwrap_or(0),
        currency: p.currency.clone(),
        memo: p.memo.clone(),
        status: match p.status {
            PaymentState::Pending => types::PaymentStatus::Pending,
            PaymentState::Settled => types::PaymentStatus::Settled,
            PaymentState::Declined => types::PaymentStatus::Declined,
            PaymentState::Expired => types::PaymentStatus::Expired,
        },
        refunded: u64::try_from(p.refunded).unwrap_or(0),
        created_at: p.created_at,
    }
}

/// The earlier request under the same key: the same one if the parameters
/// match, otherwise a conflict.
fn same_request(earlier: &PaymentRecord, r: &PaymentRequest) -> Result<Payment, Error> {
    if earlier.payer == r.payer
        && u64::try_from(earlier.amount).ok() == Some(r.amount)
        && earlier.currency == r.currency
        && earlier.memo == r.memo
    {
        Ok(to_wit(earlier))
    } else {
        Err(Error::Conflict(format!(
            "idempotency key {:?} was already used for another payment request",
            r.idempotency_key
        )))
    }
}

impl InvocationState {
    async fn request_impl(&mut self, r: PaymentRequest) -> Result<Payment, Error> {
        let config = self.limits.payments.clone();
        self.check_size("payer", r.payer.len(), self.limits.string_bytes)?;
        self.check_size("memo", r.memo.len(), self.limits.string_bytes)?;
        self.check_text("payer", &r.payer)?;
        self.check_text("memo", &r.memo)?;
        self.check_text("idempotency key", &r.idempotency_key)?;
        self.check_size(
            "idempotency key",
            r.idempotency_key.len(),
            self.limits.key_bytes,
        )?;
        if r.idempotency_key.is_empty() {
            return Err(Error::Invalid(
                "a payment request needs an idempotency key".into(),
            ));
        }
        if !valid_currency(&r.currency) {
            return Err(Error::Invalid(format!(
                "currency {:?} is not an ISO 4217 code such as \"CNY\"",
                r.currency
            )));
        }
        if r.amount == 0 {
            return Err(Error::Invalid("the amount must be positive".into()));
        }
        let max = config.max_amount.min(i64::MAX as u64);
        if r.amount > max {
            return Err(Error::Invalid(format!(
                "the amount {} is more than the {max} minor units one payment may ask for",
                r.amount
            )));
        }
        let inst = self.ident.installation_id.clone();
        if let Some(earlier) = self
            .effects
            .payments
            .iter()
            .find(|p| p.idempotency_key == r.idempotency_key)
        {
            return same_request(earlier, &r);
        }
        if let Some(earlier) = self
            .db
            .payment_by_key(&inst, &r.idempotency_key)
            .await
            .map_err(internal)?
        {
            return same_request(&earlier, &r);
        }
        if self
            .db
            .member(&self.ident.group_id, &r.payer)
            .await
            .map_err(internal)?
            .is_none()
        {
            return Err(Error::NotFound(format!(
                "{} is not a member of this group",
                r.payer
            )));
        }
        let now = now_ms();
        let record = PaymentRecord {
            id: new_id("pay"),
            installation_id: inst,
            group_id: self.ident.group_id.clone(),
            app: self.ident.app_slug.clone(),
            payer: r.payer,
            amount: r.amount as i64,
            currency: r.currency,
            memo: r.memo,
            idempotency_key: r.idempotency_key,
            status: PaymentState::Pending,
            refunded: 0,
            owner: None,
            developer: None,
            fee: 0,
            share: 0,
            created_at: now,
            expires_at: now.saturating_add(config.expiry_ms),
            decided_at: None,
        };
        self.charge_effect(
            record.memo.len() + record.idempotency_key.len() + record.payer.len() + 128,
        )?;
        let answer = to_wit(&record);
        self.effects.payments.push(record);
        Ok(answer)
    }

    /// A payment of this installation: buffered in this invocation or stored.
    async fn own_payment(&mut self, id: &str) -> Result<PaymentRecord, Error> {
        if let Some(p) = self.effects.payments.iter().find(|p| p.id == id) {
            return Ok(p.clone());
        }
        match self.db.payment(id).await.map_err(internal)? {
            Some(p) if p.installation_id == self.ident.installation_id => Ok(p),
            _ => Err(Error::NotFound(format!(
                "this app has no payment {id:?} in this group"
            ))),
        }
    }

    /// What this invocation has already asked to refund of `id`.
    fn buffered_refunds(&self, id: &str) -> i64 {
        self.effects
            .refunds
            .iter()
            .filter(|r| r.0 == id)
            .map(|r| r.1)
            .sum()
    }

    async fn status_impl(&mut self, id: String) -> Result<Payment, Error> {
        self.check_size("payment id", id.len(), self.limits.string_bytes)?;
        self.check_text("payment id", &id)?;
        let mut p = self.own_payment(&id).await?;
        p.refunded += self.buffered_refunds(&id);
        Ok(to_wit(&p))
    }

    async fn refund_impl(
        &mut self,
        id: String,
        amount: u64,
        key: String,
    ) -> Result<Payment, Error> {
        self.check_size("payment id", id.len(), self.limits.string_bytes)?;
        self.check_size("idempotency key", key.len(), self.limits.key_bytes)?;
        self.check_text("payment id", &id)?;
        self.check_text("idempotency key", &key)?;
        if key.is_empty() {
            return Err(Error::Invalid("a refund needs an idempotency key".into()));
        }
        let amount = i64::try_from(amount)
            .ok()
            .filter(|a| *a > 0)
            .ok_or_else(|| Error::Invalid("the refund amount must be positive".into()))?;
        let mut p = self.own_payment(&id).await?;
        let buffered = self.buffered_refunds(&id);
        let earlier = match self
            .effects
            .refunds
            .iter()
            .find(|r| r.0 == id && r.2 == key)
        {
            Some(r) => Some(r.1),
            None => self.db.refund_by_key(&id, &key).await.map_err(internal)?,
        };
        if let Some(earlier) = earlier {
            if earlier != amount {
                return Err(Error::Conflict(format!(
                    "refund key {key:?} was already used for a refund of {earlier}"
                )));
            }
            p.refunded += buffered;
            return Ok(to_wit(&p));
        }
        if p.status != PaymentState::Settled {
            return Err(Error::Invalid(format!(
                "only settled payments can be refunded; this one is {}",
                p.status.as_str()
            )));
        }
        let refundable = p.amount - p.refunded - buffered;
        if amount > refundable {
            return Err(Error::Invalid(format!(
                "only {refundable} {} of this payment can still be refunded",
                p.currency
            )));
        }
        // The owner gives back their part: refuse now rather than at commit.
        let (_, _, owner_part) = split(amount, &self.limits.payments);
        if let Some(owner) = &p.owner {
            let balance = self
                .db
                .account_balance(&user_account(owner, &p.currency))
                .await
                .map_err(internal)?;
            if balance < owner_part {
                return Err(Error::Conflict(format!(
                    "the group owner's wallet holds {balance} {}, less than this refund needs",
                    p.currency
                )));
            }
        }
        self.charge_effect(id.len() + key.len() + 16)?;
        self.effects.refunds.push((id, amount, key));
        p.refunded += buffered + amount;
        Ok(to_wit(&p))
    }
}

impl Host for InvocationState {
    async fn request(&mut self, request: PaymentRequest) -> Result<Payment, Error> {
        capability_call!(
            self,
            Capability::Payments,
            "payments.request",
            self.request_impl(request)
        )
    }

    async fn status(&mut self, id: String) -> Result<Payment, Error> {
        capability_call!(
            self,
            Capability::Payments,
            "payments.status",
            self.status_impl(id)
        )
    }

    async fn refund(
        &mut self,
        id: String,
        amount: u64,
        idempotency_key: String,
    ) -> Result<Payment, Error> {
        capability_call!(
            self,
            Capability::Payments,
            "payments.refund",
            self.refund_impl(id, amount, idempotency_key)
        )
    }
}
