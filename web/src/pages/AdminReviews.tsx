import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { useTranslation } from "react-i18next";
import { api, ok } from "../api/client";
import { ErrorNote } from "../components/ErrorNote";
import { AdminShell } from "../components/admin/AdminShell";
import { formatTime } from "../components/admin/format";

/** The review queue: versions waiting for a platform admin, oldest first. */
export function AdminReviews() {
  const { t, i18n } = useTranslation();
  const reviews = useQuery({
    queryKey: ["admin", "reviews"],
    queryFn: () => ok(api.GET("/v1/admin/reviews")),
  });
  return (
    <AdminShell title={t("admin.reviews.title")}>
      <p className="muted">{t("admin.reviews.intro")}</p>
      {reviews.isPending && <p>{t("common.loading")}</p>}
      <ErrorNote error={reviews.error} />
      {reviews.data && reviews.data.length === 0 && (
        <p className="success">{t("admin.reviews.empty")}</p>
      )}
      {reviews.data && reviews.data.length > 0 && (
        <ul className="review-queue" aria-label={t("admin.reviews.title")}>
          {reviews.data.map((item) => (
            <li key={`${item.app}@${item.version}`} className="card">
              <div className="row">
                <Link
                  to={`/admin/reviews/${encodeURIComponent(item.app)}/${encodeURIComponent(item.version)}`}
                >
                  <strong>{item.app}</strong> {item.version}
                </Link>
                <small>{t("admin.reviews.uploaded", { time: formatTime(item.created_at, i18n.language) })}</small>
              </div>
              <div className="row">
                <span className="muted">{t("admin.reviews.capabilities")}:</span>
                {item.capabilities.length === 0 ? (
                  <span className="muted">{t("admin.none")}</span>
                ) : (
                  <ul className="tags">
                    {item.capabilities.map((c) => (
                      <li key={c} className="badge">
                        {c}
                      </li>
                    ))}
                  </ul>
                )}
              </div>
            </li>
          ))}
        </ul>
      )}
    </AdminShell>
  );
}
