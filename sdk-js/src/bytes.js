// Bytes and JSON helpers.
const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

/** A string as UTF-8 bytes; bytes pass through. */
export function toBytes(value) {
  if (value instanceof Uint8Array) return value;
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (typeof value === 'string') return enc.encode(value);
  throw new TypeError('expected a string or bytes (Uint8Array)');
}

/** UTF-8 bytes as a string. */
export function fromBytes(bytes) {
  return dec.decode(bytes);
}

/** A JSON value as UTF-8 bytes. */
export function jsonBytes(value) {
  return enc.encode(JSON.stringify(value));
}

/** UTF-8 JSON bytes as a value. */
export function parseJsonBytes(bytes) {
  return JSON.parse(dec.decode(bytes));
}
