/** @module Interface qun:app/files@0.2.0 **/
export function stat(id: FileId): FileInfo;
export function read(id: FileId, offset: bigint, length: number): Uint8Array;
export function create(name: string): UploadId;
export function append(upload: UploadId, bytes: Uint8Array): void;
export function finish(upload: UploadId): FileInfo;
export { _delete as delete };
function _delete(id: FileId): boolean;
export type FileId = string;
export type MemberId = import('./qun-app-types.js').MemberId;
export type Timestamp = import('./qun-app-types.js').Timestamp;
export interface FileInfo {
  id: FileId,
  name: string,
  contentType: string,
  size: bigint,
  sha256: string,
  uploadedBy?: MemberId,
  createdAt: Timestamp,
}
export type Error = import('./qun-app-types.js').Error;
export type UploadId = number;
