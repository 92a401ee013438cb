// Capability `membership` (membership.wit): the current group and its members.
import * as raw from 'qun:app/membership@0.2.0';
import { call } from './errors.js';

function member(m) {
  return { ...m, joinedAt: Number(m.joinedAt), profile: { ...m.profile } };
}

/** The group: `{ id, name, owner, memberCount, timeZone, locale }`. */
export function currentGroup() {
  return call(() => raw.currentGroup());
}
/** One member: `{ id, displayName, role, joinedAt, profile }`; `NotFound` if not in the group. */
export function getMember(id) {
  return member(call(() => raw.getMember(id)));
}
/** One page of members (at most 100): `{ members, nextCursor }`. */
export function members(cursor, limit = 100) {
  const page = call(() => raw.listMembers(cursor, limit));
  return { members: page.members.map(member), nextCursor: page.nextCursor ?? undefined };
}
/** Every member (follows cursors). */
export function allMembers() {
  const out = [];
  let cursor;
  do {
    const page = members(cursor, 100);
    out.push(...page.members);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return out;
}
/** Owner or admin. */
export function isAdmin(m) {
  return m.role === 'owner' || m.role === 'admin';
}
/** The acting member (`Invalid` when none acted). */
export function actorMember(ctx) {
  return getMember(ctx.requireActor());
}
/** The acting member's display name. */
export function actorName(ctx) {
  return actorMember(ctx).displayName;
}
