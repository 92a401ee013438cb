// Capability `storage` (storage.wit): this installation's key-value data.
// Importing this module makes the app ask for `storage`.
import * as raw from 'qun:app/storage@0.2.0';
import { call, Invalid } from './errors.js';
import { toBytes, fromBytes, jsonBytes, parseJsonBytes } from './bytes.js';

/** Most entries one `list` page holds. */
export const MAX_PAGE = 1000;

/** The bytes of `key`, or undefined. */
export function get(key) {
  return call(() => raw.get(key)) ?? undefined;
}
/** Sets `key` to bytes or a string (UTF-8). */
export function set(key, value) {
  call(() => raw.set(key, toBytes(value)));
}
/** Deletes `key`; true if it existed. */
function del(key) {
  return call(() => raw.delete(key));
}
export { del as delete, del as remove };
/** One page: `{ entries: [{ key, value }], nextCursor }`. */
export function list(prefix = '', { cursor, limit = MAX_PAGE } = {}) {
  const page = call(() => raw.list(prefix, cursor, limit));
  return { entries: page.entries, nextCursor: page.nextCursor ?? undefined };
}
/** Every entry whose key starts with `prefix` (follows cursors). */
export function listAll(prefix = '') {
  const out = [];
  let cursor;
  do {
    const page = list(prefix, { cursor });
    out.push(...page.entries);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return out;
}
/** Sets `key` to `next` (undefined deletes) only if it holds `expected` (undefined: absent). True if swapped. */
export function compareAndSwap(key, expected, next) {
  return call(() => raw.compareAndSwap(key, expected === undefined ? undefined : toBytes(expected), next === undefined ? undefined : toBytes(next)));
}
/** The string (UTF-8) of `key`, or undefined. */
export function getText(key) {
  const v = get(key);
  return v === undefined ? undefined : fromBytes(v);
}
/** The JSON value of `key`, or undefined. A value that is not JSON is `Invalid`, naming the key. */
export function getJson(key) {
  const v = get(key);
  if (v === undefined) return undefined;
  try {
    return parseJsonBytes(v);
  } catch (e) {
    throw new Invalid(`storage key ${key}: not JSON: ${e.message}`);
  }
}
/** Sets `key` to `value` as JSON. */
export function setJson(key, value) {
  set(key, jsonBytes(value));
}
/** Every entry under `prefix` as `[{ key, value }]` with values parsed as JSON. */
export function listJson(prefix = '') {
  return listAll(prefix).map(({ key, value }) => {
    try {
      return { key, value: parseJsonBytes(value) };
    } catch (e) {
      throw new Invalid(`storage key ${key}: not JSON: ${e.message}`);
    }
  });
}
/** Reads `key` as JSON, calls `fn(value | undefined)`, stores what it returns (undefined deletes); returns it. */
export function updateJson(key, fn) {
  const next = fn(getJson(key));
  if (next === undefined) del(key);
  else setJson(key, next);
  return next;
}
/** The next id of the counter at `counterKey`: "1", "2", ... */
export function nextId(counterKey) {
  const n = updateJson(counterKey, (v) => (typeof v === 'number' ? v : 0) + 1);
  return String(n);
}
