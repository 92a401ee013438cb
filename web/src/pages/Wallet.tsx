// My wallet: the balance per currency, and the payments apps asked me for
// (pending ones to confirm or decline).
import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { api, ok } from "../api/client";
import { useSession } from "../session";
import { ErrorNote } from "../components/ErrorNote";
import { When } from "../components/member/MessageCard";
import "../components/member/member.css";

interface Balance {
  currency: string;
  balance: number;
}
interface Payment {
  id: string;
  group_id: string;
  app: string;
  amount: number;
  currency: string;
  memo: string;
  status: string;
  refunded: number;
  created_at: number;
  expires_at: number;
  decided_at?: number | null;
}

/** Minor units as money in the reader's language (JPY has no minor unit, CNY two). */
export function money(minor: number, currency: string, lang: string): string {
  try {
    const format = new Intl.NumberFormat(lang, { style: "currency", currency });
    const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
    return format.format(minor / 10 ** digits);
  } catch {
    return `${minor} ${currency}`;
  }
}

/** A fresh Idempotency-Key (random hex; `randomUUID` needs a secure context). */
function repeatKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function Wallet() {
  const { t, i18n } = useTranslation();
  const { me } = useSession();
  const queries = useQueryClient();
  const [answer, setAnswer] = useState<{ id: string; text: string } | null>(null);
  const wallet = useQuery({
    queryKey: ["wallet"],
    queryFn: async () => (await ok(api.GET("/v1/me/wallet"))) as unknown as { balances: Balance[] },
  });
  const payments = useQuery({
    queryKey: ["payments"],
    queryFn: async () => (await ok(api.GET("/v1/me/payments", { params: { query: {} } }))) as unknown as { payments: Payment[] },
  });
  const decide = useMutation({
    mutationFn: async ({ id, confirm }: { id: string; confirm: boolean }) => {
      const options = {
        params: { path: { id }, header: { "Idempotency-Key": repeatKey() } },
      } as never;
      const paid = confirm
        ? await ok(api.POST("/v1/payments/{id}/confirm", options))
        : await ok(api.POST("/v1/payments/{id}/decline", options));
      return paid as unknown as Payment;
    },
    onSuccess: (p) => {
      const text =
        p.status === "settled"
          ? t("member.paid", { amount: money(p.amount, p.currency, i18n.language) })
          : p.status === "declined"
            ? t("member.declined")
            : t("member.statusNow", { status: statusName(p.status) });
      setAnswer({ id: p.id, text });
    },
    onSettled: () => {
      void queries.invalidateQueries({ queryKey: ["wallet"] });
      void queries.invalidateQueries({ queryKey: ["payments"] });
    },
  });
  const groupName = (gid: string) => me?.groups.find((g) => g.id === gid)?.name ?? gid;
  const statusName = (s: string) => t(`member.status.${s}`, { defaultValue: s });
  const balances = wallet.data?.balances ?? [];
  const list = payments.data?.payments ?? [];
  const pending = list.filter((p) => p.status === "pending");
  const past = list.filter((p) => p.status !== "pending");

  return (
    <section aria-labelledby="wallet-title">
      <h1 id="wallet-title">{t("member.wallet")}</h1>
      <h2>{t("member.balance")}</h2>
      <ErrorNote error={wallet.error} />
      {wallet.isSuccess && balances.length === 0 && <p className="muted">{t("member.empty")}</p>}
      <ul className="balances" data-testid="balances">
        {balances.map((b) => (
          <li key={b.currency} className="balance">
            <strong>{money(b.balance, b.currency, i18n.language)}</strong> <small>{b.currency}</small>
          </li>
        ))}
      </ul>
      {answer && (
        <p className="success" role="status">
          {answer.text}
        </p>
      )}
      {decide.error && <ErrorNote error={decide.error} />}
      <h2>{t("member.pending")}</h2>
      <ErrorNote error={payments.error} />
      {payments.isSuccess && pending.length === 0 && <p className="muted">{t("member.noPending")}</p>}
      {pending.map((p) => (
        <article key={p.id} className="card payment" aria-label={p.memo || p.app}>
          <div className="row">
            <strong>{money(p.amount, p.currency, i18n.language)}</strong>
            <span className="badge">{p.app}</span>
            <small>{groupName(p.group_id)}</small>
          </div>
          {p.memo && <p>{p.memo}</p>}
          <p className="muted">
            {t("member.expires")} <When ms={p.expires_at} />
          </p>
          <div className="row">
            <button type="button" disabled={decide.isPending} onClick={() => decide.mutate({ id: p.id, confirm: true })}>
              {t("member.confirm")}
            </button>
            <button
              type="button"
              className="secondary"
              disabled={decide.isPending}
              onClick={() => decide.mutate({ id: p.id, confirm: false })}
            >
              {t("member.decline")}
            </button>
          </div>
        </article>
      ))}
      {past.length > 0 && (
        <>
          <h2>{t("member.history")}</h2>
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">{t("member.when")}</th>
                  <th scope="col">{t("member.what")}</th>
                  <th scope="col">{t("member.amount")}</th>
                  <th scope="col">{t("member.statusHead")}</th>
                </tr>
              </thead>
              <tbody>
                {past.map((p) => (
                  <tr key={p.id}>
                    <td>
                      <When ms={p.decided_at ?? p.created_at} />
                    </td>
                    <td>
                      {p.memo} <small>{p.app}</small>
                    </td>
                    <td>
                      {money(p.amount, p.currency, i18n.language)}
                      {p.refunded > 0 && (
                        <small> ({t("member.refunded", { amount: money(p.refunded, p.currency, i18n.language) })})</small>
                      )}
                    </td>
                    <td>{statusName(p.status)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}
