// The app's log, newest first, paged, refreshed every few seconds while open.
import { useId, useState } from "react";
import { keepPreviousData, useInfiniteQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { api, ok } from "../../api/client";
import { ErrorNote } from "../ErrorNote";

const PAGE = 50;
const LIVE_MS = 3000;

export function AppLog({ slug, versions }: { slug: string; versions: string[] }) {
  const { t, i18n } = useTranslation();
  const liveId = useId();
  const versionId = useId();
  const [live, setLive] = useState(true);
  const [version, setVersion] = useState("");
  const log = useInfiniteQuery({
    queryKey: ["app-logs", slug, version],
    initialPageParam: undefined as number | undefined,
    queryFn: ({ pageParam }) =>
      ok(
        api.GET("/v1/apps/{slug}/logs", {
          params: {
            path: { slug },
            query: { limit: PAGE, before: pageParam, version: version || undefined },
          },
        }),
      ),
    getNextPageParam: (last) => last.next_before ?? undefined,
    refetchInterval: live ? LIVE_MS : false,
    placeholderData: keepPreviousData,
  });
  const lines = log.data?.pages.flatMap((p) => p.lines) ?? [];
  return (
    <>
      <div className="row">
        <input id={liveId} type="checkbox" checked={live} onChange={(e) => setLive(e.target.checked)} />
        <label htmlFor={liveId} className="inline-label">
          {t("dev.log.live")}
        </label>
        <label htmlFor={versionId} className="inline-label">
          {t("dev.log.version")}
        </label>
        <select id={versionId} value={version} onChange={(e) => setVersion(e.target.value)}>
          <option value="">{t("dev.log.allVersions")}</option>
          {versions.map((v) => (
            <option key={v} value={v}>
              {v}
            </option>
          ))}
        </select>
        {log.isFetching && <small aria-hidden="true">{t("dev.log.refreshing")}</small>}
      </div>
      <ErrorNote error={log.error} />
      {log.isPending ? (
        <p className="muted">{t("common.loading")}</p>
      ) : lines.length === 0 ? (
        <p className="muted">{t("dev.log.empty")}</p>
      ) : (
        <div className="table-wrap">
          <table data-testid="app-log">
            <thead>
              <tr>
                <th>{t("dev.log.when")}</th>
                <th>{t("dev.log.level")}</th>
                <th>{t("dev.log.version")}</th>
                <th>{t("dev.log.message")}</th>
              </tr>
            </thead>
            <tbody>
              {lines.map((l) => (
                <tr key={l.id}>
                  <td>{new Date(l.at).toLocaleString(i18n.language)}</td>
                  <td className={`level-${l.level}`}>{l.level}</td>
                  <td>{l.version}</td>
                  <td className="message">
                    {l.message}
                    {l.fields.length > 0 && (
                      <>
                        <br />
                        <small>{l.fields.map(([k, v]) => `${k}=${v}`).join(" ")}</small>
                      </>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {log.hasNextPage && (
        <button
          type="button"
          className="secondary"
          onClick={() => void log.fetchNextPage()}
          disabled={log.isFetchingNextPage}
        >
          {log.isFetchingNextPage ? t("common.loading") : t("dev.log.older")}
        </button>
      )}
    </>
  );
}
