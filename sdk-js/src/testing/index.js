// @qun/sdk/testing: a local test harness. A TestGroup is one group with the
// app installed, backed by an in-memory host with the real host's semantics:
// every invocation is atomic (its storage writes, messages, timers, files and
// payment requests are kept only when the handler succeeds; log lines and
// console output stay), messages and forms are checked against the host's
// limits and the app's declared actions, submitted values are checked input
// by input before the app runs, and the clock moves only when told to.
//
// Run tests with `node --import @qun/sdk/testing/register --test` so that the
// app's `qun:app/*` imports load the in-memory host.
import { format } from 'node:util';
import { createHash } from 'node:crypto';
import { withInvocation, hostError, nextOccurrence, fromZoned, CAPABILITIES } from './host.js';
import { witErrorOf, toQunError, Invalid, NotFound, QunError, HandlerError } from '../errors.js';
import { limits as BLOCK_LIMITS, messageToWit } from '../blocks.js';
import { Context } from '../app.js';

export { nextOccurrence, fromZoned };

/** The host's default bounds on an installation (host/src/limits.rs). */
export const DEFAULT_LIMITS = Object.freeze({
  keyBytes: 512,
  valueBytes: 64 << 10,
  storageBytes: 16 << 20,
  storageKeys: 100_000,
  messagesPerMinute: 60,
  dmsPerMinute: 500,
  dmsPerRecipient: 20,
  pendingTimers: 1_000,
  timerPayloadBytes: 8 << 10,
  answerBytes: 64 << 10,
  fileBytes: 25 << 20,
  installationFileBytes: 256 << 20,
  groupFileBytes: 1 << 30,
});

/** 2026-01-01T00:00:00Z: where the clock starts. */
export const START = Date.UTC(2026, 0, 1);

/** A handler threw something that is not a WIT error: on the host this is a trap. */
export class Trap extends Error {
  constructor(cause) {
    super(`the app trapped: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'Trap';
    this.cause = cause;
  }
}

const enc = new TextEncoder();
const utf8 = new TextDecoder();

function jsonOrText(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A message as a test reads it. */
export class MessageView {
  constructor(wit, id) {
    this.id = id;
    this.text = wit.text;
    this.blocks = wit.blocks;
    this.wit = wit;
  }
  _all(tag) {
    return this.blocks.filter((b) => b.tag === tag).map((b) => b.val);
  }
  /** The first header. */
  title() { return this._all('header')[0]; }
  paragraphs() { return this._all('text'); }
  contexts() { return this._all('context'); }
  /** Every field as [name, value]. */
  fields() { return this._all('fields').flat().map((f) => [f.name, f.value]); }
  /** The value of the field `name`. */
  field(name) { const f = this.fields().find(([n]) => n === name); return f && f[1]; }
  /** Every button: `{ label, action, payload, style, confirm }` (payload parsed). */
  buttons() {
    return this._all('actions').flat().filter((e) => e.tag === 'button').map((e) => ({ ...e.val, payload: jsonOrText(e.val.payload) }));
  }
  button(label) { return this.buttons().find((b) => b.label === label); }
  /** Select menus and member pickers. */
  elements() { return this._all('actions').flat(); }
  files() { return this._all('file'); }
  images() { return this._all('image').map((i) => [i.file, i.alt]); }
  /** Everything as plain text, a line per block. */
  rendered() {
    const lines = [];
    for (const b of this.blocks) {
      if (b.tag === 'text' || b.tag === 'context') lines.push(b.val);
      else if (b.tag === 'header') lines.push(`# ${b.val}`);
      else if (b.tag === 'fields') for (const f of b.val) lines.push(`${f.name}: ${f.value}`);
      else if (b.tag === 'divider') lines.push('---');
      else if (b.tag === 'actions') lines.push(b.val.map((e) => `[${e.val.label ?? e.val.placeholder}]`).join(' '));
      else if (b.tag === 'image') lines.push(`<image ${b.val.file}: ${b.val.alt}>`);
      else if (b.tag === 'file') lines.push(`<file ${b.val}>`);
    }
    return lines.join('\n') || this.text;
  }
}

/** What the member who acted sees after a command, a click or a submit. */
export class Outcome {
  constructor(response, extra = {}) {
    this.response = response;
    this.tag = response.tag;
    this.data = extra.data;
    this.messageId = extra.messageId;
    if (response.tag === 'post' || response.tag === 'private') this.message = new MessageView(response.val, extra.messageId);
    if (response.tag === 'form') this.form = response.val;
    if (response.tag === 'field-errors') this.errors = response.val;
  }
  /** The text of the message shown (post or private). */
  get text() { return this.message?.text; }
}

