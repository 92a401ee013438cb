// One of my apps: versions with review status and reason, uploading a
// version, per-version stats, the live log, failed invocations to replay
// and parked events.
import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router";
import { api, ok } from "../api/client";
import { ErrorNote } from "../components/ErrorNote";
import { AppLog } from "../components/dev/AppLog";
import { Events } from "../components/dev/Events";
import { Replays } from "../components/dev/Replays";
import { Stats } from "../components/dev/Stats";
import { UploadVersion } from "../components/dev/UploadVersion";
import { Versions } from "../components/dev/Versions";
import "../components/owner/owner.css";

export function DevApp() {
  const { slug = "" } = useParams();
  const { t } = useTranslation();
  const app = useQuery({
    queryKey: ["dev-app", slug],
    queryFn: () => ok(api.GET("/v1/apps/{slug}", { params: { path: { slug } } })),
    // A review can land while the page is open.
    refetchInterval: 15_000,
  });
  if (app.isPending) return <p className="muted">{t("common.loading")}</p>;
  if (app.error)
    return (
      <>
        <p>
          <Link to="/dev">← {t("dev.back")}</Link>
        </p>
        <ErrorNote error={app.error} />
      </>
    );
  const a = app.data;
  const newest = a.versions[0];
  return (
    <div className="dev-app">
      <p>
        <Link to="/dev">← {t("dev.back")}</Link>
      </p>
      <h1>
        {a.name} <small>({a.slug})</small>
      </h1>
      {a.description && <p>{a.description}</p>}
      {a.suspended && (
        <p className="notice" role="status">
          {t("dev.suspendedBecause")} <span className="reason">{a.suspend_reason}</span>
        </p>
      )}
      {newest?.status === "rejected" && (
        <p className="notice" role="status" data-testid="rejected-banner">
          <strong>{t("dev.rejectedBanner", { version: newest.version })}</strong>{" "}
          <span className="reason" data-testid="review-reason">
            {newest.review_reason}
          </span>
        </p>
      )}
      <section aria-labelledby="upload-heading">
        <h2 id="upload-heading">{t("dev.upload.heading")}</h2>
        <UploadVersion slug={a.slug} />
      </section>
      <section aria-labelledby="versions-heading">
        <h2 id="versions-heading">{t("dev.versions.heading")}</h2>
        <Versions
          versions={a.versions}
          shownAbove={newest?.status === "rejected" ? newest.version : undefined}
        />
      </section>
      <section aria-labelledby="stats-heading">
        <h2 id="stats-heading">{t("dev.stats.heading")}</h2>
        <Stats slug={a.slug} />
      </section>
      <section aria-labelledby="log-heading">
        <h2 id="log-heading">{t("dev.log.heading")}</h2>
        <AppLog slug={a.slug} versions={a.versions.map((v) => v.version)} />
      </section>
      <section aria-labelledby="replays-heading">
        <h2 id="replays-heading">{t("dev.replays.heading")}</h2>
        <Replays slug={a.slug} />
      </section>
      <section aria-labelledby="events-heading">
        <h2 id="events-heading">{t("dev.events.heading")}</h2>
        <Events slug={a.slug} />
      </section>
    </div>
  );
}
