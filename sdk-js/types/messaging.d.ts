import type { MessageLike } from './index.js';
export function post(message: MessageLike): string;
export function update(id: string, message: MessageLike): void;
declare function del(id: string): void;
export { del as delete, del as remove };
export function postPrivate(to: string, message: MessageLike): string;
export function sendDirect(to: string, message: MessageLike): void;