function sniff(bytes) {
  const b = bytes;
  const starts = (sig) => sig.every((x, i) => b[i] === x);
  if (starts([0x89, 0x50, 0x4e, 0x47])) return 'image/png';
  if (starts([0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (starts([0x47, 0x49, 0x46, 0x38])) return 'image/gif';
  if (starts([0x52, 0x49, 0x46, 0x46]) && b[8] === 0x57 && b[9] === 0x45 && b[10] === 0x42 && b[11] === 0x50) return 'image/webp';
  if (starts([0x25, 0x50, 0x44, 0x46])) return 'application/pdf';
  if (starts([0x50, 0x4b, 0x03, 0x04])) return 'application/zip';
  const head = utf8.decode(b.slice(0, 512)).trimStart().toLowerCase();
  if (head.startsWith('<!doctype html') || head.startsWith('<html')) return 'text/html';
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(b);
    return 'text/plain';
  } catch {
    return 'application/octet-stream';
  }
}

function emptyState() {
  return { storage: new Map(), messages: [], dms: [], timers: new Map(), files: new Map(), payments: new Map() };
}

/**
 * One group with the app installed. `handler` is what the app exports as
 * `handler` (`defineApp(...)`), or the `handler` of a component instance.
 */
export class TestGroup {
  constructor(handler, { name = 'Test group', timeZone = 'UTC', locale = 'en', limits = {}, echo = false } = {}) {
    if (!handler || typeof handler.describe !== 'function') throw new TypeError('TestGroup: pass the app\'s `handler` export');
    this.handler = handler;
    this.info = handler.describe();
    checkDescribe(this.info);
    this.groupId = 'group-1';
    this.installationId = 'inst-1';
    this.name = name;
    this.timeZone = timeZone;
    this.locale = locale;
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    this.now = START;
    this.denied = new Set();
    this.echo = echo;
    this._members = new Map();
    this._state = emptyState();
    this._logs = [];
    this._output = [];
    this._ids = {};
    this._forms = new Map();
    this._invocations = 0;
    this.lastCalls = [];
  }

  _nextId(kind) {
    this._ids[kind] = (this._ids[kind] ?? 0) + 1;
    return this._ids[kind];
  }

  // ---- the group ------------------------------------------------------

  /** Adds a member (builder style): role 'owner' | 'admin' | 'member'. */
  member(id, displayName = id, role = 'member') {
    this._members.set(id, { id, displayName, role, joinedAt: BigInt(this.now), profile: { avatarUrl: undefined, locale: undefined, timeZone: undefined } });
    return this;
  }
  /** Sets the group's time zone and language (builder style). */
  zone(timeZone, locale = this.locale) {
    this.timeZone = timeZone;
    this.locale = locale;
    return this;
  }
  setProfile(id, profile) {
    const m = this._members.get(id);
    m.profile = { avatarUrl: undefined, locale: undefined, timeZone: undefined, ...profile };
    return this;
  }
  removeMember(id) { this._members.delete(id); return this; }
  members() { return [...this._members.values()].map((m) => ({ ...m, joinedAt: Number(m.joinedAt) })); }
  _owner() {
    const o = [...this._members.values()].find((m) => m.role === 'owner');
    return o ? o.id : '';
  }
  /** Withholds a capability ('storage', 'messaging', ...): its calls answer `denied`. */
  deny(capability) {
    if (!CAPABILITIES.includes(capability) || capability === 'log') throw new TypeError(`not a capability that can be withheld: ${capability}`);
    this.denied.add(capability);
    return this;
  }
  grant(capability) { this.denied.delete(capability); return this; }

  // ---- invocations ----------------------------------------------------

  /**
   * One atomic invocation: `call(rawContext)` runs with the in-memory host;
   * on error every change but log lines and output is dropped and the error
   * is thrown as an SDK error class (`Invalid`, `Denied`, ...). `finish`
   * runs inside the invocation after the handler (the host's own steps).
   */
  _invoke(actor, call, { given = [], finish, invocationId } = {}) {
    const tx = structuredClone(this._state);
    const inv = { group: this, tx, given: new Set(given), uploads: new Map(), calls: [] };
    this._invocations += 1;
    const ctx = {
      groupId: this.groupId,
      installationId: this.installationId,
      actor: actor ?? undefined,
      now: BigInt(this.now),
      invocationId: invocationId ?? `inv-${this._invocations}`,
      timeZone: this.timeZone,
      locale: this.locale,
    };
    const restore = this._capture();
    let result;
    try {
      result = withInvocation(inv, () => {
        const r = call(ctx);
        return finish ? finish(r, inv) : r;
      });
    } catch (e) {
      restore();
      this.lastCalls = inv.calls;
      if (witErrorOf(e)) throw toQunError(e);
      throw new Trap(e);
    }
    restore();
    this.lastCalls = inv.calls;
    if (tx.timers.size > this.limits.pendingTimers) throw toQunError(hostError('quota-exceeded', `pending timers: ${this.limits.pendingTimers}`));
    for (const id of inv.given) {
      const f = tx.files.get(id);
      if (f) f.owned = true;
    }
    this._state = tx;
    return result;
  }

  _capture() {
    const saved = {};
    for (const [name, stream] of [['log', 'stdout'], ['info', 'stdout'], ['debug', 'stdout'], ['warn', 'stderr'], ['error', 'stderr']]) {
      saved[name] = console[name];
      console[name] = (...args) => {
        const text = format(...args);
        this._output.push({ stream, text });
        if (this.echo) saved[name](...args);
      };
    }
    return () => Object.assign(console, saved);
  }

  /**
   * Runs any code as one invocation (atomic like the others), e.g. to seed
   * storage or call capabilities directly; `fn(ctx)` gets the SDK's Context.
   * What it throws comes back as an SDK error (anything else as `Internal`).
   */
  run(actor, fn, { given = [] } = {}) {
    return this._invoke(actor, (raw) => {
      try {
        return fn(new Context(raw));
      } catch (e) {
        throw new HandlerError(toQunError(e).toWit());
      }
    }, { given });
  }

  _respond(response, actor, inv, step) {
    if (response.tag === 'post' || response.tag === 'private') {
      this._checkMessage(response.val, inv);
      const id = this._addMessage(inv.tx, response.val, response.tag === 'private' ? actor : undefined);
      return new Outcome(response, { messageId: id });
    }
    if (response.tag === 'form') {
      this._checkForm(response.val);
      return new Outcome(response);
    }
    return new Outcome(response);
  }

  _afterForms(actor, outcome, step, origin) {
    if (!actor) return;
    if (outcome.tag === 'form') this._forms.set(actor, { form: outcome.form, step: step + 1, origin: { kind: 'form' } });
    else if (outcome.tag !== 'field-errors') this._forms.delete(actor);
    void origin;
  }

  /** What the app says about itself (its `describe`). */
  describe() { return structuredClone(this.info); }

  /** Raises `installed`. */
  install() { return this.event({ tag: 'installed' }); }
  uninstall() { return this.event({ tag: 'uninstalled' }); }
  /** Adds a member and raises `member-joined`. */
  join(id, displayName = id, role = 'member') {
    this.member(id, displayName, role);
    return this.event({ tag: 'member-joined', val: id });
  }
  /** Removes a member and raises `member-left`. */
  leave(id) {
    this._members.delete(id);
    return this.event({ tag: 'member-left', val: id });
  }
  /** Raises a WIT event (`{ tag: 'installed' }`, ...) with no acting member. */
  event(event, { given = [] } = {}) { return this.eventAs(undefined, event, { given }); }
  eventAs(actor, event, { given = [] } = {}) {
    // events come from the host's outbox: their invocation id is `event:<n>`
    this._invoke(actor, (ctx) => this.handler.onEvent(ctx, event), { given, invocationId: `event:${this._nextId('event')}` });
  }

  /** `member` posts `text` with their uploads `files` attached; the app hears it if it subscribed. */
  postAs(member, text, files = []) {
    this._need(member);
    for (const id of files) {
      const f = this._state.files.get(id);
      if (!f || f.info.uploadedBy !== member) throw new Error(`${id} is not an upload of ${member}`);
    }
    const id = `msg-${this._nextId('message')}`;
    this._state.messages.push({ id, author: member, message: { text, blocks: [] }, privateTo: undefined, deleted: false, updates: 0, at: this.now });
    if (!this.info.subscriptions.includes('message-posted')) return;
    this.eventAs(member, { tag: 'message-posted', val: { id, author: member, text, files: [...files] } }, { given: files });
  }

  _need(member) {
    if (!this._members.has(member)) throw new Error(`${member} is not a member of the test group (add them with .member())`);
  }

  /**
   * `actor` types a command line ("/checkin", "/event Hike | 2030-06-01 09:00 | 10").
   * Typed options are parsed like the host parses them (positional parts
   * separated by `|`, or `name: value`), or given as an object in `options`;
   * a missing required option opens the command's form.
   */
  command(actor, line, options) {
    this._need(actor);
    const m = /^\/([^\s]+)\s*([\s\S]*)$/.exec(line.trim());
    if (!m) throw new Error(`not a command line: ${line}`);
    const [, name, args] = m;
    const spec = this.info.commands.find((c) => c.name === name);
    if (!spec) throw new NotFound(`no app answers /${name}`);
    let named = [];
    if (spec.options.length) {
      const given = options ?? parseOptionArgs(spec, args);
      const { values, errors } = this._checkValues(spec.options.map((o) => ({ id: o.name, label: o.name, required: o.required, kind: o.kind })), given, actor, 'command');
      if (errors.length) throw new Invalid(errors.map((e) => `${e.input}: ${e.message}`).join('; '));
      const missing = spec.options.filter((o) => o.required && !values.some((v) => v.name === o.name));
      if (missing.length) {
        const form = {
          title: `/${name}`,
          blocks: spec.options.map((o) => ({ tag: 'input', val: { id: o.name, label: o.description || o.name, hint: undefined, required: o.required, kind: o.kind } })),
          submitLabel: 'Run',
          callback: `/${name}`,
          state: 'null',
        };
        this._forms.set(actor, { form, step: 1, origin: { kind: 'command', name, args } });
        return new Outcome({ tag: 'form', val: form });
      }
      named = values;
    }
    const outcome = this._invoke(actor, (ctx) => this.handler.onCommand(ctx, { name, args, options: named }), {
      finish: (response, inv) => this._respond(response, actor, inv),
    });
    this._afterForms(actor, outcome, 0);
    return outcome;
  }

  /** `actor` calls the action API: the data answered, parsed as JSON (undefined for ""). */
  action(actor, name, data = null) {
    this._need(actor);
    const payload = typeof data === 'string' ? data : JSON.stringify(data);
    const out = this._actionCall(actor, { name, payload, value: undefined, messageId: undefined });
    return out.data;
  }

  _actionCall(actor, call) {
    const outcome = this._invoke(actor, (ctx) => this.handler.onAction(ctx, call), {
      finish: (answer, inv) => {
        if (enc.encode(answer.data).length > this.limits.answerBytes) throw hostError('invalid', `answer is more than ${this.limits.answerBytes} bytes`);
        const o = this._respond(answer.response, actor, inv);
        o.data = answer.data === '' ? undefined : JSON.parse(answer.data);
        return o;
      },
    });
    this._afterForms(actor, outcome, 0);
    return outcome;
  }

  _element(actor, messageId, find, what) {
    const msg = this.messageFor(actor, messageId);
    if (!msg) throw new NotFound(`${actor} sees no message ${messageId}`);
    const el = msg.elements().find(find);
    if (!el) throw new NotFound(`message ${messageId} has no ${what}`);
    return el.val;
  }

  /** `actor` clicks the button labelled `label` on message `messageId`. */
  click(actor, messageId, label) {
    this._need(actor);
    const b = this._element(actor, messageId, (e) => e.tag === 'button' && e.val.label === label, `button "${label}"`);
    return this._actionCall(actor, { name: b.action, payload: b.payload, value: undefined, messageId });
  }
  /** `actor` chooses `value` in the select menu of `action` on the message. */
  choose(actor, messageId, action, value) {
    this._need(actor);
    const s = this._element(actor, messageId, (e) => e.tag === 'select' && e.val.action === action, `select menu for ${action}`);
    if (!s.options.some((o) => o.value === value)) throw new Invalid(`"${value}" is not an option of ${action}`);
    return this._actionCall(actor, { name: action, payload: s.payload, value: { tag: 'choices', val: [value] }, messageId });
  }
  /** `actor` picks `member` in the member picker of `action` on the message. */
  pick(actor, messageId, action, member) {
    this._need(actor);
    const p = this._element(actor, messageId, (e) => e.tag === 'member-picker' && e.val.action === action, `member picker for ${action}`);
    if (!this._members.has(member)) throw new NotFound(`${member} is not a member of this group`);
    return this._actionCall(actor, { name: action, payload: p.payload, value: { tag: 'member', val: member }, messageId });
  }

  /** The form open for `actor`, if any. */
  openForm(actor) { return this._forms.get(actor)?.form; }
  closeForm(actor) { this._forms.delete(actor); }

  /**
   * `actor` submits the form open for them with `values` ({ inputId: value }).
   * The host's checks run first: a value that does not fit comes back as
   * field errors without running the app.
   */
  submit(actor, values = {}) {
    this._need(actor);
    const open = this._forms.get(actor);
    if (!open) throw new Error(`no form is open for ${actor}`);
    const inputs = open.form.blocks.filter((b) => b.tag === 'input').map((b) => b.val);
    const { values: named, errors, given } = this._checkValues(inputs, values, actor, 'form');
    if (errors.length) return new Outcome({ tag: 'field-errors', val: errors });
    if (open.origin.kind === 'command') {
      const outcome = this._invoke(actor, (ctx) => this.handler.onCommand(ctx, { name: open.origin.name, args: open.origin.args, options: named }), {
        given,
        finish: (response, inv) => this._respond(response, actor, inv),
      });
      this._afterForms(actor, outcome, open.step);
      return outcome;
    }
    const submission = { callback: open.form.callback, state: open.form.state, values: named, step: open.step };
    const outcome = this._invoke(actor, (ctx) => this.handler.onSubmit(ctx, submission), {
      given,
      finish: (response, inv) => this._respond(response, actor, inv),
    });
    this._afterForms(actor, outcome, open.step);
    return outcome;
  }

  _checkValues(inputs, values, actor, what) {
    const errors = [];
    const named = [];
    const given = [];
    for (const key of Object.keys(values)) {
      if (!inputs.some((i) => i.id === key)) throw new Error(`the ${what} has no input "${key}"`);
    }
    for (const input of inputs) {
      const v = values[input.id];
      const empty = v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0);
      if (empty) {
        if (input.required && what === 'form') errors.push({ input: input.id, message: 'required' });
        continue;
      }
      try {
        const value = this._toValue(input.kind, v, actor);
        if (input.kind.tag === 'checkbox' && input.required && value.val !== true) {
          errors.push({ input: input.id, message: 'must be ticked' });
          continue;
        }
        if (value.tag === 'files') given.push(...value.val);
        named.push({ name: input.id, value });
      } catch (e) {
        errors.push({ input: input.id, message: e.message });
      }
    }
    return { values: named, errors, given };
  }

  _toValue(kind, v, actor) {
    const k = kind.val;
    switch (kind.tag) {
      case 'text': {
        const s = String(v);
        if (k.minLength != null && s.length < k.minLength) throw new Error(`at least ${k.minLength} characters`);
        if (k.maxLength != null && s.length > k.maxLength) throw new Error(`at most ${k.maxLength} characters`);
        if (!k.multiline && s.includes('\n')) throw new Error('one line only');
        return { tag: 'text', val: s };
      }
      case 'number': {
        const s = String(v).trim();
        if (!/^-?\d+(\.\d+)?$/.test(s)) throw new Error(`"${s}" is not a number`);
        const n = Number(s);
        if (k.integer && !Number.isInteger(n)) throw new Error(`"${s}" is not a whole number`);
        if (!k.integer && (s.split('.')[1] ?? '').length > k.decimals) throw new Error(`at most ${k.decimals} digits after the point`);
        if (k.min != null && n < Number(k.min)) throw new Error(`at least ${k.min}`);
        if (k.max != null && n > Number(k.max)) throw new Error(`at most ${k.max}`);
        return k.integer ? { tag: 'integer', val: BigInt(s) } : { tag: 'decimal', val: String(Number(s)) };
      }
      case 'date': {
        const d = typeof v === 'object' ? v : parseDate(String(v));
        return { tag: 'date', val: { year: d.year, month: d.month, day: d.day } };
      }
      case 'date-time': {
        const ts = typeof v === 'number' ? v : v instanceof Date ? v.getTime() : parseDateTime(String(v), this.timeZone);
        return { tag: 'date-time', val: BigInt(ts) };
      }
      case 'choice': {
        const list = (Array.isArray(v) ? v : [v]).map(String);
        if (!k.multiple && list.length > 1) throw new Error('choose one');
        for (const c of list) {
          const o = k.options.find((x) => x.value === c || x.label.toLowerCase() === c.toLowerCase());
          if (!o) throw new Error(`"${c}" is not one of the choices`);
          list[list.indexOf(c)] = o.value;
        }
        return { tag: 'choices', val: list };
      }
      case 'member': {
        if (!this._members.has(String(v))) throw new Error(`${v} is not a member of this group`);
        return { tag: 'member', val: String(v) };
      }
      case 'checkbox':
        return { tag: 'checkbox', val: v === true || v === 'true' || v === 'yes' };
      case 'file': {
        const ids = (Array.isArray(v) ? v : [v]).map(String);
        if (ids.length > k.maxFiles) throw new Error(`at most ${k.maxFiles} files`);
        for (const id of ids) {
          const f = this._state.files.get(id);
          if (!f || f.info.uploadedBy !== actor) throw new Error(`${id} is not a file you uploaded`);
          if (k.accept.length && !k.accept.some((a) => (a.endsWith('/') ? f.info.contentType.startsWith(a) : f.info.contentType === a))) {
            throw new Error(`${f.info.name} is ${f.info.contentType}, not an accepted type`);
          }
        }
        return { tag: 'files', val: ids };
      }
      default:
        throw new Error(`unknown input kind ${kind.tag}`);
    }
  }

  // ---- checks the host makes ------------------------------------------

  _checkMessage(message, inv) {
    const L = BLOCK_LIMITS;
    const bad = (why) => { throw hostError('invalid', why); };
    if (message.text.length > L.MAX_MESSAGE_TEXT_CHARS) bad(`message text is more than ${L.MAX_MESSAGE_TEXT_CHARS} characters`);
    if (message.blocks.length > L.MAX_BLOCKS) bad(`message has ${message.blocks.length} blocks, more than ${L.MAX_BLOCKS}`);
    if (!message.text && message.blocks.length === 0) bad('message is empty');
    const actions = new Set(this.info.actions.map((a) => a.name));
    message.blocks.forEach((b, i) => {
      const at = `block ${i}`;
      if (b.tag === 'text' && b.val.length > L.MAX_TEXT_CHARS) bad(`${at}: text is more than ${L.MAX_TEXT_CHARS} characters`);
      if ((b.tag === 'header' || b.tag === 'context') && b.val.length > L.MAX_TEXT_CHARS) bad(`${at}: more than ${L.MAX_TEXT_CHARS} characters`);
      if (b.tag === 'fields' && b.val.length > L.MAX_FIELDS) bad(`${at}: ${b.val.length} fields, more than ${L.MAX_FIELDS}`);
      if (b.tag === 'input') bad(`${at}: an input block is for forms only`);
      if (b.tag === 'actions') {
        if (b.val.length > L.MAX_ELEMENTS) bad(`${at}: ${b.val.length} elements, more than ${L.MAX_ELEMENTS}`);
        b.val.forEach((e, j) => {
          const el = e.val;
          if (!actions.has(el.action)) bad(`${at} element ${j}: action "${el.action}" is not declared in describe`);
          if (enc.encode(el.payload).length > L.MAX_PAYLOAD_BYTES) bad(`${at} element ${j}: payload is more than ${L.MAX_PAYLOAD_BYTES} bytes`);
          try { JSON.parse(el.payload); } catch { bad(`${at} element ${j}: payload is not JSON`); }
          if (e.tag === 'button' && (el.label.length === 0 || el.label.length > L.MAX_LABEL_CHARS)) bad(`${at} element ${j}: label must be 1 to ${L.MAX_LABEL_CHARS} characters`);
          if (e.tag === 'select' && (el.options.length === 0 || el.options.length > L.MAX_OPTIONS)) bad(`${at} element ${j}: 1 to ${L.MAX_OPTIONS} options`);
        });
      }
      if (b.tag === 'file' || b.tag === 'image') {
        const id = b.tag === 'file' ? b.val : b.val.file;
        const files = inv ? inv.tx.files : this._state.files;
        const f = files.get(id);
        const mine = f && !f.deleted && (f.owned || (inv && inv.given.has(id)));
        if (!mine) bad(`${at}: ${id} is not one of the app's files`);
        if (b.tag === 'image' && !f.info.contentType.startsWith('image/')) bad(`${at}: ${id} is not an image`);
      }
    });
  }

  _checkForm(form) {
    const inputs = form.blocks.filter((b) => b.tag === 'input');
    if (inputs.length > BLOCK_LIMITS.MAX_INPUTS) throw hostError('invalid', `form has ${inputs.length} inputs, more than ${BLOCK_LIMITS.MAX_INPUTS}`);
    const ids = new Set();
    for (const { val } of inputs) {
      if (!/^[a-z0-9_-]+$/.test(val.id)) throw hostError('invalid', `input id "${val.id}": lowercase letters, digits, - and _`);
      if (ids.has(val.id)) throw hostError('invalid', `input id "${val.id}" is used twice`);
      ids.add(val.id);
    }
    if (enc.encode(form.state).length > BLOCK_LIMITS.MAX_PAYLOAD_BYTES) throw hostError('invalid', 'form state is more than 8 KiB');
  }

  _addMessage(tx, message, privateTo) {
    const id = `msg-${this._nextId('message')}`;
    tx.messages.push({ id, author: 'app', message: structuredClone(message), privateTo, deleted: false, updates: 0, at: this.now });
    return id;
  }

  // ---- the clock and timers -------------------------------------------

  /** Sets the clock (ms since the epoch, or a Date/ISO string) without firing timers. */
  setNow(ts) { this.now = toMs(ts); return this; }
  /** Moves the clock forward by `ms`, firing timers due on the way; how many fired. */
  advance(ms) { return this.advanceTo(this.now + ms); }
  /**
   * Moves the clock to `until`, firing every due timer in due order, each
   * with the clock at its due time. A recurring timer is armed again before
   * it fires (as on the host, a failing handler does not end it). Stops at
   * the first handler error by throwing it (a one-off timer is then gone).
   */
  advanceTo(until) {
    const end = toMs(until);
    let fired = 0;
    for (;;) {
      const due = [...this._state.timers.values()].filter((t) => t.at <= end).sort((a, b) => a.at - b.at || (a.key < b.key ? -1 : 1))[0];
      if (!due) break;
      this.now = Math.max(this.now, due.at);
      this._fire(due);
      fired += 1;
    }
    this.now = Math.max(this.now, end);
    return fired;
  }
  /** Fires every timer due at the current clock. */
  fireDueTimers() { return this.advanceTo(this.now); }
  /** Fires the pending timer `key` now, whatever its due time. */
  fire(key) {
    const t = this._state.timers.get(key);
    if (!t) throw new NotFound(`no pending timer ${key}`);
    this._fire(t);
  }
  _fire(t) {
    if (t.rule) {
      this._state.timers.set(t.key, { ...t, at: nextOccurrence(t.rule, Math.max(this.now, t.at), this.timeZone, t.from) });
    } else {
      this._state.timers.delete(t.key);
    }
    this.event({ tag: 'timer-fired', val: { key: t.key, payload: t.payload, due: BigInt(t.at), recurring: Boolean(t.rule) } });
  }
  /** Pending timers: `[{ key, at, payload, rule }]` ordered by due time. */
  timers() {
    return [...this._state.timers.values()].sort((a, b) => a.at - b.at).map((t) => ({ key: t.key, at: t.at, payload: t.payload, rule: t.rule }));
  }

  // ---- what members see -----------------------------------------------

  _visible(m, member) { return !m.deleted && m.author === 'app' && (m.privateTo === undefined || m.privateTo === member); }
  /** The group's messages from the app as they read now (not private, not deleted). */
  posted() { return this._state.messages.filter((m) => this._visible(m, undefined)).map((m) => new MessageView(m.message, m.id)); }
  lastPosted() { return this.posted().at(-1); }
  lastPostedId() { return this.lastPosted()?.id; }
  /** What `member` sees from the app: group messages and their own private replies. */
  timeline(member) { return this._state.messages.filter((m) => this._visible(m, member)).map((m) => new MessageView(m.message, m.id)); }
  privateReplies(member) { return this._state.messages.filter((m) => !m.deleted && m.privateTo === member).map((m) => new MessageView(m.message, m.id)); }
  /** Message `id` as `member` reads it; undefined when deleted or private to someone else. */
  messageFor(member, id) {
    const m = this._state.messages.find((x) => x.id === id);
    return m && this._visible(m, member) ? new MessageView(m.message, m.id) : undefined;
  }
  /** Every message, with `author`, `privateTo`, `deleted` and `updates`. */
  messages() { return this._state.messages.map((m) => ({ ...m, view: new MessageView(m.message, m.id) })); }
  directMessages() { return this._state.dms.map((d) => [d.to, new MessageView(d.message)]); }
  directMessagesTo(member) { return this._state.dms.filter((d) => d.to === member).map((d) => new MessageView(d.message)); }

  // ---- storage, logs, payments, files ---------------------------------

  /** The installation's storage: a Map of key → bytes. */
  storage() { return new Map(this._state.storage); }
  /** A stored value read as JSON; undefined if absent or not JSON. */
  storedJson(key) {
    const v = this._state.storage.get(key);
    if (!v) return undefined;
    try { return JSON.parse(utf8.decode(v)); } catch { return undefined; }
  }
  /** Sets a stored value directly (bytes, a string, or JSON for anything else). */
  setStored(key, value) {
    const bytes = value instanceof Uint8Array ? value : enc.encode(typeof value === 'string' ? value : JSON.stringify(value));
    this._state.storage.set(key, bytes);
    return this;
  }
  /** Lines the app logged with `qun:app/log`, failed invocations included: `{ level, message, fields }`. */
  logs() { return this._logs.map((l) => ({ ...l, fields: Object.fromEntries(l.fields) })); }
  /** What the app printed (console.log → stdout, console.error → stderr): `{ stream, text }`. */
  output() { return [...this._output]; }
  /** Payments the app requested (amounts as numbers). */
  payments() { return [...this._state.payments.values()].map(({ p }) => ({ ...p, amount: Number(p.amount), refunded: Number(p.refunded), createdAt: Number(p.createdAt) })); }
  /** The payer pays: it settles and the app hears `payment-settled`. */
  settlePayment(id) {
    const e = this._state.payments.get(id);
    if (!e) throw new NotFound(`no payment ${id}`);
    e.p.status = 'settled';
    this.event({ tag: 'payment-settled', val: structuredClone(e.p) });
  }
  /** The payer declines (or it expires: reason 'expired'). */
  failPayment(id, reason = 'declined') {
    const e = this._state.payments.get(id);
    if (!e) throw new NotFound(`no payment ${id}`);
    e.p.status = reason === 'expired' ? 'expired' : 'declined';
    this.event({ tag: 'payment-failed', val: { payment: structuredClone(e.p), reason } });
  }

  _makeFile(name, bytes, uploadedBy) {
    const id = `file-${this._nextId('file')}`;
    const info = { id, name, contentType: sniff(bytes), size: BigInt(bytes.length), sha256: createHash('sha256').update(bytes).digest('hex'), uploadedBy, createdAt: BigInt(this.now) };
    return { info, bytes: new Uint8Array(bytes), owned: false, deleted: false };
  }
  /** `member` uploads a file (to give it to the app in a form or a message): its id. */
  upload(member, name, bytes) {
    this._need(member);
    const b = bytes instanceof Uint8Array ? bytes : enc.encode(String(bytes));
    if (b.length > this.limits.fileBytes) throw new Invalid(`file is ${b.length} bytes, more than ${this.limits.fileBytes}`);
    const f = this._makeFile(name, b, member);
    this._state.files.set(f.info.id, f);
    return f.info.id;
  }
  file(id) {
    const f = this._state.files.get(id);
    return f && !f.deleted ? { ...f.info, size: Number(f.info.size), createdAt: Number(f.info.createdAt) } : undefined;
  }
  fileBytes(id) { const f = this._state.files.get(id); return f && !f.deleted ? new Uint8Array(f.bytes) : undefined; }
  appFiles() { return [...this._state.files.values()].filter((f) => f.owned && !f.deleted).map((f) => this.file(f.info.id)); }
  /** What `member` downloads: a file a message they see shows, or one they uploaded; `NotFound` otherwise. */
  download(member, id) {
    const f = this._state.files.get(id);
    if (!f || f.deleted) throw new NotFound(`no file ${id}`);
    if (f.info.uploadedBy === member) return new Uint8Array(f.bytes);
    const shows = (wit) => new MessageView(wit).files().includes(id) || new MessageView(wit).images().some(([fid]) => fid === id);
    const seen = this.timeline(member).some((m) => shows(m.wit)) || this.directMessagesTo(member).some((m) => shows(m.wit));
    if (!seen) throw new NotFound(`no file ${id}`);
    return new Uint8Array(f.bytes);
  }
}

const NAME = /^[a-z0-9_-]+$/;

/** What the host checks of `describe` at upload (it refuses such an app): names, options, duplicates. */
export function checkDescribe(info) {
  const bad = (why) => {
    throw new Error(`the host would refuse this app: ${why}`);
  };
  if (!/^[a-z][a-z0-9-]{1,31}$/.test(info.name) || info.name.endsWith('-')) bad(`name "${info.name}": 2 to 32 lowercase letters, digits and -, starting with a letter`);
  const seen = new Set();
  for (const c of info.commands) {
    if (!NAME.test(c.name)) bad(`command "${c.name}": lowercase letters, digits, - and _`);
    if (seen.has(c.name)) bad(`command "${c.name}" is declared twice`);
    seen.add(c.name);
    if (c.options.length > 10) bad(`command "${c.name}" has ${c.options.length} options, more than 10`);
    const opts = new Set();
    for (const o of c.options) {
      if (!NAME.test(o.name)) bad(`option "${o.name}" of /${c.name}: lowercase letters, digits, - and _`);
      if (opts.has(o.name)) bad(`option "${o.name}" of /${c.name} is declared twice`);
      if (o.kind.tag === 'file') bad(`option "${o.name}" of /${c.name}: a file input is for forms only`);
      opts.add(o.name);
    }
  }
  const actions = new Set();
  for (const a of info.actions) {
    if (!a.name) bad('an action without a name');
    if (actions.has(a.name)) bad(`action "${a.name}" is declared twice`);
    actions.add(a.name);
  }
}

function toMs(ts) {
  if (typeof ts === 'number') return ts;
  if (ts instanceof Date) return ts.getTime();
  const n = Date.parse(ts);
  if (Number.isNaN(n)) throw new TypeError(`not a time: ${ts}`);
  return n;
}

function parseDate(s) {
  const m = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(s.trim());
  if (!m) throw new Error(`"${s}" is not a date (YYYY-MM-DD)`);
  return { year: +m[1], month: +m[2], day: +m[3] };
}

function parseDateTime(s, tz) {
  const m = /^(\d{4})-(\d{1,2})-(\d{1,2})[ T](\d{1,2}):(\d{2})$/.exec(s.trim());
  if (m) return fromZoned(+m[1], +m[2], +m[3], +m[4], +m[5], tz);
  const n = Date.parse(s);
  if (Number.isNaN(n)) throw new Error(`"${s}" is not a date and time (YYYY-MM-DD HH:MM)`);
  return n;
}

/** Typed options as members type them: positional parts split on `|`, or `name: value`. */
function parseOptionArgs(spec, args) {
  const out = {};
  if (!args.trim()) return out;
  const parts = args.split('|').map((p) => p.trim());
  let pos = 0;
  for (const part of parts) {
    if (!part) throw new Invalid('an empty part between |');
    const named = /^([a-z0-9_-]+):\s*(.*)$/.exec(part);
    if (named && spec.options.some((o) => o.name === named[1])) {
      out[named[1]] = named[2];
      continue;
    }
    while (pos < spec.options.length && out[spec.options[pos].name] !== undefined) pos++;
    if (pos >= spec.options.length) throw new Invalid(`too many parts: /${spec.name} takes ${spec.options.length}`);
    out[spec.options[pos].name] = part;
    pos++;
  }
  return out;
}

export { messageToWit, QunError };
