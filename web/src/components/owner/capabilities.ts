// What each capability lets an app do, in plain words (locale keys
// `owner.cap.<name>`), for the catalog, the consent screen and the grants.
import type { TFunction } from "i18next";

/** The capabilities the host knows (host/src/capabilities: `Capability::ALL`). */
export const CAPABILITIES = ["membership", "messaging", "payments", "storage", "scheduler", "log", "files"] as const;

/** The capability's short title, e.g. "Messaging" / "发消息". */
export function capTitle(t: TFunction, name: string): string {
  return t([`owner.cap.${name}.title`, `files.cap.${name}.title`], { defaultValue: name });
}

/** What the capability allows, in plain words; the server's text for one this app does not know. */
export function capAllows(t: TFunction, name: string, serverText?: string): string {
  return t([`owner.cap.${name}.allows`, `files.cap.${name}.allows`], { defaultValue: serverText || name });
}
