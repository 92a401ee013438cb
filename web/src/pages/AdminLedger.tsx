import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useForm } from "react-hook-form";
import { useTranslation } from "react-i18next";
import { api, ok } from "../api/client";
import { ErrorNote } from "../components/ErrorNote";
import { AdminShell } from "../components/admin/AdminShell";
import type { Currency } from "../components/admin/types";

/** The ledger check (balanced, or each difference), and crediting a wallet. */
export function AdminLedger() {
  const { t } = useTranslation();
  return (
    <AdminShell title={t("admin.ledger.title")}>
      <LedgerCheck />
      <CreditForm />
    </AdminShell>
  );
}

function LedgerCheck() {
  const { t } = useTranslation();
  const check = useQuery({
    queryKey: ["admin", "ledger"],
    queryFn: () => ok(api.GET("/v1/admin/ledger/check")),
  });
  const r = check.data;
  return (
    <section className="card" aria-labelledby="ledger-check">
      <div className="row">
        <h2 id="ledger-check">{t("admin.ledger.check")}</h2>
        <button
          type="button"
          className="secondary"
          disabled={check.isFetching}
          onClick={() => void check.refetch()}
        >
          {t("admin.ledger.checkAgain")}
        </button>
      </div>
      {check.isPending && <p>{t("common.loading")}</p>}
      <ErrorNote error={check.error} />
      {r && (
        <>
          {r.ok ? (
            <p className="success" role="status" data-testid="ledger-status">
              {t("admin.ledger.balanced", { transactions: r.transactions, accounts: r.accounts })}
            </p>
          ) : (
            <p className="error" role="alert" data-testid="ledger-status">
              {t("admin.ledger.unbalanced", { transactions: r.transactions, accounts: r.accounts })}
            </p>
          )}
          {r.unbalanced.length > 0 && (
            <>
              <h3>{t("admin.ledger.unbalancedTitle")}</h3>
              <div className="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">{t("admin.ledger.transaction")}</th>
                      <th scope="col">{t("admin.ledger.currency")}</th>
                      <th scope="col">{t("admin.ledger.sum")}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {r.unbalanced.map((u) => (
                      <tr key={`${u.transaction}-${u.currency}`}>
                        <td>
                          <code>{u.transaction}</code>
                        </td>
                        <td>{u.currency}</td>
                        <td>{u.sum}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </>
          )}
          {r.mismatched.length > 0 && (
            <>
              <h3>{t("admin.ledger.mismatchedTitle")}</h3>
              <div className="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">{t("admin.ledger.account")}</th>
                      <th scope="col">{t("admin.ledger.stored")}</th>
                      <th scope="col">{t("admin.ledger.entries")}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {r.mismatched.map((m) => (
                      <tr key={m.account}>
                        <td>
                          <code>{m.account}</code>
                        </td>
                        <td>{m.stored}</td>
                        <td>{m.entries}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </>
          )}
          {r.negative.length > 0 && (
            <>
              <h3>{t("admin.ledger.negativeTitle")}</h3>
              <ul>
                {r.negative.map((a) => (
                  <li key={a}>
                    <code>{a}</code>
                  </li>
                ))}
              </ul>
            </>
          )}
          {r.payments.length > 0 && (
            <>
              <h3>{t("admin.ledger.paymentsTitle")}</h3>
              <ul>
                {r.payments.map((p) => (
                  <li key={p}>{p}</li>
                ))}
              </ul>
            </>
          )}
        </>
      )}
    </section>
  );
}

interface Credit {
  user_id: string;
  amount: string;
  currency: string;
}

function CreditForm() {
  const { t } = useTranslation();
  const client = useQueryClient();
  const {
    register,
    handleSubmit,
    formState: { errors },
  } = useForm<Credit>({ defaultValues: { user_id: "", amount: "", currency: "CNY" } });
  const credit = useMutation({
    mutationFn: (c: Credit) =>
      ok(
        api.POST("/v1/admin/wallets/{user_id}/credit", {
          params: { path: { user_id: c.user_id.trim() } },
          body: { amount: Number(c.amount), currency: c.currency.trim().toUpperCase() as Currency },
        }),
      ),
    onSuccess: () => void client.invalidateQueries({ queryKey: ["admin", "ledger"] }),
  });
  return (
    <section className="card" aria-labelledby="credit">
      <h2 id="credit">{t("admin.ledger.credit")}</h2>
      <p className="muted">{t("admin.ledger.creditHelp")}</p>
      <form noValidate onSubmit={handleSubmit((c) => credit.mutate(c))}>
        <div className="filters">
          <div>
            <label htmlFor="credit-user">{t("admin.ledger.userId")}</label>
            <input
              id="credit-user"
              autoComplete="off"
              aria-invalid={errors.user_id ? true : undefined}
              {...register("user_id", {
                validate: (v) => v.trim().length > 0 || t("admin.ledger.userRequired"),
              })}
            />
            {errors.user_id && (
              <p className="error" role="alert">
                {errors.user_id.message}
              </p>
            )}
          </div>
          <div>
            <label htmlFor="credit-amount">{t("admin.ledger.amount")}</label>
            <small id="credit-amount-help">{t("admin.ledger.amountHelp")}</small>
            <input
              id="credit-amount"
              inputMode="numeric"
              aria-describedby="credit-amount-help"
              aria-invalid={errors.amount ? true : undefined}
              {...register("amount", {
                validate: (v) =>
                  (/^\d{1,13}$/.test(v.trim()) &&
                    Number(v) >= 1 &&
                    Number(v) <= 1_000_000_000_000) ||
                  t("admin.ledger.amountInvalid"),
              })}
            />
            {errors.amount && (
              <p className="error" role="alert">
                {errors.amount.message}
              </p>
            )}
          </div>
          <div>
            <label htmlFor="credit-currency">{t("admin.ledger.currency")}</label>
            <input
              id="credit-currency"
              autoComplete="off"
              maxLength={3}
              aria-invalid={errors.currency ? true : undefined}
              {...register("currency", {
                validate: (v) => /^[A-Za-z]{3}$/.test(v.trim()) || t("admin.ledger.currencyInvalid"),
              })}
            />
            {errors.currency && (
              <p className="error" role="alert">
                {errors.currency.message}
              </p>
            )}
          </div>
          <div className="row">
            <button type="submit" disabled={credit.isPending}>
              {t("admin.ledger.creditSubmit")}
            </button>
          </div>
        </div>
      </form>
      <ErrorNote error={credit.error} />
      {credit.data && (
        <p className="success" role="status">
          {t("admin.ledger.credited", {
            user: credit.data.user_id,
            balance: credit.data.balance,
            currency: credit.data.currency,
          })}
        </p>
      )}
    </section>
  );
}
