// Shapes of the admin API used by these screens. Most come from the generated
// schema; the review detail and the chain verification are written out here
// as the server documents them (host/src/http/admin.rs, audit.rs).
import type { components } from "../../api/client";

export type VersionView = components["schemas"]["VersionView"];
export type AppView = components["schemas"]["AppView"];
export type ReviewItem = components["schemas"]["ReviewItem"];
export type AuditEntry = components["schemas"]["AuditEntry"];
export type AuditPage = components["schemas"]["AuditPage"];
export type LedgerReport = components["schemas"]["LedgerReport"];

/** What changed against the previous approved version. */
export interface ReviewDiff {
  capabilities_added: string[];
  capabilities_removed: string[];
  imports_added: string[];
  imports_removed: string[];
  exports_added: string[];
  exports_removed: string[];
  commands_added: string[];
  commands_removed: string[];
  actions_added: string[];
  actions_removed: string[];
}

/** `GET /v1/admin/apps/{slug}/versions/{version}/review`. */
export interface ReviewDetail {
  app: string;
  version: VersionView;
  size_bytes: number;
  /** The component's full interface as WIT text. */
  wit: string;
  imports: string[];
  exports: string[];
  /** The previous approved version (null: this is the first). */
  previous: VersionView | null;
  diff: ReviewDiff;
}

/** `GET /v1/admin/audit/verify`. */
export interface AuditVerify {
  ok: boolean;
  rows: number;
  unchained: number;
  chains: number;
  anchors: number;
  broken?: null | { id: number; chain?: string | null; reason: string };
}
