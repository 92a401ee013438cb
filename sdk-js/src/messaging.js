// Capability `messaging` (messaging.wit): post, update, delete, private
// replies, direct messages. Effective only when the invocation succeeds.
import * as raw from 'qun:app/messaging@0.2.0';
import { call } from './errors.js';
import { messageToWit } from './blocks.js';

/** Posts a message (string, Message or Card) to the group; its id. */
export function post(message) {
  return call(() => raw.post(messageToWit(message)));
}
/** Replaces a message this installation posted. */
export function update(id, message) {
  call(() => raw.update(id, messageToWit(message)));
}
/** Deletes a message this installation posted. */
function del(id) {
  call(() => raw.delete(id));
}
export { del as delete, del as remove };
/** A message in the group only `to` sees; its id. */
export function postPrivate(to, message) {
  return call(() => raw.postPrivate(to, messageToWit(message)));
}
/** A direct message to one member of the group. */
export function sendDirect(to, message) {
  call(() => raw.sendDirect(to, messageToWit(message)));
}
