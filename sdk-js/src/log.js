// Capability `log` (log.wit): structured lines for the developer. Always
// granted; lines stay even when the invocation fails. (`console.log` and
// `console.error` also reach the app log, as stdout/stderr.)
import * as raw from 'qun:app/log@0.2.0';

export const LEVELS = ['trace', 'debug', 'info', 'warn', 'error'];

function fieldList(fields) {
  if (!fields) return [];
  const list = Array.isArray(fields) ? fields : Object.entries(fields);
  return list.map(([k, v]) => [String(k), typeof v === 'string' ? v : JSON.stringify(v)]);
}

/** Writes one line at `level` with fields (`{ key: value }` or `[[key, value]]`). */
export function write(level, message, fields) {
  if (!LEVELS.includes(level)) throw new TypeError(`log level: ${level}`);
  raw.write(level, String(message), fieldList(fields));
}
export const trace = (message, fields) => write('trace', message, fields);
export const debug = (message, fields) => write('debug', message, fields);
export const info = (message, fields) => write('info', message, fields);
export const warn = (message, fields) => write('warn', message, fields);
export const error = (message, fields) => write('error', message, fields);
