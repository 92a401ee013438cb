// qun:app/membership@0.2.0 in tests: the in-memory host (generated list of the interface's functions).
import { capability } from '../host.js';
const c = capability('membership');
export const currentGroup = c.currentGroup;
export const getMember = c.getMember;
export const listMembers = c.listMembers;
