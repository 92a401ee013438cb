//! `qun:app/types@0.1.0`: types only; the conversions of its shared
//! records (context, member, payment) to the 0.1 shapes.

use super::wit_types as v1;
use crate::capabilities::types as v2;
use crate::runtime::InvocationState;

impl v1::Host for InvocationState {}

/// The context a 0.1 app receives (0.2's without time zone and locale).
pub(crate) fn context(c: &v2::Context) -> v1::Context {
    v1::Context {
        group_id: c.group_id.clone(),
        installation_id: c.installation_id.clone(),
        actor: c.actor.clone(),
        now: c.now,
        invocation_id: c.invocation_id.clone(),
    }
}

/// A member without the 0.2 profile card.
pub(crate) fn member(m: v2::Member) -> v1::Member {
    v1::Member {
        id: m.id,
        display_name: m.display_name,
        role: match m.role {
            v2::Role::Owner => v1::Role::Owner,
            v2::Role::Admin => v1::Role::Admin,
            v2::Role::Member => v1::Role::Member,
        },
        joined_at: m.joined_at,
    }
}

/// A payment (the same record in both versions).
pub(crate) fn payment(p: v2::Payment) -> v1::Payment {
    v1::Payment {
        id: p.id,
        payer: p.payer,
        amount: p.amount,
        currency: p.currency,
        memo: p.memo,
        status: match p.status {
            v2::PaymentStatus::Pending => v1::PaymentStatus::Pending,
            v2::PaymentStatus::Settled => v1::PaymentStatus::Settled,
            v2::PaymentStatus::Declined => v1::PaymentStatus::Declined,
            v2::PaymentStatus::Expired => v1::PaymentStatus::Expired,
        },
        refunded: p.refunded,
        created_at: p.created_at,
    }
}
