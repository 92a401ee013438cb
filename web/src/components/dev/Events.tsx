// The app's events in the outbox; parked ones (failed too often) first of all.
import { useId, useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { api, ok } from "../../api/client";
import { ErrorNote } from "../ErrorNote";

type Status = "parked" | "pending" | "delivered" | "";

export function Events({ slug }: { slug: string }) {
  const { t, i18n } = useTranslation();
  const statusId = useId();
  const [status, setStatus] = useState<Status>("parked");
  const events = useQuery({
    queryKey: ["app-events", slug, status],
    queryFn: () =>
      ok(
        api.GET("/v1/apps/{slug}/events", {
          params: { path: { slug }, query: { status: status || undefined, limit: 100 } },
        }),
      ),
    refetchInterval: 10_000,
  });
  const when = (ms?: number | null) => (ms ? new Date(ms).toLocaleString(i18n.language) : "—");
  return (
    <>
      <div className="row">
        <label htmlFor={statusId} className="inline-label">
          {t("dev.events.show")}
        </label>
        <select id={statusId} value={status} onChange={(e) => setStatus(e.target.value as Status)}>
          <option value="parked">{t("dev.events.parked")}</option>
          <option value="pending">{t("dev.events.pending")}</option>
          <option value="delivered">{t("dev.events.delivered")}</option>
          <option value="">{t("dev.events.all")}</option>
        </select>
      </div>
      <ErrorNote error={events.error} />
      {events.isPending ? (
        <p className="muted">{t("common.loading")}</p>
      ) : !events.data || events.data.length === 0 ? (
        <p className="muted">{status === "parked" ? t("dev.events.noneParked") : t("dev.events.none")}</p>
      ) : (
        <div className="table-wrap">
          <table data-testid="app-events">
            <thead>
              <tr>
                <th>{t("dev.events.event")}</th>
                <th>{t("dev.events.status")}</th>
                <th>{t("dev.events.attempts")}</th>
                <th>{t("dev.events.lastError")}</th>
                <th>{t("dev.events.queued")}</th>
              </tr>
            </thead>
            <tbody>
              {events.data.map((e) => (
                <tr key={e.id}>
                  <td>
                    <code>{e.kind}</code> <small>{e.id}</small>
                    <details>
                      <summary>{t("dev.events.body")}</summary>
                      <pre>{JSON.stringify(e.body, null, 2)}</pre>
                    </details>
                  </td>
                  <td>
                    <span className={`badge ${e.status === "parked" ? "bad" : e.status === "pending" ? "warn" : "good"}`}>
                      {t(`dev.events.${e.status}`, { defaultValue: e.status })}
                    </span>
                  </td>
                  <td>{e.attempts}</td>
                  <td className="detail">{e.last_error ?? "—"}</td>
                  <td>
                    {when(e.created_at)}
                    {e.status === "pending" && (
                      <>
                        <br />
                        <small>{t("dev.events.next", { when: when(e.next_attempt_at) })}</small>
                      </>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
