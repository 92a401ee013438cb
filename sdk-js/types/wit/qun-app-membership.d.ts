/** @module Interface qun:app/membership@0.2.0 **/
export function currentGroup(): GroupInfo;
export function getMember(id: MemberId): Member;
export function listMembers(cursor: string | undefined, limit: number): MemberPage;
export type MemberId = import('./qun-app-types.js').MemberId;
export interface GroupInfo {
  id: string,
  name: string,
  owner: MemberId,
  memberCount: number,
  timeZone: string,
  locale: string,
}
export type Error = import('./qun-app-types.js').Error;
export type Member = import('./qun-app-types.js').Member;
export interface MemberPage {
  members: Array<Member>,
  nextCursor?: string,
}
