/** @module Interface qun:app/handler@0.2.0 **/
export function describe(): AppInfo;
export function onCommand(ctx: Context, command: Command): Response;
export function onAction(ctx: Context, call: ActionCall): ActionAnswer;
export function onSubmit(ctx: Context, submission: Submission): Response;
export function onEvent(ctx: Context, event: Event): void;
export type Context = import('./qun-app-types.js').Context;
export type Error = import('./qun-app-types.js').Error;
export type MemberId = import('./qun-app-types.js').MemberId;
export type Payment = import('./qun-app-types.js').Payment;
export type Timestamp = import('./qun-app-types.js').Timestamp;
export type InputKind = import('./qun-app-blocks.js').InputKind;
export type NamedValue = import('./qun-app-blocks.js').NamedValue;
export type Response = import('./qun-app-blocks.js').Response;
export type Value = import('./qun-app-blocks.js').Value;
export interface CommandOption {
  name: string,
  description: string,
  required: boolean,
  kind: InputKind,
}
export interface CommandSpec {
  name: string,
  description: string,
  options: Array<CommandOption>,
}
export interface ActionSpec {
  name: string,
  description: string,
}
/**
 * # Variants
 * 
 * ## `"message-posted"`
 */
export type Subscription = 'message-posted';
export interface AppInfo {
  name: string,
  title: string,
  version: string,
  description: string,
  commands: Array<CommandSpec>,
  actions: Array<ActionSpec>,
  subscriptions: Array<Subscription>,
}
export interface Command {
  name: string,
  args: string,
  options: Array<NamedValue>,
}
export interface ActionCall {
  name: string,
  payload: string,
  value?: Value,
  messageId?: string,
}
export interface ActionAnswer {
  data: string,
  response: Response,
}
export interface Submission {
  callback: string,
  state: string,
  values: Array<NamedValue>,
  step: number,
}
export interface PostedMessage {
  id: string,
  author: MemberId,
  text: string,
  files: Array<string>,
}
export interface PaymentFailure {
  payment: Payment,
  reason: string,
}
export interface Timer {
  key: string,
  payload: string,
  due: Timestamp,
  recurring: boolean,
}
export type Event = EventInstalled | EventUninstalled | EventMemberJoined | EventMemberLeft | EventMessagePosted | EventPaymentSettled | EventPaymentFailed | EventTimerFired;
export interface EventInstalled {
  tag: 'installed',
}
export interface EventUninstalled {
  tag: 'uninstalled',
}
export interface EventMemberJoined {
  tag: 'member-joined',
  val: MemberId,
}
export interface EventMemberLeft {
  tag: 'member-left',
  val: MemberId,
}
export interface EventMessagePosted {
  tag: 'message-posted',
  val: PostedMessage,
}
export interface EventPaymentSettled {
  tag: 'payment-settled',
  val: Payment,
}
export interface EventPaymentFailed {
  tag: 'payment-failed',
  val: PaymentFailure,
}
export interface EventTimerFired {
  tag: 'timer-fired',
  val: Timer,
}
