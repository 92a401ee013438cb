// Capability `files` (files.wit): files members give the app, files it keeps.
import * as raw from 'qun:app/files@0.2.0';
import { call, Invalid } from './errors.js';
import { toBytes } from './bytes.js';

/** Most bytes one `read` or `append` moves. */
export const MAX_CHUNK = 1 << 20;
/** Largest file `readAll` reads. */
export const MAX_READ_ALL = 16 << 20;

function info(f) {
  return { ...f, size: Number(f.size), createdAt: Number(f.createdAt), uploadedBy: f.uploadedBy ?? undefined };
}
/** PNG, JPEG, GIF or WebP. */
export function isImage(f) {
  return ['image/png', 'image/jpeg', 'image/gif', 'image/webp'].includes(f.contentType);
}
/** `{ id, name, contentType, size, sha256, uploadedBy, createdAt }`. */
export function stat(id) {
  return info(call(() => raw.stat(id)));
}
/** Up to `length` bytes (≤ 1 MiB) from `offset`. */
export function read(id, offset, length) {
  return call(() => raw.read(id, BigInt(offset), length));
}
/** The whole file (at most 16 MiB), 1 MiB at a time. */
export function readAll(id) {
  const { size } = stat(id);
  if (size > MAX_READ_ALL) throw new Invalid(`file ${id} is ${size} bytes, more than readAll reads (${MAX_READ_ALL})`);
  const out = new Uint8Array(size);
  let at = 0;
  while (at < size) {
    const chunk = read(id, at, Math.min(MAX_CHUNK, size - at));
    if (chunk.length === 0) break;
    out.set(chunk, at);
    at += chunk.length;
  }
  return at === size ? out : out.slice(0, at);
}
/** A file built piece by piece: `const w = FileWriter.create(name); w.write(bytes); const info = w.finish();` */
export class FileWriter {
  static create(name) {
    return new FileWriter(call(() => raw.create(name)));
  }
  constructor(upload) { this.upload = upload; }
  write(bytes) {
    const b = toBytes(bytes);
    for (let at = 0; at < b.length; at += MAX_CHUNK) {
      const piece = b.subarray(at, Math.min(b.length, at + MAX_CHUNK));
      call(() => raw.append(this.upload, piece));
    }
    return this;
  }
  finish() {
    return info(call(() => raw.finish(this.upload)));
  }
}
/** Creates a file from bytes (or a string); its info (it exists once the invocation returns ok). */
export function create(name, bytes) {
  return FileWriter.create(name).write(bytes).finish();
}
/** Lets go of one of the installation's files; true if it held it. */
function del(id) {
  return call(() => raw.delete(id));
}
export { del as delete, del as remove };
