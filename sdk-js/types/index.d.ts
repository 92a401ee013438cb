// @qun/sdk: write Qun group apps in JavaScript. The raw interfaces, as the
// component sees them, are in ./wit/ (generated from wit/0.2.0).
import type * as Handler from './wit/qun-app-handler.js';
import type * as Blocks from './wit/qun-app-blocks.js';
import type * as Types from './wit/qun-app-types.js';

export type { Handler, Blocks, Types };

// ---- errors --------------------------------------------------------------

export type ErrorTag = 'denied' | 'not-found' | 'invalid' | 'quota-exceeded' | 'conflict' | 'internal';
export const ERROR_TAGS: readonly ErrorTag[];

/** A Qun error: `tag` is the WIT variant of `qun:app/types.error`. */
export class QunError extends Error {
  constructor(tag: ErrorTag, message: string);
  readonly tag: ErrorTag;
  toWit(): Types.Error;
}
/** The group owner did not grant the capability, or the member may not do this. */
export class Denied extends QunError { constructor(message?: string); }
/** The thing asked for does not exist in this group. */
export class NotFound extends QunError { constructor(message?: string); }
/** An argument was malformed or too large: say how to fix it. */
export class Invalid extends QunError { constructor(message?: string); }
/** A limit of this installation was reached. */
export class QuotaExceeded extends QunError { constructor(message?: string); }
/** The state changed under the call. */
export class Conflict extends QunError { constructor(message?: string); }
/** Something failed; may be retried. Any other thrown error becomes this. */
export class Internal extends QunError { constructor(message?: string); }
export function errorClass(tag: ErrorTag): typeof QunError;
/** A thrown value as a QunError (SDK classes stay; capability errors by variant; anything else Internal). */
export function toQunError(thrown: unknown): QunError;
/** The WIT error a thrown value stands for, if any. */
export function witErrorOf(thrown: unknown): Types.Error | undefined;

// ---- bytes and JSON ------------------------------------------------------

export type BytesLike = Uint8Array | ArrayBufferView | ArrayBuffer | string;
export function toBytes(value: BytesLike): Uint8Array;
export function fromBytes(bytes: Uint8Array): string;
export function jsonBytes(value: unknown): Uint8Array;
export function parseJsonBytes<T = unknown>(bytes: Uint8Array): T;

// ---- messages, forms, replies --------------------------------------------

export const limits: Readonly<{
  MAX_BLOCKS: 50; MAX_FIELDS: 10; MAX_ELEMENTS: 5; MAX_OPTIONS: 100; MAX_INPUTS: 20;
  MAX_TEXT_CHARS: 3000; MAX_LABEL_CHARS: 150; MAX_PAYLOAD_BYTES: 8192;
  MAX_MESSAGE_TEXT_CHARS: 4000; MAX_FILES_PER_INPUT: 10;
}>;

export type Fields = Array<[string, string | number]> | Record<string, string | number>;
export type ElementLike = Button | Select | MemberPicker | Blocks.Element;
export type MessageLike = string | Message | Card | Blocks.Message;

