// The app's versions with their review status and the reviewer's reason.
import { useTranslation } from "react-i18next";
import type { components } from "../../api/client";

type Version = components["schemas"]["VersionView"];

export function statusClass(status: string): string {
  return status === "approved" ? "good" : status === "rejected" ? "bad" : "warn";
}

/** `shownAbove`: a version whose reason the page already shows (not repeated here). */
export function Versions({ versions, shownAbove }: { versions: Version[]; shownAbove?: string }) {
  const { t, i18n } = useTranslation();
  if (versions.length === 0) return <p className="muted">{t("dev.versions.empty")}</p>;
  return (
    <div className="table-wrap">
      <table data-testid="versions">
        <thead>
          <tr>
            <th>{t("dev.versions.version")}</th>
            <th>{t("dev.versions.status")}</th>
            <th>{t("dev.versions.capabilities")}</th>
            <th>{t("dev.versions.uploaded")}</th>
          </tr>
        </thead>
        <tbody>
          {versions.map((v) => (
            <tr key={v.version} data-testid={`version-${v.version}`}>
              <td>
                <strong>{v.version}</strong>
                <br />
                <small title={v.sha256}>sha256 {v.sha256.slice(0, 12)}…</small>
              </td>
              <td>
                <span className={`badge ${statusClass(v.status)}`}>
                  {t(`dev.status.${v.status}`, { defaultValue: v.status })}
                </span>
                {v.reviewed_at != null && (
                  <>
                    <br />
                    <small>{new Date(v.reviewed_at).toLocaleString(i18n.language)}</small>
                  </>
                )}
                {v.review_reason && v.version !== shownAbove && (
                  <p className={v.status === "rejected" ? "rejected-reason" : "muted"}>
                    {v.status === "rejected" ? t("dev.versions.rejectedBecause") : t("dev.versions.reviewerSaid")}{" "}
                    <span data-testid="review-reason">{v.review_reason}</span>
                  </p>
                )}
              </td>
              <td>
                {v.capabilities.length ? v.capabilities.join(", ") : "—"}
                {v.commands.length > 0 && (
                  <>
                    <br />
                    <small>{v.commands.map((c) => `/${c}`).join(" ")}</small>
                  </>
                )}
              </td>
              <td>{new Date(v.created_at).toLocaleString(i18n.language)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
