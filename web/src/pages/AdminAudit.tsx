import { useState } from "react";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useForm } from "react-hook-form";
import { useSearchParams } from "react-router";
import { useTranslation } from "react-i18next";
import { api, ok } from "../api/client";
import { ErrorNote } from "../components/ErrorNote";
import { AdminShell } from "../components/admin/AdminShell";
import { formatTime, localInputToMs, msToLocalInput } from "../components/admin/format";
import type { AuditEntry } from "../components/admin/types";

const PAGE = 50;
const OUTCOMES = ["ok", "denied", "error"] as const;
/** Common actions, offered as suggestions; any exact action can be typed. */
const ACTIONS = [
  "calls.summary",
  "review.approve",
  "review.reject",
  "app.suspend",
  "app.resume",
  "installation.install",
  "installation.upgrade",
  "installation.grants",
  "installation.auto_disable",
  "installation.uninstall",
  "wallet.credit",
  "messaging.post",
  "payments.request",
  "storage.set",
] as const;

interface Filters {
  app: string;
  group: string;
  action: string;
  outcome: string;
  since: string; // a datetime-local value
  until: string; // a datetime-local value (exclusive)
}

/** The filters as they stand in the address (so a filtered view can be shared). */
function filtersOf(params: URLSearchParams): Filters {
  const time = (name: string) => {
    const ms = Number(params.get(name));
    return params.get(name) && !Number.isNaN(ms) ? msToLocalInput(ms) : "";
  };
  return {
    app: params.get("app") ?? "",
    group: params.get("group") ?? "",
    action: params.get("action") ?? "",
    outcome: params.get("outcome") ?? "",
    since: time("since"),
    until: time("until"),
  };
}

/** The whole audit trail, newest first, filtered and paged; and the chain's verification. */
export function AdminAudit() {
  const { t } = useTranslation();
  const [params, setParams] = useSearchParams();
  const filters = filtersOf(params);
  // The cursors of the pages seen so far: [newest page, next older, ...].
  const [cursors, setCursors] = useState<(number | undefined)[]>([undefined]);
  const before = cursors[cursors.length - 1];

  const query = {
    app: filters.app || undefined,
    group: filters.group || undefined,
    action: filters.action || undefined,
    outcome: (filters.outcome || undefined) as "ok" | "denied" | "error" | undefined,
    since: localInputToMs(filters.since),
    until: localInputToMs(filters.until),
    before,
    limit: PAGE,
  };
  const audit = useQuery({
    queryKey: ["admin", "audit", query],
    queryFn: () => ok(api.GET("/v1/admin/audit", { params: { query } })),
    placeholderData: keepPreviousData,
  });

  const { register, handleSubmit, reset } = useForm<Filters>({ values: filters });
  const apply = (f: Filters) => {
    const next = new URLSearchParams();
    if (f.app.trim()) next.set("app", f.app.trim());
    if (f.group.trim()) next.set("group", f.group.trim());
    if (f.action.trim()) next.set("action", f.action.trim());
    if (f.outcome) next.set("outcome", f.outcome);
    const since = localInputToMs(f.since);
    if (since !== undefined) next.set("since", String(since));
    const until = localInputToMs(f.until);
    if (until !== undefined) next.set("until", String(until));
    setCursors([undefined]);
    setParams(next);
  };

  return (
    <AdminShell title={t("admin.audit.title")} wide>
      <ChainStatus />
      <form className="card" onSubmit={handleSubmit(apply)} aria-labelledby="audit-filters">
        <h2 id="audit-filters">{t("admin.audit.filters")}</h2>
        <div className="filters">
          <div>
            <label htmlFor="audit-app">{t("admin.audit.app")}</label>
            <input id="audit-app" autoComplete="off" {...register("app")} />
          </div>
          <div>
            <label htmlFor="audit-group">{t("admin.audit.group")}</label>
            <input id="audit-group" autoComplete="off" {...register("group")} />
          </div>
          <div>
            <label htmlFor="audit-action">{t("admin.audit.action")}</label>
            <input
              id="audit-action"
              autoComplete="off"
              list="audit-actions"
              placeholder="review.approve"
              {...register("action")}
            />
            <datalist id="audit-actions">
              {ACTIONS.map((a) => (
                <option key={a} value={a} />
              ))}
            </datalist>
          </div>
          <div>
            <label htmlFor="audit-outcome">{t("admin.audit.outcome")}</label>
            <select id="audit-outcome" {...register("outcome")}>
              <option value="">{t("admin.audit.anyOutcome")}</option>
              {OUTCOMES.map((o) => (
                <option key={o} value={o}>
                  {t(`admin.audit.outcomes.${o}`)}
                </option>
              ))}
            </select>
          </div>
          <div>
            <label htmlFor="audit-since">{t("admin.audit.since")}</label>
            <input id="audit-since" type="datetime-local" {...register("since")} />
          </div>
          <div>
            <label htmlFor="audit-until">{t("admin.audit.until")}</label>
            <input id="audit-until" type="datetime-local" {...register("until")} />
          </div>
          <div className="row">
            <button type="submit">{t("admin.audit.apply")}</button>
            <button
              type="button"
              className="secondary"
              onClick={() => {
                reset({ app: "", group: "", action: "", outcome: "", since: "", until: "" });
                setCursors([undefined]);
                setParams(new URLSearchParams());
              }}
            >
              {t("admin.audit.clear")}
            </button>
          </div>
        </div>
      </form>

      <ErrorNote error={audit.error} />
      {audit.isPending && <p>{t("common.loading")}</p>}
      {audit.data && (
        <>
          <AuditTable entries={audit.data.entries} />
          <nav className="row pager" aria-label={t("admin.audit.paging")}>
            <button
              type="button"
              className="secondary"
              disabled={cursors.length <= 1}
              onClick={() => setCursors((c) => c.slice(0, -1))}
            >
              {t("admin.audit.newer")}
            </button>
            <span className="muted">{t("admin.audit.page", { n: cursors.length })}</span>
            <button
              type="button"
              className="secondary"
              disabled={audit.data.next_before == null || audit.isPlaceholderData}
              onClick={() => {
                const next = audit.data?.next_before;
                if (next != null) setCursors((c) => [...c, next]);
              }}
            >
              {t("admin.audit.older")}
            </button>
          </nav>
        </>
      )}
    </AdminShell>
  );
}

