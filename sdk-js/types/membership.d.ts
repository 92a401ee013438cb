import type { GroupInfo } from './wit/qun-app-membership.js';
import type { Role, Profile } from './wit/qun-app-types.js';
import type { Context } from './index.js';
export interface Member { id: string; displayName: string; role: Role; joinedAt: number; profile: Profile; }
export function currentGroup(): GroupInfo;
export function getMember(id: string): Member;
export function members(cursor?: string, limit?: number): { members: Member[]; nextCursor: string | undefined };
export function allMembers(): Member[];
export function isAdmin(member: Member): boolean;
export function actorMember(ctx: Context): Member;
export function actorName(ctx: Context): string;
