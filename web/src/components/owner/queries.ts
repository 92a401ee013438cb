// Server data of the group owner's screen (TanStack Query keys and fetchers).
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api, ok, type components } from "../../api/client";

export type Installation = components["schemas"]["InstallationView"];
export type CatalogEntry = components["schemas"]["CatalogEntry"];
export type AppView = components["schemas"]["AppView"];
export type Member = components["schemas"]["MemberView"];

export const keys = {
  installed: (gid: string) => ["group-apps", gid] as const,
  catalog: ["catalog"] as const,
  app: (slug: string) => ["app", slug] as const,
  commands: (gid: string) => ["group-commands", gid] as const,
  audit: (gid: string) => ["group-audit", gid] as const,
  members: (gid: string) => ["group-members", gid] as const,
  group: (gid: string) => ["group", gid] as const,
};

export function useInstalled(gid: string) {
  return useQuery({
    queryKey: keys.installed(gid),
    queryFn: () => ok(api.GET("/v1/groups/{gid}/apps", { params: { path: { gid } } })),
  });
}

export function useCatalog() {
  return useQuery({ queryKey: keys.catalog, queryFn: () => ok(api.GET("/v1/catalog")) });
}

/** An app with the versions the caller may see (approved ones, for an owner). */
export function useApp(slug: string) {
  return useQuery({
    queryKey: keys.app(slug),
    queryFn: () => ok(api.GET("/v1/apps/{slug}", { params: { path: { slug } } })),
  });
}

export function useMembers(gid: string) {
  return useQuery({
    queryKey: keys.members(gid),
    queryFn: () =>
      ok(api.GET("/v1/groups/{gid}/members", { params: { path: { gid }, query: { limit: 1000 } } })),
  });
}

/** Refetch everything an owner's decision changes. */
export function useRefreshGroup(gid: string) {
  const client = useQueryClient();
  return () =>
    Promise.all([
      client.invalidateQueries({ queryKey: keys.installed(gid) }),
      client.invalidateQueries({ queryKey: keys.commands(gid) }),
      client.invalidateQueries({ queryKey: keys.audit(gid) }),
    ]);
}
