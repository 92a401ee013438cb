// Direct messages apps sent to me, oldest first, a page at a time.
import { useInfiniteQuery, useQueries } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { useSession } from "../session";
import { ErrorNote } from "../components/ErrorNote";
import { DirectCard } from "../components/member/MessageCard";
import { directMessages, groupApps } from "../components/member/calls";
import "../components/member/member.css";

const PAGE = 50;

export function DirectMessages() {
  const { t } = useTranslation();
  const { me } = useSession();
  const pages = useInfiniteQuery({
    queryKey: ["direct-messages"],
    queryFn: ({ pageParam }) => directMessages(pageParam),
    initialPageParam: 0,
    getNextPageParam: (last) => (last.length >= PAGE ? last[last.length - 1].id : undefined),
  });
  const groupName = (gid: string) => me?.groups.find((g) => g.id === gid)?.name ?? gid;
  const all = pages.data?.pages.flat() ?? [];
  // Which app of which group wrote each one.
  const groupIds = [...new Set(all.map((d) => d.group_id))];
  const apps = useQueries({
    queries: groupIds.map((gid) => ({ queryKey: ["apps", gid], queryFn: () => groupApps(gid) })),
  });
  const appName = (installation: string) => {
    for (const q of apps) {
      const found = q.data?.find((a) => a.id === installation);
      if (found) return found.app;
    }
    return undefined;
  };

  return (
    <section aria-labelledby="dm-title">
      <div className="row page-head">
        <h1 id="dm-title">{t("member.directMessages")}</h1>
        <button type="button" className="secondary" onClick={() => void pages.refetch()} disabled={pages.isFetching}>
          {t("member.refresh")}
        </button>
      </div>
      <ErrorNote error={pages.error} />
      {pages.isPending && <p className="muted">{t("common.loading")}</p>}
      {pages.isSuccess && all.length === 0 && <p className="muted">{t("member.noDirects")}</p>}
      {all.map((d) => (
        <DirectCard
          key={d.id}
          message={d}
          from={t("member.fromApp", {
            app: appName(d.installation_id) ?? t("member.app"),
            group: groupName(d.group_id),
          })}
        />
      ))}
      {pages.hasNextPage && (
        <button type="button" className="secondary" onClick={() => void pages.fetchNextPage()} disabled={pages.isFetchingNextPage}>
          {t("member.loadMore")}
        </button>
      )}
    </section>
  );
}