export class Button {
  constructor(label: string, action: string);
  /** Any JSON value handed to onAction (at most 8 KiB). */
  payload(value: unknown): this;
  style(style: Blocks.ButtonStyle): this;
  primary(): this;
  danger(): this;
  confirm(title: string, text: string, confirmLabel?: string, denyLabel?: string): this;
  toWit(): Blocks.Element;
}
export class Select {
  constructor(action: string, placeholder: string);
  option(value: string, label?: string): this;
  payload(value: unknown): this;
  toWit(): Blocks.Element;
}
export class MemberPicker {
  constructor(action: string, placeholder: string);
  payload(value: unknown): this;
  toWit(): Blocks.Element;
}
declare class BlockList {
  text(text: string): this;
  header(text: string): this;
  fields(fields: Fields): this;
  divider(): this;
  context(text: string): this;
}
export class Message extends BlockList {
  constructor(text?: string);
  actions(elements: ElementLike[]): this;
  image(fileId: string, alt: string): this;
  file(fileId: string): this;
  toWit(): Blocks.Message;
}
export class Card {
  constructor(title: string);
  body(text: string): this;
  field(name: string, value: string | number): this;
  button(button: Button): this;
  context(text: string): this;
  toMessage(): Message;
  toWit(): Blocks.Message;
}
export type Choices = Array<[string, string] | string | { value: string; label: string }> | Record<string, string>;
export class Input {
  static text(id: string, label: string): Input;
  static integer(id: string, label: string): Input;
  static decimal(id: string, label: string, decimals: number): Input;
  static date(id: string, label: string): Input;
  static dateTime(id: string, label: string): Input;
  static choice(id: string, label: string, options: Choices): Input;
  static multiChoice(id: string, label: string, options: Choices): Input;
  static member(id: string, label: string): Input;
  static checkbox(id: string, label: string): Input;
  static file(id: string, label: string): Input;
  required(yes?: boolean): this;
  hint(text: string): this;
  multiline(): this;
  minLength(n: number): this;
  maxLength(n: number): this;
  placeholder(text: string): this;
  min(v: number | string | Blocks.Date | bigint): this;
  max(v: number | string | Blocks.Date | bigint): this;
  range(lo: number | string, hi: number | string): this;
  initial(v: unknown): this;
  maxFiles(n: number): this;
  accept(types: string[]): this;
  toWit(): Blocks.Input;
  toOption(description?: string): Handler.CommandOption;
}
export class Form extends BlockList {
  constructor(title: string, callback: string);
  input(input: Input): this;
  submitLabel(label: string): this;
  /** Any JSON value handed back on submit (at most 8 KiB). */
  state(value: unknown): this;
  toWit(): Blocks.Form;
}
export class Reply {
  static none(): Reply;
  static post(message: MessageLike): Reply;
  static private(message: MessageLike): Reply;
  static form(form: Form): Reply;
  static fieldErrors(errors: Record<string, string> | Array<[string, string]> | Blocks.FieldError[]): Reply;
  static fieldError(input: string, message: string): Reply;
  toWit(): Blocks.Response;
}
/** What a handler may return: nothing, a string/Message/Card (posted), a Form (opened), or a Reply. */
export type ReplyLike = void | undefined | null | string | Message | Card | Form | Reply | Blocks.Response;
export class ActionAnswer {
  constructor(data: unknown, reply?: ReplyLike);
  toWit(): Handler.ActionAnswer;
}
/** An onAction answer: `data` (JSON, for API callers) and what the member sees. */
export function answer(data: unknown, reply?: ReplyLike): ActionAnswer;
export function messageToWit(message: MessageLike): Blocks.Message;
export function responseToWit(value: ReplyLike): Blocks.Response;

// ---- the app -------------------------------------------------------------

/** A typed value, as plain JS: text/decimal/member → string, integer/date-time → number, date → {year,month,day}, choices/files → string[], checkbox → boolean. */
export type Value = string | number | boolean | string[] | Blocks.Date;