function AuditTable({ entries }: { entries: AuditEntry[] }) {
  const { t, i18n } = useTranslation();
  if (entries.length === 0) return <p className="muted">{t("admin.audit.empty")}</p>;
  return (
    <div className="table-wrap">
      <table aria-label={t("admin.audit.title")}>
        <thead>
          <tr>
            <th scope="col">{t("admin.audit.when")}</th>
            <th scope="col">{t("admin.audit.action")}</th>
            <th scope="col">{t("admin.audit.app")}</th>
            <th scope="col">{t("admin.audit.where")}</th>
            <th scope="col">{t("admin.audit.detail")}</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((e) => (
            <tr key={e.id}>
              <td className="nowrap">
                {formatTime(e.at, i18n.language)}
                <br />
                <small>
                  #{e.id}
                  {e.chain && (
                    <>
                      {" · "}
                      <span title={t("admin.audit.chain")}>
                        {e.chain} #{e.seq}
                      </span>
                    </>
                  )}
                </small>
              </td>
              <td>
                <code>{e.action}</code>{" "}
                <span className={`badge outcome-${e.outcome}`}>
                  {t(`admin.audit.outcomes.${e.outcome}`, { defaultValue: e.outcome })}
                </span>
                {e.duration_us > 0 && <small> {e.duration_us} µs</small>}
              </td>
              <td>
                {e.app ?? ""}
                {e.app_version && <small> {e.app_version}</small>}
              </td>
              <td>
                {e.group_id && (
                  <div>
                    <small>{t("admin.audit.group")}:</small> <code>{e.group_id}</code>
                  </div>
                )}
                {e.actor && (
                  <div>
                    <small>{t("admin.audit.actor")}:</small> <code>{e.actor}</code>
                  </div>
                )}
              </td>
              <td className="detail">{e.detail ?? ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** `GET /v1/admin/audit/verify`: "Chain verified" or where it breaks. */
function ChainStatus() {
  const { t } = useTranslation();
  const verify = useQuery({
    queryKey: ["admin", "audit", "verify"],
    queryFn: () => ok(api.GET("/v1/admin/audit/verify")),
  });
  return (
    <section className="card" aria-labelledby="chain-status">
      <div className="row">
        <h2 id="chain-status">{t("admin.audit.chainTitle")}</h2>
        <button
          type="button"
          className="secondary"
          disabled={verify.isFetching}
          onClick={() => void verify.refetch()}
        >
          {t("admin.audit.verifyAgain")}
        </button>
      </div>
      {verify.isPending && <p>{t("admin.audit.verifying")}</p>}
      <ErrorNote error={verify.error} />
      {verify.data &&
        (verify.data.ok && !verify.data.broken ? (
          <p className="success" role="status" data-testid="chain-status">
            {t("admin.audit.verified", { rows: verify.data.rows, chains: verify.data.chains })}
            {verify.data.unchained > 0 && (
              <small> {t("admin.audit.unchained", { count: verify.data.unchained })}</small>
            )}
            {verify.data.anchors > 0 && (
              <small> {t("admin.audit.anchors", { count: verify.data.anchors })}</small>
            )}
          </p>
        ) : (
          <p className="error" role="alert" data-testid="chain-status">
            {verify.data.broken
              ? t(verify.data.broken.chain ? "admin.audit.broken" : "admin.audit.brokenNoChain", {
                  chain: verify.data.broken.chain,
                  id: verify.data.broken.id,
                  reason: verify.data.broken.reason,
                })
              : t("admin.audit.notVerified")}
          </p>
        ))}
    </section>
  );
}
