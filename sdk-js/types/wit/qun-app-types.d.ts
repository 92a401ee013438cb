/** @module Interface qun:app/types@0.2.0 **/
export type MemberId = string;
export type Error = ErrorDenied | ErrorNotFound | ErrorInvalid | ErrorQuotaExceeded | ErrorConflict | ErrorInternal;
export interface ErrorDenied {
  tag: 'denied',
  val: string,
}
export interface ErrorNotFound {
  tag: 'not-found',
  val: string,
}
export interface ErrorInvalid {
  tag: 'invalid',
  val: string,
}
export interface ErrorQuotaExceeded {
  tag: 'quota-exceeded',
  val: string,
}
export interface ErrorConflict {
  tag: 'conflict',
  val: string,
}
export interface ErrorInternal {
  tag: 'internal',
  val: string,
}
/**
 * # Variants
 * 
 * ## `"owner"`
 * 
 * ## `"admin"`
 * 
 * ## `"member"`
 */
export type Role = 'owner' | 'admin' | 'member';
export type Timestamp = bigint;
export interface Profile {
  avatarUrl?: string,
  locale?: string,
  timeZone?: string,
}
export interface Member {
  id: MemberId,
  displayName: string,
  role: Role,
  joinedAt: Timestamp,
  profile: Profile,
}
/**
 * # Variants
 * 
 * ## `"pending"`
 * 
 * ## `"settled"`
 * 
 * ## `"declined"`
 * 
 * ## `"expired"`
 */
export type PaymentStatus = 'pending' | 'settled' | 'declined' | 'expired';
export interface Payment {
  id: string,
  payer: MemberId,
  amount: bigint,
  currency: string,
  memo: string,
  status: PaymentStatus,
  refunded: bigint,
  createdAt: Timestamp,
}
export interface Context {
  groupId: string,
  installationId: string,
  actor?: MemberId,
  now: Timestamp,
  invocationId: string,
  timeZone: string,
  locale: string,
}
