// qun:app/scheduler@0.2.0 in tests: the in-memory host (generated list of the interface's functions).
import { capability } from '../host.js';
const c = capability('scheduler');
export const schedule = c.schedule;
export const scheduleRecurring = c.scheduleRecurring;
export const cancel = c.cancel;
