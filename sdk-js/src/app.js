// defineApp: the `handler` export (handler.wit) from plain functions.

import { HandlerError, Invalid, toQunError } from './errors.js';
import { ActionAnswer, Input, responseToWit } from './blocks.js';
import { dateIn, formatIn, zonedParts, fromZonedParts } from './time.js';

/** A WIT `value` (blocks.wit) as a plain JS value. */
export function fromWitValue(v) {
  if (!v) return undefined;
  switch (v.tag) {
    case 'integer': return Number(v.val);
    case 'date-time': return Number(v.val);
    case 'date': return { ...v.val };
    case 'choices': case 'files': return [...v.val];
    default: return v.val; // text, decimal (a string), member, checkbox
  }
}

function namedValues(list) {
  const out = {};
  for (const { name, value } of list || []) out[name] = fromWitValue(value);
  return out;
}

function parseJson(text, what) {
  if (text === '' || text === undefined) return null;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Invalid(`bad ${what}: ${e.message}`);
  }
}

/** The invocation's context, with `now` as a number (ms since the epoch). */
export class Context {
  constructor(raw) {
    this.raw = raw;
    this.groupId = raw.groupId;
    this.installationId = raw.installationId;
    /** The acting member's id, or undefined (timers, installs). */
    this.actor = raw.actor ?? undefined;
    this.now = Number(raw.now);
    this.invocationId = raw.invocationId;
    this.timeZone = raw.timeZone;
    this.locale = raw.locale;
  }
  /** The acting member's id; `Invalid` when no member acted. */
  requireActor() {
    if (this.actor === undefined) throw new Invalid('no member acted in this invocation');
    return this.actor;
  }
  /** The day of `now` (or `ts`) in the group's time zone, as YYYY-MM-DD. */
  date(ts = this.now) {
    return dateIn(ts, this.timeZone);
  }
  /** A moment on the group's clock: "2030-06-01 09:00 (Asia/Shanghai)". */
  formatTime(ts) {
    return formatIn(ts, this.timeZone);
  }
  /** The wall-clock time of `ts` (default now) on the group's clock: `{ year, month, day, hour, minute, second, weekday }`. */
  local(ts = this.now) {
    return zonedParts(ts, this.timeZone);
  }
  /** The moment (ms) of `hour:minute` on the day of `ts` (default today) on the group's clock. */
  at(hour, minute = 0, ts = this.now) {
    const { year, month, day } = zonedParts(ts, this.timeZone);
    return fromZonedParts({ year, month, day, hour, minute }, this.timeZone);
  }
  /** The event id ("event:<n>") when this invocation delivers an event from the host's outbox. */
  get eventId() {
    return this.invocationId.startsWith('event:') ? this.invocationId : undefined;
  }
}

/** A typed command: `name`, `args` (the text after the word), `options` ({ name: value }). */
function toCommand(raw) {
  return {
    name: raw.name,
    args: raw.args,
    options: namedValues(raw.options),
    option(name) { return this.options[name]; },
    raw,
  };
}

function toActionCall(raw) {
  return {
    name: raw.name,
    payloadText: raw.payload,
    get payload() { return parseJson(raw.payload, 'payload'); },
    value: fromWitValue(raw.value),
    /** The one option chosen in a select menu, or the member picked; undefined otherwise. */
    get chosen() {
      const v = this.value;
      return Array.isArray(v) ? v[0] : v;
    },
    messageId: raw.messageId ?? undefined,
    raw,
  };
}

function toSubmission(raw) {
  return {
    callback: raw.callback,
    stateText: raw.state,
    get state() { return parseJson(raw.state, 'form state'); },
    values: namedValues(raw.values),
    value(name) { return this.values[name]; },
    files(name) { return this.values[name] ?? []; },
    step: raw.step,
    raw,
  };
}

function toPayment(p) {
  return { ...p, amount: Number(p.amount), refunded: Number(p.refunded), createdAt: Number(p.createdAt) };
}

/** A WIT event as `{ type, ... }`. */
export function toEvent(raw) {
  switch (raw.tag) {
    case 'installed': case 'uninstalled': return { type: raw.tag, raw };
    case 'member-joined': case 'member-left': return { type: raw.tag, member: raw.val, raw };
    case 'message-posted': return { type: raw.tag, message: { ...raw.val, files: [...raw.val.files] }, raw };
    case 'payment-settled': return { type: raw.tag, payment: toPayment(raw.val), raw };
    case 'payment-failed': return { type: raw.tag, payment: toPayment(raw.val.payment), reason: raw.val.reason, raw };
    case 'timer-fired': {
      const t = raw.val;
      return { type: raw.tag, timer: { key: t.key, payloadText: t.payload, get payload() { return parseJson(t.payload, 'timer payload'); }, due: Number(t.due), recurring: t.recurring }, raw };
    }
    default: return { type: raw.tag, value: raw.val, raw };
  }
}

