// Small formatters shared by the admin screens.

/** A time (ms since the epoch) in the reader's language. */
export function formatTime(ms: number | null | undefined, lang: string): string {
  if (ms === null || ms === undefined) return "";
  return new Date(ms).toLocaleString(lang.startsWith("zh") ? "zh-CN" : "en-GB", {
    dateStyle: "medium",
    timeStyle: "medium",
  });
}

/** A size in bytes, in KiB or MiB past 1 KiB (with the exact count beside it). */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(2)} MiB`;
}

/** The value of a `datetime-local` input as ms since the epoch (local time), or undefined. */
export function localInputToMs(value: string): number | undefined {
  if (!value) return undefined;
  const ms = new Date(value).getTime();
  return Number.isNaN(ms) ? undefined : ms;
}

/** ms since the epoch as a `datetime-local` input's value (local time). */
export function msToLocalInput(ms: number | undefined): string {
  if (ms === undefined) return "";
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
