import type { AppHandler, QunError } from './index.js';
import type * as Blocks from './wit/qun-app-blocks.js';
import type * as Handler from './wit/qun-app-handler.js';
import type { Recurrence } from './wit/qun-app-scheduler.js';
import type { FileInfo } from './files.js';

export const START: number;
export interface Limits {
  keyBytes: number; valueBytes: number; storageBytes: number; storageKeys: number;
  messagesPerMinute: number; dmsPerMinute: number; dmsPerRecipient: number;
  pendingTimers: number; timerPayloadBytes: number; answerBytes: number;
  fileBytes: number; installationFileBytes: number; groupFileBytes: number;
}
export const DEFAULT_LIMITS: Readonly<Limits>;
export class Trap extends Error { cause: unknown; }

export class MessageView {
  id: string | undefined;
  text: string;
  blocks: Blocks.Block[];
  wit: Blocks.Message;
  title(): string | undefined;
  paragraphs(): string[];
  contexts(): string[];
  fields(): Array<[string, string]>;
  field(name: string): string | undefined;
  buttons(): Array<{ label: string; action: string; payload: any; style: Blocks.ButtonStyle; confirm?: Blocks.Confirm }>;
  button(label: string): ReturnType<MessageView['buttons']>[number] | undefined;
  elements(): Blocks.Element[];
  files(): string[];
  images(): Array<[string, string]>;
  rendered(): string;
}
export class Outcome {
  tag: Blocks.Response['tag'];
  response: Blocks.Response;
  message?: MessageView;
  messageId?: string;
  form?: Blocks.Form;
  errors?: Blocks.FieldError[];
  data?: any;
  readonly text: string | undefined;
}
export type Capability = 'membership' | 'messaging' | 'payments' | 'storage' | 'scheduler' | 'files';

export class TestGroup {
  constructor(handler: AppHandler | { describe(): Handler.AppInfo }, opts?: { name?: string; timeZone?: string; locale?: string; limits?: Partial<Limits>; echo?: boolean });
  now: number;
  limits: Limits;
  lastCalls: Array<[string, string]>;
  member(id: string, displayName?: string, role?: 'owner' | 'admin' | 'member'): this;
  zone(timeZone: string, locale?: string): this;
  setProfile(id: string, profile: { avatarUrl?: string; locale?: string; timeZone?: string }): this;
  removeMember(id: string): this;
  members(): Array<{ id: string; displayName: string; role: string; joinedAt: number }>;
  deny(capability: Capability): this;
  grant(capability: Capability): this;
  describe(): Handler.AppInfo;
  install(): void;
  uninstall(): void;
  join(id: string, displayName?: string, role?: 'owner' | 'admin' | 'member'): void;
  leave(id: string): void;
  event(event: Handler.Event, opts?: { given?: string[] }): void;
  eventAs(actor: string | undefined, event: Handler.Event, opts?: { given?: string[] }): void;
  postAs(member: string, text: string, files?: string[]): void;
  run<R>(actor: string | undefined, fn: (ctx: import('./index.js').Context) => R, opts?: { given?: string[] }): R;
  command(actor: string, line: string, options?: Record<string, unknown>): Outcome;
  action(actor: string, name: string, data?: unknown): any;
  click(actor: string, messageId: string, label: string): Outcome;
  choose(actor: string, messageId: string, action: string, value: string): Outcome;
  pick(actor: string, messageId: string, action: string, member: string): Outcome;
  openForm(actor: string): Blocks.Form | undefined;
  closeForm(actor: string): void;
  submit(actor: string, values?: Record<string, unknown>): Outcome;
  setNow(ts: number | Date | string): this;
  advance(ms: number): number;
  advanceTo(until: number | Date | string): number;
  fireDueTimers(): number;
  fire(key: string): void;
  timers(): Array<{ key: string; at: number; payload: string; rule: Recurrence | undefined }>;
  posted(): MessageView[];
  lastPosted(): MessageView | undefined;
  lastPostedId(): string | undefined;
  timeline(member: string): MessageView[];
  privateReplies(member: string): MessageView[];
  messageFor(member: string, id: string): MessageView | undefined;
  messages(): Array<{ id: string; author: string; privateTo: string | undefined; deleted: boolean; updates: number; view: MessageView }>;
  directMessages(): Array<[string, MessageView]>;
  directMessagesTo(member: string): MessageView[];
  storage(): Map<string, Uint8Array>;
  storedJson<T = any>(key: string): T | undefined;
  setStored(key: string, value: unknown): this;
  logs(): Array<{ level: string; message: string; fields: Record<string, string> }>;
  output(): Array<{ stream: 'stdout' | 'stderr'; text: string }>;
  payments(): import('./index.js').Payment[];
  settlePayment(id: string): void;
  failPayment(id: string, reason?: string): void;
  upload(member: string, name: string, bytes: Uint8Array | string): string;
  file(id: string): FileInfo | undefined;
  fileBytes(id: string): Uint8Array | undefined;
  appFiles(): FileInfo[];
  download(member: string, id: string): Uint8Array;
}
export function checkDescribe(info: Handler.AppInfo): void;
export function nextOccurrence(rule: Recurrence, after: number, timeZone: string, from?: number): number;
export function fromZoned(year: number, month: number, day: number, hour: number, minute: number, timeZone: string): number;
export { QunError };
