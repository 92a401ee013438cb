// Builders for messages, cards, buttons, menus, forms and inputs, producing
// the `qun:app/blocks` values (see wit/0.2.0/blocks.wit). Every builder has
// `toWit()`; the SDK calls it for you when you return or post one.

import { Invalid } from './errors.js';

/** The host's limits on messages and forms (blocks.wit); it refuses one over them with `invalid`. */
export const limits = Object.freeze({
  MAX_BLOCKS: 50,
  MAX_FIELDS: 10,
  MAX_ELEMENTS: 5,
  MAX_OPTIONS: 100,
  MAX_INPUTS: 20,
  MAX_TEXT_CHARS: 3000,
  MAX_LABEL_CHARS: 150,
  MAX_PAYLOAD_BYTES: 8 * 1024,
  MAX_MESSAGE_TEXT_CHARS: 4000,
  MAX_FILES_PER_INPUT: 10,
});

const enc = new TextEncoder();

/** A JSON document as a string (a payload, a form state). Strings pass as they are only through `raw`. */
export function toJsonText(value) {
  if (value === undefined) return 'null';
  const text = JSON.stringify(value);
  if (enc.encode(text).length > limits.MAX_PAYLOAD_BYTES) {
    throw new Invalid(`payload is ${enc.encode(text).length} bytes, more than ${limits.MAX_PAYLOAD_BYTES}`);
  }
  return text;
}

/** A button: clicking it runs `onAction` with `action` and its payload. */
export class Button {
  constructor(label, action) {
    this.label = label;
    this.action = action;
    this._payload = 'null';
    this._style = 'default';
    this._confirm = undefined;
  }
  /** The JSON handed to `onAction` (any JSON value; at most 8 KiB). */
  payload(value) { this._payload = toJsonText(value); return this; }
  /** 'default' | 'primary' | 'danger'. */
  style(style) {
    if (!['default', 'primary', 'danger'].includes(style)) throw new Invalid(`button style: ${style}`);
    this._style = style; return this;
  }
  primary() { return this.style('primary'); }
  danger() { return this.style('danger'); }
  /** Ask "are you sure?" first. */
  confirm(title, text, confirmLabel = 'Yes', denyLabel = 'Cancel') {
    this._confirm = { title, text, confirmLabel, denyLabel }; return this;
  }
  toWit() {
    return { tag: 'button', val: { label: this.label, action: this.action, payload: this._payload, style: this._style, confirm: this._confirm } };
  }
}

/** A select menu of static options. */
export class Select {
  constructor(action, placeholder) {
    this.action = action; this.placeholder = placeholder; this._payload = 'null'; this.options = [];
  }
  option(value, label = value) { this.options.push({ value: String(value), label }); return this; }
  payload(value) { this._payload = toJsonText(value); return this; }
  toWit() {
    return { tag: 'select', val: { action: this.action, payload: this._payload, placeholder: this.placeholder, options: this.options.map((o) => ({ ...o })) } };
  }
}

/** A picker of members of the group. */
export class MemberPicker {
  constructor(action, placeholder) { this.action = action; this.placeholder = placeholder; this._payload = 'null'; }
  payload(value) { this._payload = toJsonText(value); return this; }
  toWit() { return { tag: 'member-picker', val: { action: this.action, payload: this._payload, placeholder: this.placeholder } }; }
}

function elementToWit(e) {
  if (e && typeof e.toWit === 'function') return e.toWit();
  return e; // already a WIT element
}

function fieldsToWit(fields) {
  const list = Array.isArray(fields) ? fields : Object.entries(fields);
  return list.map((f) => (Array.isArray(f) ? { name: String(f[0]), value: String(f[1]) } : { name: String(f.name), value: String(f.value) }));
}

/** Blocks shared by messages and forms. */
class Blocks {
  constructor() { this.blocks = []; }
  /** A paragraph (light markup: *bold*, _italic_, `code`, <https://...|label>). */
  text(text) { this.blocks.push({ tag: 'text', val: String(text) }); return this; }
  header(text) { this.blocks.push({ tag: 'header', val: String(text) }); return this; }
  /** Labelled values: `[[name, value], ...]` or `{ name: value }`. */
  fields(fields) { this.blocks.push({ tag: 'fields', val: fieldsToWit(fields) }); return this; }
  divider() { this.blocks.push({ tag: 'divider' }); return this; }
  /** A small grey line. */
  context(text) { this.blocks.push({ tag: 'context', val: String(text) }); return this; }
}