export class Context {
  constructor(raw: Types.Context);
  readonly raw: Types.Context;
  readonly groupId: string;
  readonly installationId: string;
  /** The acting member; undefined for events the host raises (timers, installs). */
  readonly actor: string | undefined;
  /** ms since the epoch. */
  readonly now: number;
  readonly invocationId: string;
  readonly timeZone: string;
  readonly locale: string;
  readonly eventId: string | undefined;
  /** The actor; `Invalid` when none acted. */
  requireActor(): string;
  /** YYYY-MM-DD of `ts` (default now) in the group's time zone. */
  date(ts?: number): string;
  /** "2030-06-01 09:00 (Asia/Shanghai)". */
  formatTime(ts: number): string;
  /** The wall-clock time of `ts` (default now) on the group's clock. */
  local(ts?: number): ZonedParts;
  /** The moment (ms) of hour:minute on the day of `ts` (default today) on the group's clock. */
  at(hour: number, minute?: number, ts?: number): number;
}
export interface Command {
  name: string;
  args: string;
  options: Record<string, Value>;
  option<T extends Value = Value>(name: string): T | undefined;
  raw: Handler.Command;
}
export interface ActionCall {
  name: string;
  /** The button's (or API caller's) JSON, parsed. */
  readonly payload: any;
  payloadText: string;
  /** The option chosen in a select menu (string[]), or the member picked (string). */
  value: Value | undefined;
  /** The one option chosen in a select menu, or the member picked. */
  readonly chosen: string | undefined;
  messageId: string | undefined;
  raw: Handler.ActionCall;
}
export interface Submission {
  callback: string;
  readonly state: any;
  stateText: string;
  values: Record<string, Value>;
  value<T extends Value = Value>(name: string): T | undefined;
  files(name: string): string[];
  step: number;
  raw: Handler.Submission;
}
export interface Payment { id: string; payer: string; amount: number; currency: string; memo: string; status: Types.PaymentStatus; refunded: number; createdAt: number; }
export interface Timer { key: string; readonly payload: any; payloadText: string; due: number; recurring: boolean; }
export type Event =
  | { type: 'installed' | 'uninstalled'; raw: Handler.Event }
  | { type: 'member-joined' | 'member-left'; member: string; raw: Handler.Event }
  | { type: 'message-posted'; message: Handler.PostedMessage; raw: Handler.Event }
  | { type: 'payment-settled'; payment: Payment; raw: Handler.Event }
  | { type: 'payment-failed'; payment: Payment; reason: string; raw: Handler.Event }
  | { type: 'timer-fired'; timer: Timer; raw: Handler.Event };

export interface CommandSpec { name: string; description?: string; options?: Array<Input | Handler.CommandOption>; }
export interface ActionSpec { name: string; description?: string; }

export interface AppSpec {
  /** The machine name (the app's slug). */
  name: string;
  title?: string;
  version?: string;
  description?: string;
  commands?: Array<CommandSpec | string>;
  actions?: Array<ActionSpec | string>;
  subscriptions?: Handler.Subscription[];
  onCommand?(ctx: Context, command: Command): ReplyLike;
  onAction?(ctx: Context, call: ActionCall): ReplyLike | ActionAnswer;
  onSubmit?(ctx: Context, submission: Submission): ReplyLike;
  onEvent?(ctx: Context, event: Event): void;
}
/** The `handler` export, as the component exports it (handler.wit). */
export interface AppHandler {
  describe(): Handler.AppInfo;
  onCommand(ctx: Types.Context, command: Handler.Command): Blocks.Response;
  onAction(ctx: Types.Context, call: Handler.ActionCall): Handler.ActionAnswer;
  onSubmit(ctx: Types.Context, submission: Handler.Submission): Blocks.Response;
  onEvent(ctx: Types.Context, event: Handler.Event): void;
}
/** Defines the app: `export const handler = defineApp({...})`. Handlers are synchronous. */
export function defineApp(spec: AppSpec): AppHandler;
export function fromWitValue(v: Blocks.Value | undefined): Value | undefined;
export function toEvent(raw: Handler.Event): Event;

// ---- time on the group's clock (no Intl in the component: IANA data bundled) ----
export interface ZonedParts { year: number; month: number; day: number; hour: number; minute: number; second: number; weekday: number; }
export function zonedParts(ts: number, timeZone: string): ZonedParts;
export function dateIn(ts: number, timeZone: string): string;
export function formatIn(ts: number, timeZone: string): string;
export function fromZonedParts(parts: { year: number; month: number; day: number; hour?: number; minute?: number }, timeZone: string): number;
