// qun:app/storage@0.2.0 in tests: the in-memory host (generated list of the interface's functions).
import { capability } from '../host.js';
const c = capability('storage');
export const get = c.get;
export const set = c.set;
const del = c.delete;
export { del as delete };
export const list = c.list;
export const compareAndSwap = c.compareAndSwap;