/** A message: fallback `text` and blocks. */
export class Message extends Blocks {
  constructor(text = '') { super(); this.fallback = String(text); }
  /** One row of buttons, menus and pickers (at most 5). */
  actions(elements) { this.blocks.push({ tag: 'actions', val: elements.map(elementToWit) }); return this; }
  /** One of the app's own image files. */
  image(fileId, alt) { this.blocks.push({ tag: 'image', val: { file: fileId, alt } }); return this; }
  /** One of the app's own files, to download. */
  file(fileId) { this.blocks.push({ tag: 'file', val: fileId }); return this; }
  toWit() { return { text: this.fallback, blocks: this.blocks.map(cloneBlock) }; }
}

/** A card (0.1 style): a header, a body, fields and one row of buttons. */
export class Card {
  constructor(title) { this.title = title; this._body = undefined; this._fields = []; this._buttons = []; this._context = undefined; }
  body(text) { this._body = text; return this; }
  field(name, value) { this._fields.push([name, value]); return this; }
  button(button) { this._buttons.push(button); return this; }
  context(text) { this._context = text; return this; }
  toMessage() {
    const m = new Message(this._body ? `${this.title}: ${this._body}` : this.title).header(this.title);
    if (this._body) m.text(this._body);
    if (this._fields.length) m.fields(this._fields);
    if (this._context) m.context(this._context);
    if (this._buttons.length) m.actions(this._buttons);
    return m;
  }
  toWit() { return this.toMessage().toWit(); }
}

function cloneBlock(b) { return structuredClone(b); }

/** An input of a form (or an option of a typed command): `Input.text(id, label)`, ... */
export class Input {
  constructor(id, label, kind) { this.id = id; this.label = label; this.kind = kind; this._hint = undefined; this._required = false; }
  static text(id, label) { return new Input(id, label, { tag: 'text', val: { minLength: undefined, maxLength: undefined, multiline: false, placeholder: undefined, initial: undefined } }); }
  static integer(id, label) { return new Input(id, label, { tag: 'number', val: { integer: true, decimals: 0, min: undefined, max: undefined, initial: undefined } }); }
  static decimal(id, label, decimals) { return new Input(id, label, { tag: 'number', val: { integer: false, decimals, min: undefined, max: undefined, initial: undefined } }); }
  static date(id, label) { return new Input(id, label, { tag: 'date', val: { min: undefined, max: undefined, initial: undefined } }); }
  static dateTime(id, label) { return new Input(id, label, { tag: 'date-time', val: { min: undefined, max: undefined, initial: undefined } }); }
  /** A single choice: `[[value, label], ...]`. */
  static choice(id, label, options) { return new Input(id, label, { tag: 'choice', val: { options: choices(options), multiple: false, initial: [] } }); }
  static multiChoice(id, label, options) { return new Input(id, label, { tag: 'choice', val: { options: choices(options), multiple: true, initial: [] } }); }
  static member(id, label) { return new Input(id, label, { tag: 'member', val: { initial: undefined } }); }
  static checkbox(id, label) { return new Input(id, label, { tag: 'checkbox', val: { initial: false } }); }
  static file(id, label) { return new Input(id, label, { tag: 'file', val: { maxFiles: 1, accept: [] } }); }

  required(yes = true) { this._required = yes; return this; }
  hint(text) { this._hint = text; return this; }
  multiline() { this.kind.val.multiline = true; return this; }
  minLength(n) { this.kind.val.minLength = n; return this; }
  maxLength(n) { this.kind.val.maxLength = n; return this; }
  placeholder(text) { this.kind.val.placeholder = text; return this; }
  /** Number inputs: bounds (numbers or decimal strings). */
  min(v) { this.kind.val.min = this.kind.tag === 'number' ? String(v) : v; return this; }
  max(v) { this.kind.val.max = this.kind.tag === 'number' ? String(v) : v; return this; }
  range(lo, hi) { return this.min(lo).max(hi); }
  /** The starting value (its type follows the input's kind). */
  initial(v) {
    const k = this.kind;
    if (k.tag === 'number') k.val.initial = String(v);
    else if (k.tag === 'date-time') k.val.initial = BigInt(v);
    else if (k.tag === 'choice') k.val.initial = Array.isArray(v) ? v.map(String) : [String(v)];
    else k.val.initial = v;
    return this;
  }
  maxFiles(n) { this.kind.val.maxFiles = n; return this; }
  accept(types) { this.kind.val.accept = [...types]; return this; }
  toWit() { return { id: this.id, label: this.label, hint: this._hint, required: this._required, kind: structuredClone(this.kind) }; }
  /** As a typed command option (`name`, `description`). */
  toOption(description = this.label) { return { name: this.id, description, required: this._required, kind: structuredClone(this.kind) }; }
}