function commandSpec(c) {
  if (typeof c === 'string') return { name: c, description: '', options: [] };
  return {
    name: c.name,
    description: c.description ?? '',
    options: (c.options ?? []).map((o) => (o instanceof Input ? o.toOption() : o)),
  };
}

function actionSpec(a) {
  if (typeof a === 'string') return { name: a, description: '' };
  return { name: a.name, description: a.description ?? '' };
}

/** A thrown value with its stack (V8's stack starts with "Name: message", SpiderMonkey's does not). */
function describeThrown(c) {
  if (!(c instanceof Error)) return `uncaught ${typeof c}: ${String(c)}`;
  const head = `${c.name}: ${c.message}`;
  const stack = typeof c.stack === 'string' ? c.stack.trimEnd() : '';
  if (!stack) return head;
  return stack.startsWith(head) ? stack : `${head}\n${stack}`;
}

/**
 * Runs one handler: whatever it throws becomes the WIT error. An SDK error
 * class (or a capability's error) keeps its variant; anything else is
 * `internal` with its message, its stack printed to stderr (the app log).
 */
function guard(what, fn) {
  try {
    return fn();
  } catch (thrown) {
    const err = toQunError(thrown);
    if (err.tag === 'internal' && err.cause !== undefined) {
      const c = err.cause;
      console.error(`${what} failed: ${describeThrown(c)}`);
    }
    throw new HandlerError(err.toWit());
  }
}

/**
 * Defines an app: export the result as `handler` from the app's entry module.
 *
 * ```js
 * export const handler = defineApp({
 *   name: 'checkin', title: 'Check-in', version: '0.1.0', description: '...',
 *   commands: [{ name: 'checkin', description: 'Check in for today' }],
 *   actions: [{ name: 'checkin', description: 'Check in' }],
 *   onCommand(ctx, cmd) { return 'hello'; },
 * });
 * ```
 */
export function defineApp(spec) {
  if (!spec || typeof spec.name !== 'string') throw new TypeError('defineApp: `name` is required');
  const info = {
    name: spec.name,
    title: spec.title ?? spec.name,
    version: spec.version ?? '0.1.0',
    description: spec.description ?? '',
    commands: (spec.commands ?? []).map(commandSpec),
    actions: (spec.actions ?? []).map(actionSpec),
    subscriptions: [...(spec.subscriptions ?? [])],
  };
  const handler = {
    describe() {
      return structuredClone(info);
    },
    onCommand(ctx, command) {
      return guard(`command /${command.name}`, () => {
        if (!spec.onCommand) throw new Invalid(`unknown command: ${command.name}`);
        return responseToWit(spec.onCommand(new Context(ctx), toCommand(command)));
      });
    },
    onAction(ctx, call) {
      return guard(`action ${call.name}`, () => {
        if (!spec.onAction) throw new Invalid(`unknown action: ${call.name}`);
        const out = spec.onAction(new Context(ctx), toActionCall(call));
        if (out instanceof ActionAnswer) return out.toWit();
        // Plain JSON (an object literal, an array, a number, a boolean) is
        // data for the API caller, as `answer(data)` is.
        if (isPlainData(out)) return new ActionAnswer(out).toWit();
        return { data: '', response: responseToWit(out) };
      });
    },
    onSubmit(ctx, submission) {
      return guard(`form ${submission.callback}`, () => {
        if (!spec.onSubmit) throw new Invalid(`unknown form: ${submission.callback}`);
        return responseToWit(spec.onSubmit(new Context(ctx), toSubmission(submission)));
      });
    },
    onEvent(ctx, event) {
      guard(`event ${event.tag}`, () => {
        if (spec.onEvent) spec.onEvent(new Context(ctx), toEvent(event));
      });
    },
  };
  Object.defineProperty(handler, 'spec', { value: spec, enumerable: false });
  return handler;
}

/** An object literal, array, number or boolean: an action's JSON data. */
function isPlainData(value) {
  if (typeof value === 'number' || typeof value === 'boolean' || Array.isArray(value)) return true;
  if (value === null || typeof value !== 'object') return false;
  return Object.getPrototypeOf(value) === Object.prototype && !('tag' in value) && !('blocks' in value);
}
