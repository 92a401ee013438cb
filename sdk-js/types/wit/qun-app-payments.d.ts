/** @module Interface qun:app/payments@0.2.0 **/
export function request(request: PaymentRequest): Payment;
export function status(id: string): Payment;
export function refund(id: string, amount: bigint, idempotencyKey: string): Payment;
export type MemberId = import('./qun-app-types.js').MemberId;
export interface PaymentRequest {
  payer: MemberId,
  amount: bigint,
  currency: string,
  memo: string,
  idempotencyKey: string,
}
export type Payment = import('./qun-app-types.js').Payment;
export type Error = import('./qun-app-types.js').Error;