function choices(options) {
  const list = Array.isArray(options) ? options : Object.entries(options);
  return list.map((o) => (Array.isArray(o) ? { value: String(o[0]), label: String(o[1] ?? o[0]) } : typeof o === 'string' ? { value: o, label: o } : { value: String(o.value), label: String(o.label) }));
}

/** A form opened for the acting member; `onSubmit` gets its values. */
export class Form extends Blocks {
  constructor(title, callback) { super(); this.title = title; this.callback = callback; this._submitLabel = 'Submit'; this._state = 'null'; }
  input(input) { this.blocks.push({ tag: 'input', val: input.toWit() }); return this; }
  submitLabel(label) { this._submitLabel = label; return this; }
  /** A JSON value handed back unchanged on submit (at most 8 KiB). */
  state(value) { this._state = toJsonText(value); return this; }
  toWit() { return { title: this.title, blocks: this.blocks.map(cloneBlock), submitLabel: this._submitLabel, callback: this.callback, state: this._state }; }
}

/** What the member who acted sees: `Reply.post(m)`, `Reply.private(m)`, `Reply.form(f)`, `Reply.fieldErrors(...)`, `Reply.none()`. */
export class Reply {
  constructor(wit) { this.wit = wit; }
  static none() { return new Reply({ tag: 'none' }); }
  /** Posted to the group (no `messaging` grant needed). A string is a text message. */
  static post(message) { return new Reply({ tag: 'post', val: messageToWit(message) }); }
  /** Only the acting member sees it. */
  static private(message) { return new Reply({ tag: 'private', val: messageToWit(message) }); }
  static form(form) { return new Reply({ tag: 'form', val: form.toWit() }); }
  /** `Reply.fieldErrors({ input: 'why' })` or `[[input, why], ...]` (onSubmit only). */
  static fieldErrors(errors) {
    const list = Array.isArray(errors) ? errors : Object.entries(errors);
    return new Reply({ tag: 'field-errors', val: list.map((e) => (Array.isArray(e) ? { input: e[0], message: e[1] } : e)) });
  }
  static fieldError(input, message) { return Reply.fieldErrors([[input, message]]); }
  toWit() { return structuredClone(this.wit); }
}

/** A Message, Card, string or WIT message as a WIT message. */
export function messageToWit(message) {
  if (typeof message === 'string') return { text: message, blocks: [] };
  if (message && typeof message.toWit === 'function') return message.toWit();
  if (message && typeof message.text === 'string' && Array.isArray(message.blocks)) return message;
  throw new TypeError('not a message: pass a string, a Message or a Card');
}

/**
 * What a handler returned as a WIT `response`: undefined/null → none, a
 * string, Message or Card → posted to the group, a Form → opened, a Reply as it is.
 */
export function responseToWit(value) {
  if (value === undefined || value === null) return { tag: 'none' };
  if (typeof value.then === 'function') throw new TypeError('handlers are synchronous: do not return a Promise (no async/await)');
  if (value instanceof Reply) return value.toWit();
  if (value instanceof Form) return { tag: 'form', val: value.toWit() };
  if (typeof value === 'string' || value instanceof Message || value instanceof Card) return { tag: 'post', val: messageToWit(value) };
  if (typeof value === 'object' && ['none', 'post', 'private', 'form', 'field-errors'].includes(value.tag)) return value;
  throw new TypeError('a handler returns a Reply, Message, Card, Form, string or nothing');
}

/** An answer to `onAction`: `data` (any JSON, for API callers) and what the member sees. */
export class ActionAnswer {
  constructor(data, reply) { this.data = data; this.reply = reply; }
  toWit() { return { data: this.data === undefined ? '' : JSON.stringify(this.data), response: responseToWit(this.reply) }; }
}
/** `answer(data, reply)`: an ActionAnswer. */
export function answer(data, reply) { return new ActionAnswer(data, reply); }
