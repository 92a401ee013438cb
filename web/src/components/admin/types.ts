// Shapes of the admin API used by these screens, from the generated schema.
import type { components } from "../../api/client";

type S = components["schemas"];
export type VersionView = S["VersionView"];
export type AppView = S["AppView"];
export type ReviewItem = S["ReviewItem"];
export type AuditEntry = S["AuditEntry"];
export type AuditPage = S["AuditPage"];
export type LedgerReport = S["LedgerReport"];
/** `GET /v1/admin/apps/{slug}/versions/{version}/review`. */
export type ReviewDetail = S["ReviewDetail"];
/** What changed against the previous approved version. */
export type ReviewDiff = S["ReviewDiff"];
/** `GET /v1/admin/audit/verify`. */
export type AuditVerify = S["AuditVerificationView"];
export type Currency = S["Currency"];
