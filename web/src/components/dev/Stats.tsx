// Per-version invocation counts, errors and latency (GET /v1/apps/{slug}/stats).
import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { ApiError } from "../../api/client";
import { ErrorNote } from "../ErrorNote";
import { getJson } from "./raw";

interface VersionStats {
  version: string;
  invocations: number;
  errors: number;
  avg_ms: number;
  max_ms: number;
}
interface AppStats {
  since: number;
  versions: VersionStats[];
}

export function Stats({ slug }: { slug: string }) {
  const { t, i18n } = useTranslation();
  const stats = useQuery({
    queryKey: ["app-stats", slug],
    queryFn: () => getJson<AppStats>(`/v1/apps/${encodeURIComponent(slug)}/stats`),
    refetchInterval: 10_000,
  });
  if (stats.isPending) return <p className="muted">{t("common.loading")}</p>;
  if (stats.error) {
    if (stats.error instanceof ApiError && stats.error.status === 404 && stats.error.code !== "app_not_found")
      return <p className="muted">{t("dev.stats.unavailable")}</p>;
    return <ErrorNote error={stats.error} />;
  }
  const { since, versions } = stats.data;
  const number = new Intl.NumberFormat(i18n.language, { maximumFractionDigits: 1 });
  return (
    <>
      <p className="muted">{t("dev.stats.since", { when: new Date(since).toLocaleString(i18n.language) })}</p>
      {versions.length === 0 ? (
        <p className="muted">{t("dev.stats.empty")}</p>
      ) : (
        <div className="table-wrap">
          <table data-testid="app-stats">
            <thead>
              <tr>
                <th>{t("dev.stats.version")}</th>
                <th>{t("dev.stats.invocations")}</th>
                <th>{t("dev.stats.errors")}</th>
                <th>{t("dev.stats.errorRate")}</th>
                <th>{t("dev.stats.avg")}</th>
                <th>{t("dev.stats.max")}</th>
              </tr>
            </thead>
            <tbody>
              {versions.map((v) => (
                <tr key={v.version}>
                  <td>{v.version}</td>
                  <td>{number.format(v.invocations)}</td>
                  <td className={v.errors > 0 ? "error" : undefined}>{number.format(v.errors)}</td>
                  <td>{v.invocations ? `${number.format((100 * v.errors) / v.invocations)}%` : "—"}</td>
                  <td>{number.format(v.avg_ms)} ms</td>
                  <td>{number.format(v.max_ms)} ms</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
