// Capability `scheduler` (scheduler.wit): run me later, once or on a schedule.
// A timer fires `onEvent` with `{ type: 'timer-fired', timer }` and no actor.
import * as raw from 'qun:app/scheduler@0.2.0';
import { call } from './errors.js';

export const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

function payloadText(payload) {
  return typeof payload === 'string' ? payload : JSON.stringify(payload ?? null);
}
function ms(at) {
  return BigInt(Math.trunc(at instanceof Date ? at.getTime() : Number(at)));
}

/** Fires at `at` (ms since the epoch, or a Date) with `payload` (a string, or any JSON value). Same key replaces. */
export function schedule(key, at, payload = '') {
  call(() => raw.schedule(key, ms(at), payloadText(payload)));
}
/** `schedule` with a JSON payload (read it with `event.timer.payload`). */
export function scheduleJson(key, at, value) {
  call(() => raw.schedule(key, ms(at), JSON.stringify(value)));
}
/** Every day at hour:minute on the group's clock. */
export function daily(hour, minute = 0) {
  return { tag: 'daily', val: { hour, minute } };
}
/** On these weekdays ('monday', ...) at hour:minute. */
export function weekly(days, hour, minute = 0) {
  for (const d of days) if (!WEEKDAYS.includes(d)) throw new TypeError(`weekday: ${d}`);
  return { tag: 'weekly', val: [[...days], { hour, minute }] };
}
/** Every `n` minutes (at least 5), counted from scheduling. */
export function everyMinutes(n) {
  return { tag: 'every-minutes', val: n };
}
/** Fires on every occurrence of `rule` until cancelled; returns the first occurrence (ms). */
export function scheduleRecurring(key, rule, payload = '') {
  return Number(call(() => raw.scheduleRecurring(key, rule, payloadText(payload))));
}
/** Cancels the pending timer `key`; true if there was one. */
export function cancel(key) {
  return call(() => raw.cancel(key));
}
