//! Capability `payments`: ask members to pay, read payments, refund.
//!
//! Money only moves when the payer confirms through the host; the app hears
//! the outcome as [`Event::PaymentSettled`](crate::Event) or
//! [`Event::PaymentFailed`](crate::Event).

use crate::{Result, Timestamp, sys};

/// What an app asks a member to pay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentRequest {
    /// Who is asked to pay; a member of the current group.
    pub payer: String,
    /// The amount in minor units (cents, fen); positive.
    pub amount: u64,
    /// ISO 4217 currency code, e.g. `CNY`.
    pub currency: String,
    /// Shown to the payer.
    pub memo: String,
    /// The same key with the same parameters returns the same payment; with
    /// other parameters it is a `conflict`.
    pub idempotency_key: String,
}

/// Where a payment stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PaymentStatus {
    /// Waiting for the payer.
    Pending,
    /// The payer paid.
    Settled,
    /// The payer declined.
    Declined,
    /// Nobody answered in time.
    Expired,
}

/// A payment as the host knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payment {
    /// The payment's id.
    pub id: String,
    /// Who pays.
    pub payer: String,
    /// The amount in minor units.
    pub amount: u64,
    /// ISO 4217 currency code.
    pub currency: String,
    /// The memo shown to the payer.
    pub memo: String,
    /// Where it stands.
    pub status: PaymentStatus,
    /// How much has been refunded, in minor units.
    pub refunded: u64,
    /// When it was requested.
    pub created_at: Timestamp,
}

/// Asks a member to pay.
pub fn request(request: &PaymentRequest) -> Result<Payment> {
    sys::payments::request(request)
}

/// Reads a payment this installation requested.
pub fn status(id: &str) -> Result<Payment> {
    sys::payments::status(id)
}

/// Refunds `amount` minor units of a settled payment (never more than was
/// paid in total); idempotent by `idempotency_key`.
pub fn refund(id: &str, amount: u64, idempotency_key: &str) -> Result<Payment> {
    sys::payments::refund(id, amount, idempotency_key)
}
