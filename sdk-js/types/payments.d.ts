import type { Payment } from './index.js';
export function request(req: { payer: string; amount: number | bigint; currency: string; memo?: string; idempotencyKey: string }): Payment;
export function status(id: string): Payment;
export function refund(id: string, amount: number | bigint, idempotencyKey: string): Payment;
