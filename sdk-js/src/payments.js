// Capability `payments` (payments.wit): ask members to pay, read, refund.
// Amounts are minor units as numbers (cents, fen).
import * as raw from 'qun:app/payments@0.2.0';
import { call } from './errors.js';

function payment(p) {
  return { ...p, amount: Number(p.amount), refunded: Number(p.refunded), createdAt: Number(p.createdAt) };
}

/** Asks `payer` to pay: `{ payer, amount, currency, memo, idempotencyKey }`; the payment (status 'pending'). */
export function request({ payer, amount, currency, memo = '', idempotencyKey }) {
  return payment(call(() => raw.request({ payer, amount: BigInt(amount), currency, memo, idempotencyKey })));
}
/** A payment this installation requested. */
export function status(id) {
  return payment(call(() => raw.status(id)));
}
/** Refunds `amount` of a settled payment (idempotent by key). */
export function refund(id, amount, idempotencyKey) {
  return payment(call(() => raw.refund(id, BigInt(amount), idempotencyKey)));
}
