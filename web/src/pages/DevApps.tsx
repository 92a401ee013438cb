// The developer console: my apps with their newest version's review status,
// and registering a new app.
import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { api, ok } from "../api/client";
import { ErrorNote } from "../components/ErrorNote";
import { RegisterApp } from "../components/dev/RegisterApp";
import { statusClass } from "../components/dev/Versions";
import { useSession } from "../session";
import "../components/owner/owner.css";

export function DevApps() {
  const { t } = useTranslation();
  const { me } = useSession();
  const apps = useQuery({ queryKey: ["dev-apps"], queryFn: () => ok(api.GET("/v1/apps")) });
  if (me && !me.developer && !me.admin) return <p>{t("dev.notDeveloper")}</p>;
  return (
    <div className="dev-apps">
      <h1>{t("dev.title")}</h1>
      <section aria-labelledby="my-apps">
        <h2 id="my-apps">{me?.admin ? t("dev.allApps") : t("dev.myApps")}</h2>
        {apps.isPending && <p className="muted">{t("common.loading")}</p>}
        <ErrorNote error={apps.error} />
        {apps.data?.length === 0 && <p className="muted">{t("dev.noApps")}</p>}
        {apps.data?.map((app) => {
          const newest = app.versions[0];
          return (
            <article className="card" key={app.slug}>
              <div className="row spread">
                <h3>
                  <Link to={`/dev/apps/${encodeURIComponent(app.slug)}`}>{app.name}</Link> <small>({app.slug})</small>
                </h3>
                <span className="row">
                  {app.suspended && <span className="badge bad">{t("dev.suspended")}</span>}
                  {newest ? (
                    <span className={`badge ${statusClass(newest.status)}`}>
                      {newest.version}: {t(`dev.status.${newest.status}`, { defaultValue: newest.status })}
                    </span>
                  ) : (
                    <span className="badge">{t("dev.noVersions")}</span>
                  )}
                </span>
              </div>
              {app.description && <p>{app.description}</p>}
            </article>
          );
        })}
      </section>
      <section aria-labelledby="register-app">
        <h2 id="register-app">{t("dev.register.heading")}</h2>
        <RegisterApp />
      </section>
    </div>
  );
}
