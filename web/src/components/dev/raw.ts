// Calls the typed client cannot make: an upload with progress (XMLHttpRequest
// reports upload progress; fetch does not), and routes newer than the
// generated schema.
import { ApiError, getToken, type ApiErrorBody } from "../../api/client";

function apiError(status: number, statusText: string, text: string): ApiError {
  let body: ApiErrorBody | undefined;
  try {
    body = JSON.parse(text) as ApiErrorBody;
  } catch {
    body = undefined;
  }
  return new ApiError(
    status,
    body?.error?.code ?? `http_${status}`,
    body?.error?.message ?? (statusText || text),
    body,
  );
}

/** GET a JSON route of the API, throwing its error as an `ApiError`. */
export async function getJson<T>(path: string): Promise<T> {
  const token = getToken();
  const response = await fetch(path, {
    headers: token ? { Authorization: `Bearer ${token}` } : {},
  });
  const text = await response.text();
  if (!response.ok) throw apiError(response.status, response.statusText, text);
  return JSON.parse(text) as T;
}

/** POST raw bytes with a content type, reporting upload progress (0..1). */
export function postBytes<T>(
  path: string,
  body: Blob,
  contentType: string,
  onProgress: (fraction: number) => void,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    const token = getToken();
    if (token) xhr.setRequestHeader("Authorization", `Bearer ${token}`);
    xhr.setRequestHeader("Content-Type", contentType);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        try {
          resolve(JSON.parse(xhr.responseText) as T);
        } catch (e) {
          reject(e);
        }
      } else {
        reject(apiError(xhr.status, xhr.statusText, xhr.responseText));
      }
    };
    xhr.onerror = () => reject(new Error("network error"));
    xhr.send(body);
  });
}
