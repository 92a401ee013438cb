import type { BytesLike } from './index.js';
export const MAX_CHUNK: number;
export const MAX_READ_ALL: number;
export interface FileInfo { id: string; name: string; contentType: string; size: number; sha256: string; uploadedBy: string | undefined; createdAt: number; }
export function isImage(f: FileInfo): boolean;
export function stat(id: string): FileInfo;
export function read(id: string, offset: number, length: number): Uint8Array;
export function readAll(id: string): Uint8Array;
export class FileWriter {
  static create(name: string): FileWriter;
  write(bytes: BytesLike): this;
  finish(): FileInfo;
}
export function create(name: string, bytes: BytesLike): FileInfo;
declare function del(id: string): boolean;
export { del as delete, del as remove };
