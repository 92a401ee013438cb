/** @module Interface qun:app/messaging@0.2.0 **/
export function post(message: Message): MessageId;
export function update(id: MessageId, message: Message): void;
export { _delete as delete };
function _delete(id: MessageId): void;
export function postPrivate(to: MemberId, message: Message): MessageId;
export function sendDirect(to: MemberId, message: Message): void;
export type Message = import('./qun-app-blocks.js').Message;
export type MessageId = string;
export type Error = import('./qun-app-types.js').Error;
export type MemberId = import('./qun-app-types.js').MemberId;
