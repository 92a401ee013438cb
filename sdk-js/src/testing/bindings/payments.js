// qun:app/payments@0.2.0 in tests: the in-memory host (generated list of the interface's functions).
import { capability } from '../host.js';
const c = capability('payments');
export const request = c.request;
export const status = c.status;
export const refund = c.refund;
