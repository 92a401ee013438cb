// The group's audit trail, newest first, a page at a time.
import { useId, useState } from "react";
import { keepPreviousData, useInfiniteQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { api, ok } from "../../api/client";
import { ErrorNote } from "../ErrorNote";
import { keys, type Member } from "./queries";

const PAGE = 25;
/** Common actions in a group's trail, offered as suggestions (any exact action works). */
const ACTIONS = [
  "calls.summary",
  "installation.install",
  "installation.upgrade",
  "installation.grants",
  "installation.enable",
  "installation.disable",
  "installation.auto_disable",
  "messaging.post",
  "payments.request",
  "storage.set",
];

export function AuditTrail({ gid, members }: { gid: string; members: Member[] }) {
  const { t, i18n } = useTranslation();
  const outcomeId = useId();
  const actionId = useId();
  const actionsId = useId();
  const [outcome, setOutcome] = useState<"" | "ok" | "denied" | "error">("");
  // What is typed, and the action filtered by (applied with the Filter button or Enter).
  const [actionInput, setActionInput] = useState("");
  const [action, setAction] = useState("");
  const audit = useInfiniteQuery({
    queryKey: [...keys.audit(gid), outcome, action],
    initialPageParam: undefined as number | undefined,
    queryFn: ({ pageParam }) =>
      ok(
        api.GET("/v1/groups/{gid}/audit", {
          params: {
            path: { gid },
            query: { limit: PAGE, before: pageParam, outcome: outcome || undefined, action: action || undefined },
          },
        }),
      ),
    getNextPageParam: (last) => last.next_before ?? undefined,
    // Changing the filter keeps the table (and the focused select) in place.
    placeholderData: keepPreviousData,
  });
  const who = (actor?: string | null) => {
    if (!actor) return "—";
    if (actor === "health") return t("owner.audit.health");
    return members.find((m) => m.user_id === actor)?.name ?? actor;
  };
  if (audit.isPending) return <p className="muted">{t("common.loading")}</p>;
  if (audit.error) return <ErrorNote error={audit.error} />;
  const rows = audit.data.pages.flatMap((p) => p.entries);
  return (
    <>
      <div className="row">
        <label htmlFor={outcomeId} className="inline-label">
          {t("owner.audit.outcome")}
        </label>
        <select id={outcomeId} value={outcome} onChange={(e) => setOutcome(e.target.value as typeof outcome)}>
          <option value="">{t("owner.audit.any")}</option>
          <option value="ok">{t("owner.audit.outcomes.ok")}</option>
          <option value="denied">{t("owner.audit.outcomes.denied")}</option>
          <option value="error">{t("owner.audit.outcomes.error")}</option>
        </select>
        <button type="button" className="secondary" onClick={() => void audit.refetch()} disabled={audit.isFetching}>
          {t("owner.audit.refresh")}
        </button>
      </div>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          setAction(actionInput.trim());
        }}
      >
        <label htmlFor={actionId} className="inline-label">
          {t("owner.audit.action")}
        </label>
        <input
          id={actionId}
          autoComplete="off"
          list={actionsId}
          placeholder="calls.summary"
          value={actionInput}
          onChange={(e) => setActionInput(e.target.value)}
        />
        <datalist id={actionsId}>
          {ACTIONS.map((a) => (
            <option key={a} value={a} />
          ))}
        </datalist>
        <button type="submit" className="secondary">
          {t("owner.audit.filter")}
        </button>
      </form>
      {rows.length === 0 ? (
        <p className="muted">{t("owner.audit.empty")}</p>
      ) : (
        <div className="table-wrap">
          <table data-testid="group-audit">
            <thead>
              <tr>
                <th>{t("owner.audit.when")}</th>
                <th>{t("owner.audit.app")}</th>
                <th>{t("owner.audit.who")}</th>
                <th>{t("owner.audit.action")}</th>
                <th>{t("owner.audit.outcome")}</th>
                <th>{t("owner.audit.detail")}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.id}>
                  <td>{new Date(r.at).toLocaleString(i18n.language)}</td>
                  <td>
                    {r.app ?? "—"} {r.app_version && <small>{r.app_version}</small>}
                  </td>
                  <td>{who(r.actor)}</td>
                  <td>
                    <code>{r.action}</code>
                  </td>
                  <td>
                    <span className={`badge ${r.outcome === "ok" ? "good" : "bad"}`}>
                      {t(`owner.audit.outcomes.${r.outcome}`, { defaultValue: r.outcome })}
                    </span>
                  </td>
                  <td className="detail">{detailText(r.action, r.detail)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {audit.hasNextPage && (
        <button
          type="button"
          className="secondary"
          onClick={() => void audit.fetchNextPage()}
          disabled={audit.isFetchingNextPage}
        >
          {audit.isFetchingNextPage ? t("common.loading") : t("owner.audit.older")}
        </button>
      )}
    </>
  );
}

/** A `calls.summary` row's JSON as lines (`storage.get denied ×2`); other details as given. */
function detailText(action: string, detail?: string | null): string {
  if (!detail) return "";
  if (action !== "calls.summary") return detail;
  try {
    const summary = JSON.parse(detail) as {
      by?: { call: string; outcome: string; count: number; us?: number }[];
    };
    if (!Array.isArray(summary.by)) return detail;
    return summary.by.map((c) => `${c.call} ${c.outcome} ×${c.count}`).join("; ");
  } catch {
    return detail;
  }
}
