// qun:app/files@0.2.0 in tests: the in-memory host (generated list of the interface's functions).
import { capability } from '../host.js';
const c = capability('files');
export const stat = c.stat;
export const read = c.read;
export const create = c.create;
export const append = c.append;
export const finish = c.finish;
const del = c.delete;
export { del as delete };
