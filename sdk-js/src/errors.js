// Errors: one class per variant of the WIT `error` (types.wit), and the
// conversions between them and the `{ tag, val }` shape the component model
// uses in JavaScript.

/** The variants of `qun:app/types.error`, in WIT order. */
export const ERROR_TAGS = ['denied', 'not-found', 'invalid', 'quota-exceeded', 'conflict', 'internal'];

/** A Qun error: `tag` is the WIT variant, `message` its text. */
export class QunError extends Error {
  constructor(tag, message) {
    super(message);
    if (!ERROR_TAGS.includes(tag)) throw new TypeError(`not an error variant: ${tag}`);
    this.tag = tag;
    this.name = CLASS_NAMES[tag];
  }
  /** The WIT value: `{ tag, val }`. */
  toWit() {
    return { tag: this.tag, val: this.message };
  }
}

/** The group owner did not grant the capability, or the member may not do this. */
export class Denied extends QunError { constructor(message = 'denied') { super('denied', message); } }
/** The thing asked for does not exist in this group. */
export class NotFound extends QunError { constructor(message = 'not found') { super('not-found', message); } }
/** An argument was malformed or too large: say how to fix it. */
export class Invalid extends QunError { constructor(message = 'invalid') { super('invalid', message); } }
/** A limit of this installation was reached. */
export class QuotaExceeded extends QunError { constructor(message = 'quota exceeded') { super('quota-exceeded', message); } }
/** The state changed under the call (a lost compare-and-swap, a reused key). */
export class Conflict extends QunError { constructor(message = 'conflict') { super('conflict', message); } }
/** Something failed; the invocation may be retried later. */
export class Internal extends QunError { constructor(message = 'internal error') { super('internal', message); } }

const CLASS_NAMES = {
  denied: 'Denied',
  'not-found': 'NotFound',
  invalid: 'Invalid',
  'quota-exceeded': 'QuotaExceeded',
  conflict: 'Conflict',
  internal: 'Internal',
};
const CLASSES = { denied: Denied, 'not-found': NotFound, invalid: Invalid, 'quota-exceeded': QuotaExceeded, conflict: Conflict, internal: Internal };

/** The error class of a variant. */
export function errorClass(tag) {
  return CLASSES[tag];
}

function isWitError(v) {
  return v !== null && typeof v === 'object' && ERROR_TAGS.includes(v.tag) && typeof v.val === 'string';
}

/**
 * The WIT error a thrown value stands for, or undefined when it names none.
 * Capability calls throw `ComponentError`s whose `payload` is the variant;
 * SDK error classes carry `tag`.
 */
export function witErrorOf(thrown) {
  if (thrown instanceof QunError) return thrown.toWit();
  if (thrown !== null && typeof thrown === 'object') {
    if (isWitError(thrown.payload)) return { tag: thrown.payload.tag, val: thrown.payload.val };
    if (isWitError(thrown)) return { tag: thrown.tag, val: thrown.val };
  }
  return undefined;
}

/**
 * A thrown value as a `QunError`: an SDK error stays itself, a capability's
 * error becomes the class of its variant, anything else `Internal` with its
 * message.
 */
export function toQunError(thrown) {
  if (thrown instanceof QunError) return thrown;
  const wit = witErrorOf(thrown);
  if (wit) {
    const err = new CLASSES[wit.tag](wit.val);
    if (thrown instanceof Error && thrown.stack) err.cause = thrown;
    return err;
  }
  const message = thrown instanceof Error ? thrown.message : String(thrown);
  const err = new Internal(message || String(thrown));
  err.cause = thrown;
  return err;
}

/**
 * What a handler throws to the component: an Error carrying `payload`, the
 * `{ tag, val }` variant (the shape componentize-js's bindings read, as
 * jco's `ComponentError`).
 */
export class HandlerError extends Error {
  constructor(wit) {
    super(`${wit.tag}: ${wit.val}`);
    this.name = 'HandlerError';
    this.payload = wit;
  }
}

/**
 * Runs a capability call, turning its `ComponentError` into the SDK class of
 * the variant (so `catch (e) { if (e instanceof Denied) ... }` works).
 */
export function call(fn) {
  try {
    return fn();
  } catch (e) {
    const wit = witErrorOf(e);
    if (wit) throw toQunError(e);
    throw e;
  }
}
