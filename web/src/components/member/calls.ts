// The member screens' API calls, typed with the shapes in ./types (the
// OpenAPI document leaves blocks loosely typed).
import { api, ok } from "../../api/client";
import type {
  Acted,
  CommandView,
  DirectView,
  FormView,
  InstallationSummary,
  MemberView,
  MessageView,
  Posted,
} from "./types";

/** Newest page of a timeline (`before=` this for the end of it). */
export const NEWEST = 9007199254740991;
/** Messages per page when reading a timeline backwards. */
export const BACK_PAGE = 50;

/** The newest `BACK_PAGE` messages before `before`, oldest first. */
export async function messagesBefore(gid: string, before: number): Promise<MessageView[]> {
  const data = await ok(
    api.GET("/v1/groups/{gid}/messages", { params: { path: { gid }, query: { before, limit: BACK_PAGE } } }),
  );
  return data as unknown as MessageView[];
}

/** Post a member's message: its text and the ids of files they uploaded (at most 10). */
export async function postMessage(gid: string, text: string, files: string[] = []): Promise<Posted> {
  const body = files.length > 0 ? { text, files } : { text };
  const data = await ok(api.POST("/v1/groups/{gid}/messages", { params: { path: { gid } }, body }));
  return data as unknown as Posted;
}

export async function actOn(gid: string, mid: number, ref: string, value?: string): Promise<Acted> {
  const data = await ok(
    api.POST("/v1/groups/{gid}/messages/{mid}/elements/{ref}", {
      params: { path: { gid, mid, ref } },
      body: value === undefined ? null : { value },
    } as never),
  );
  return data as unknown as Acted;
}

export async function getForm(gid: string, fid: string): Promise<FormView> {
  const data = await ok(api.GET("/v1/groups/{gid}/forms/{fid}", { params: { path: { gid, fid } } }));
  return data as unknown as FormView;
}

export async function submitForm(gid: string, fid: string, values: Record<string, unknown>): Promise<Acted> {
  const data = await ok(
    api.POST("/v1/groups/{gid}/forms/{fid}", {
      params: { path: { gid, fid } },
      body: { values } as never,
    }),
  );
  return data as unknown as Acted;
}

export async function groupCommands(gid: string): Promise<CommandView[]> {
  const data = await ok(api.GET("/v1/groups/{gid}/commands", { params: { path: { gid } } }));
  return data as unknown as CommandView[];
}

/** Every member of the group (pages of 1000 by user id). */
export async function groupMembers(gid: string): Promise<MemberView[]> {
  const all: MemberView[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 20; pages++) {
    const data = (await ok(
      api.GET("/v1/groups/{gid}/members", { params: { path: { gid }, query: { cursor, limit: 1000 } } }),
    )) as unknown as MemberView[];
    all.push(...data);
    if (data.length < 1000) break;
    cursor = data[data.length - 1].user_id;
  }
  return all;
}

export async function groupApps(gid: string): Promise<InstallationSummary[]> {
  const data = await ok(api.GET("/v1/groups/{gid}/apps", { params: { path: { gid } } }));
  return data as unknown as InstallationSummary[];
}

export async function directMessages(after: number): Promise<DirectView[]> {
  const data = await ok(api.GET("/v1/me/direct-messages", { params: { query: { after, limit: 50 } } }));
  return data as unknown as DirectView[];
}
