import type { BytesLike } from './index.js';
export const MAX_PAGE: 1000;
export interface Entry { key: string; value: Uint8Array; }
export function get(key: string): Uint8Array | undefined;
export function set(key: string, value: BytesLike): void;
declare function del(key: string): boolean;
export { del as delete, del as remove };
export function list(prefix?: string, opts?: { cursor?: string; limit?: number }): { entries: Entry[]; nextCursor: string | undefined };
export function listAll(prefix?: string): Entry[];
export function compareAndSwap(key: string, expected: BytesLike | undefined, next: BytesLike | undefined): boolean;
export function getText(key: string): string | undefined;
export function getJson<T = any>(key: string): T | undefined;
export function setJson(key: string, value: unknown): void;
export function listJson<T = any>(prefix?: string): Array<{ key: string; value: T }>;
export function updateJson<T = any>(key: string, fn: (value: T | undefined) => T | undefined): T | undefined;
export function nextId(counterKey: string): string;
