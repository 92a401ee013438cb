// The group's files for its owner and admins: how much of the group's file
// quota is used, by members' uploads and by each app (with the app's own
// quota), from `GET /v1/groups/{gid}/files/usage`.
import { useId } from "react";
import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { ErrorNote } from "../ErrorNote";
import { fileUsage, formatBytes } from "../member/files";

export const usageKey = (gid: string) => ["group-files-usage", gid] as const;

function percent(used: number, quota: number): string {
  if (quota <= 0) return "";
  return `${Math.min(100, Math.round((used / quota) * 100))}%`;
}

export function FileUsage({ gid }: { gid: string }) {
  const { t } = useTranslation();
  const meterId = useId();
  const usage = useQuery({ queryKey: usageKey(gid), queryFn: () => fileUsage(gid) });
  if (usage.isPending) return <p className="muted">{t("common.loading")}</p>;
  if (usage.error) return <ErrorNote error={usage.error} />;
  const u = usage.data;
  return (
    <div className="file-usage" data-testid="file-usage">
      <p>
        <label htmlFor={meterId} className="inline-label">
          {t("files.usage.total")}
        </label>{" "}
        <meter id={meterId} min={0} max={Math.max(u.quota_bytes, 1)} value={u.used_bytes} high={u.quota_bytes * 0.9} />{" "}
        <span data-testid="file-usage-total">
          {t("files.usage.ofQuota", {
            used: formatBytes(u.used_bytes),
            quota: formatBytes(u.quota_bytes),
            percent: percent(u.used_bytes, u.quota_bytes),
          })}
        </span>
      </p>
      <p className="muted">{t("files.usage.fileCount", { count: u.file_count })}</p>
      <div className="table-wrap">
        <table>
          <caption className="visually-hidden">{t("files.usage.caption")}</caption>
          <thead>
            <tr>
              <th scope="col">{t("files.usage.who")}</th>
              <th scope="col">{t("files.usage.files")}</th>
              <th scope="col">{t("files.usage.size")}</th>
              <th scope="col">{t("files.usage.appQuota")}</th>
            </tr>
          </thead>
          <tbody>
            <tr data-testid="file-usage-members">
              <th scope="row">{t("files.usage.members")}</th>
              <td>{u.members.files}</td>
              <td>{formatBytes(u.members.bytes)}</td>
              <td>—</td>
            </tr>
            {u.apps.map((a) => (
              <tr key={a.installation_id} data-testid="file-usage-app">
                <th scope="row">{a.title || a.app}</th>
                <td>{a.files}</td>
                <td>{formatBytes(a.bytes)}</td>
                <td>
                  {a.quota_bytes > 0
                    ? t("files.usage.ofQuota", {
                        used: formatBytes(a.bytes),
                        quota: formatBytes(a.quota_bytes),
                        percent: percent(a.bytes, a.quota_bytes),
                      })
                    : "—"}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {u.apps.length === 0 && <p className="muted">{t("files.usage.noApps")}</p>}
    </div>
  );
}
