import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link } from "react-router";
import { useTranslation } from "react-i18next";
import { api, ok } from "../api/client";
import { ErrorNote } from "../components/ErrorNote";
import { AdminShell } from "../components/admin/AdminShell";
import { ReasonDialog } from "../components/admin/ReasonDialog";
import { StatusBadge } from "../components/admin/StatusBadge";
import type { AppView } from "../components/admin/types";

/** Every app (an admin's `GET /v1/apps`), with suspend (reason required) and resume. */
export function AdminApps() {
  const { t } = useTranslation();
  const client = useQueryClient();
  const apps = useQuery({
    queryKey: ["admin", "apps"],
    queryFn: () => ok(api.GET("/v1/apps")),
  });
  const [suspending, setSuspending] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);

  const updated = (app: AppView) => {
    client.setQueryData(["admin", "apps"], (old: AppView[] | undefined) =>
      old?.map((a) => (a.slug === app.slug ? app : a)),
    );
  };
  const suspend = useMutation({
    mutationFn: ({ slug, reason }: { slug: string; reason: string }) =>
      ok(api.POST("/v1/admin/apps/{slug}/suspend", { params: { path: { slug } }, body: { reason } })),
    onSuccess: (app) => {
      updated(app);
      setSuspending(null);
      setMessage(t("admin.apps.suspended", { app: app.slug }));
    },
  });
  const resume = useMutation({
    mutationFn: (slug: string) =>
      ok(api.POST("/v1/admin/apps/{slug}/resume", { params: { path: { slug } } })),
    onSuccess: (app) => {
      updated(app);
      setMessage(t("admin.apps.resumed", { app: app.slug }));
    },
  });

  return (
    <AdminShell title={t("admin.apps.title")}>
      {apps.isPending && <p>{t("common.loading")}</p>}
      <ErrorNote error={apps.error} />
      {message && (
        <p className="success" role="status">
          {message}
        </p>
      )}
      <ErrorNote error={resume.error} />
      {apps.data && apps.data.length === 0 && <p className="muted">{t("admin.apps.empty")}</p>}
      {apps.data && apps.data.length > 0 && (
        <ul className="app-list">
          {apps.data.map((app) => (
            <li key={app.slug} className="card" data-testid={`app-${app.slug}`}>
              <div className="row app-head">
                <h2>
                  {app.name} <code>{app.slug}</code>
                </h2>
                {app.suspended ? (
                  <span className="badge suspended">{t("admin.apps.isSuspended")}</span>
                ) : (
                  <span className="badge">{t("admin.apps.active")}</span>
                )}
                <span className="spacer" />
                {app.suspended ? (
                  <button
                    type="button"
                    className="secondary"
                    disabled={resume.isPending}
                    aria-label={t("admin.apps.resumeApp", { app: app.slug })}
                    onClick={() => {
                      setMessage(null);
                      resume.mutate(app.slug);
                    }}
                  >
                    {t("admin.apps.resume")}
                  </button>
                ) : (
                  <button
                    type="button"
                    className="danger"
                    aria-label={t("admin.apps.suspendApp", { app: app.slug })}
                    onClick={() => {
                      setMessage(null);
                      suspend.reset();
                      setSuspending(app.slug);
                    }}
                  >
                    {t("admin.apps.suspend")}
                  </button>
                )}
              </div>
              {app.suspended && app.suspend_reason && (
                <p className="error">
                  {t("admin.apps.suspendReason")}: {app.suspend_reason}
                </p>
              )}
              {app.description && <p>{app.description}</p>}
              <dl className="facts">
                <dt>{t("admin.apps.developer")}</dt>
                <dd>
                  <code>{app.developer_id}</code>
                </dd>
                <dt>{t("admin.apps.versions")}</dt>
                <dd>
                  {app.versions.length === 0 ? (
                    <span className="muted">{t("admin.none")}</span>
                  ) : (
                    <ul className="tags">
                      {app.versions.map((v) => (
                        <li key={v.version}>
                          {v.status === "pending" ? (
                            <Link
                              to={`/admin/reviews/${encodeURIComponent(app.slug)}/${encodeURIComponent(v.version)}`}
                            >
                              {v.version}
                            </Link>
                          ) : (
                            v.version
                          )}{" "}
                          <StatusBadge status={v.status} />
                        </li>
                      ))}
                    </ul>
                  )}
                </dd>
              </dl>
            </li>
          ))}
        </ul>
      )}
      <ReasonDialog
        open={suspending !== null}
        title={t("admin.apps.suspendTitle", { app: suspending ?? "" })}
        help={t("admin.apps.suspendHelp")}
        confirm={t("admin.apps.suspend")}
        busy={suspend.isPending}
        error={suspend.error}
        onConfirm={(reason) => suspending && suspend.mutate({ slug: suspending, reason })}
        onClose={() => setSuspending(null)}
      />
    </AdminShell>
  );
}
