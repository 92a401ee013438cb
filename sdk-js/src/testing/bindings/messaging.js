// qun:app/messaging@0.2.0 in tests: the in-memory host (generated list of the interface's functions).
import { capability } from '../host.js';
const c = capability('messaging');
export const post = c.post;
export const update = c.update;
const del = c.delete;
export { del as delete };
export const postPrivate = c.postPrivate;
export const sendDirect = c.sendDirect;
