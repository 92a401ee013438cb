// The API client, generated from the server's OpenAPI document
// (`npm run schema` regenerates `schema.d.ts`; scripts/web.sh checks it is current).
import createClient, { type Middleware } from "openapi-fetch";
import type { paths } from "./schema";

export type { paths, components } from "./schema";

/** The API's error body: `{ "error": { "code", "message", ... } }`. */
export interface ApiErrorBody {
  error: { code: string; message: string; fields?: Record<string, string>; [k: string]: unknown };
}

/** An error answer from the API, with its code and message. */
export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    public body?: ApiErrorBody,
  ) {
    super(message);
  }
}

const TOKEN_KEY = "qun.token";

/** The bearer token, kept in this tab's session storage (see README: web app). */
export function getToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}
export function setToken(token: string | null) {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

const auth: Middleware = {
  onRequest({ request }) {
    const token = getToken();
    if (token) request.headers.set("Authorization", `Bearer ${token}`);
    return request;
  },
};

export const api = createClient<paths>({ baseUrl: window.location.origin });
api.use(auth);

/**
 * The data of an openapi-fetch answer, or throw its error as an [`ApiError`].
 * `const me = await ok(api.GET("/v1/me"))`
 */
export async function ok<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await call;
  if (response.ok) return data as T;
  const body = error as ApiErrorBody | undefined;
  throw new ApiError(
    response.status,
    body?.error?.code ?? `http_${response.status}`,
    body?.error?.message ?? response.statusText,
    body,
  );
}
