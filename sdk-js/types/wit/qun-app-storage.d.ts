/** @module Interface qun:app/storage@0.2.0 **/
export function get(key: string): Uint8Array | undefined;
export function set(key: string, value: Uint8Array): void;
export { _delete as delete };
function _delete(key: string): boolean;
export function list(prefix: string, cursor: string | undefined, limit: number): EntryPage;
export function compareAndSwap(key: string, expected: Uint8Array | undefined, new_: Uint8Array | undefined): boolean;
export type Error = import('./qun-app-types.js').Error;
export interface Entry {
  key: string,
  value: Uint8Array,
}
export interface EntryPage {
  entries: Array<Entry>,
  nextCursor?: string,
}
