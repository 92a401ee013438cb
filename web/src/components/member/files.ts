// Files: uploads (with progress), downloads and blob URLs. The file routes
// need the bearer header, so content is fetched and shown or saved through
// `URL.createObjectURL` (the CSP allows `img-src blob:`), never linked
// directly. Uploads use XMLHttpRequest, which reports progress.
import { useCallback, useEffect, useRef, useState } from "react";
import type { TFunction } from "i18next";
import { api, ApiError, getToken, ok } from "../../api/client";
import { postBytes } from "../dev/raw";
import type { FileUsage, FileView } from "./types";

/** Files a member may attach to one message. */
export const MAX_MESSAGE_FILES = 10;

/** `n` bytes in human units: "512 B", "1.5 KiB", "2.31 MiB", "1.02 GiB". */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(2)} MiB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GiB`;
}

/** Upload `file` to the group (`POST /v1/groups/{gid}/files?name=`), reporting progress (0..1). */
export function uploadFile(gid: string, file: File, onProgress: (fraction: number) => void): Promise<FileView> {
  const path = `/v1/groups/${encodeURIComponent(gid)}/files?name=${encodeURIComponent(file.name)}`;
  return postBytes<FileView>(path, file, "application/octet-stream", onProgress);
}

/** The group's file usage (owners and admins; 403 for anyone else). */
export async function fileUsage(gid: string): Promise<FileUsage> {
  return ok(api.GET("/v1/groups/{gid}/files/usage", { params: { path: { gid } } }));
}

/** A file's bytes, fetched with the bearer header. */
export async function fileBlob(url: string, signal?: AbortSignal): Promise<Blob> {
  const token = getToken();
  const response = await fetch(url, { headers: token ? { Authorization: `Bearer ${token}` } : {}, signal });
  if (!response.ok) {
    let code = `http_${response.status}`;
    let message = response.statusText;
    try {
      const body = (await response.json()) as { error?: { code?: string; message?: string } };
      code = body.error?.code ?? code;
      message = body.error?.message ?? message;
    } catch {
      // not JSON: keep the status
    }
    throw new ApiError(response.status, code, message);
  }
  return response.blob();
}

/** Save a blob as `name` through a temporary `<a download>`. */
export function saveBlob(blob: Blob, name: string) {
  const href = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = href;
  a.download = name;
  a.rel = "noopener";
  document.body.appendChild(a);
  a.click();
  a.remove();
  // Give the browser time to start the download before revoking.
  setTimeout(() => URL.revokeObjectURL(href), 60_000);
}

/** Fetch a file and save it as `name`. */
export async function downloadFile(url: string, name: string): Promise<void> {
  saveBlob(await fileBlob(url), name);
}

/** A blob URL of the file at `url` (null while loading), revoked when unmounted or changed. */
export function useBlobUrl(url: string | null): { src: string | null; blob: Blob | null; error: unknown } {
  const [state, setState] = useState<{ src: string | null; blob: Blob | null; error: unknown }>({
    src: null,
    blob: null,
    error: null,
  });
  useEffect(() => {
    if (!url) return;
    const controller = new AbortController();
    let made: string | null = null;
    fileBlob(url, controller.signal)
      .then((blob) => {
        if (controller.signal.aborted) return;
        made = URL.createObjectURL(blob);
        setState({ src: made, blob, error: null });
      })
      .catch((error: unknown) => {
        if (!controller.signal.aborted) setState({ src: null, blob: null, error });
      });
    return () => {
      controller.abort();
      if (made) URL.revokeObjectURL(made);
      setState({ src: null, blob: null, error: null });
    };
  }, [url]);
  return state;
}

/** An upload error in words: the named file errors, else the server's message. */
export function uploadErrorText(t: TFunction, error: unknown, name: string): string {
  if (error instanceof ApiError) {
    switch (error.code) {
      case "file_too_large":
        return t("files.error.tooLarge", { name });
      case "group_file_quota":
        return t("files.error.groupQuota", { name });
      case "invalid_name":
        return t("files.error.invalidName", { name });
    }
    return t("files.error.other", { name, message: error.message || error.code });
  }
  return t("files.error.network", { name });
}

/** One chosen file and its upload. */
export interface Upload {
  key: number;
  /** Which control chose it (a form input's id, or the composer). */
  group: string;
  file: File;
  progress: number;
  state: "uploading" | "done" | "failed";
  view?: FileView;
  error?: unknown;
}

let nextKey = 1;

/**
 * Files chosen in one or more controls, each uploaded as soon as it is
 * chosen. `ids(group)` waits for that control's uploads and answers their
 * file ids (throwing when one failed).
 */
export function useUploads(gid: string) {
  const [items, setItems] = useState<Upload[]>([]);
  const current = useRef<Upload[]>([]);
  const pending = useRef(new Map<number, Promise<void>>());

  const update = useCallback((change: (items: Upload[]) => Upload[]) => {
    current.current = change(current.current);
    setItems(current.current);
  }, []);

  const add = useCallback(
    (group: string, files: File[]) => {
      for (const file of files) {
        const key = nextKey++;
        update((list) => [...list, { key, group, file, progress: 0, state: "uploading" }]);
        const patch = (p: Partial<Upload>) => update((list) => list.map((u) => (u.key === key ? { ...u, ...p } : u)));
        const done = uploadFile(gid, file, (progress) => patch({ progress }))
          .then((view) => patch({ state: "done", view, progress: 1 }))
          .catch((error: unknown) => patch({ state: "failed", error }))
          .finally(() => pending.current.delete(key));
        pending.current.set(key, done);
      }
    },
    [gid, update],
  );

  const remove = useCallback((key: number) => update((list) => list.filter((u) => u.key !== key)), [update]);

  const clear = useCallback((group: string) => update((list) => list.filter((u) => u.group !== group)), [update]);

  /** The uploaded files' ids of `group`, once every upload of it ended. */
  const ids = useCallback(async (group: string): Promise<string[]> => {
    const waiting = current.current.filter((u) => u.group === group).map((u) => pending.current.get(u.key));
    await Promise.all(waiting);
    const mine = current.current.filter((u) => u.group === group);
    const failed = mine.find((u) => u.state === "failed");
    if (failed) throw new UploadFailed(failed);
    return mine.flatMap((u) => (u.view ? [u.view.id] : []));
  }, []);

  return { items, add, remove, clear, ids };
}

/** A submit waited for an upload that failed (its error is shown beside it). */
export class UploadFailed extends Error {
  constructor(public upload: Upload) {
    super(`upload of ${upload.file.name} failed`);
  }
}

/** `accept` of a file input as the `<input accept>` attribute ("image/" → "image/*"). */
export function acceptAttribute(accept?: string[]): string | undefined {
  if (!accept || accept.length === 0) return undefined;
  return accept.map((a) => (a.endsWith("/") ? `${a}*` : a)).join(",");
}
