import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useForm } from "react-hook-form";
import { Link, useParams } from "react-router";
import { useTranslation } from "react-i18next";
import { api, ok } from "../api/client";
import { ErrorNote } from "../components/ErrorNote";
import { AdminShell } from "../components/admin/AdminShell";
import { Diff } from "../components/admin/Diff";
import { StatusBadge } from "../components/admin/StatusBadge";
import { formatBytes, formatTime } from "../components/admin/format";
import type { ReviewDetail, VersionView } from "../components/admin/types";

/** Names as badges, or "none". */
function Names({ names }: { names: string[] }) {
  const { t } = useTranslation();
  if (names.length === 0) return <span className="muted">{t("admin.none")}</span>;
  return (
    <ul className="tags">
      {names.map((n) => (
        <li key={n} className="badge">
          {n}
        </li>
      ))}
    </ul>
  );
}

/**
 * One version under review: its size, sha256, full interface (WIT), and what it
 * changes against the previous approved version; approve, or reject with a reason.
 */
export function AdminReview() {
  const { t, i18n } = useTranslation();
  const { slug = "", version = "" } = useParams();
  const review = useQuery({
    queryKey: ["admin", "review", slug, version],
    queryFn: () =>
      ok(
        api.GET("/v1/admin/apps/{slug}/versions/{version}/review", {
          params: { path: { slug, version } },
        }),
      ),
  });
  const title = t("admin.review.title", { app: slug, version });
  return (
    <AdminShell title={title}>
      <p>
        <Link to="/admin">{t("admin.review.back")}</Link>
      </p>
      {review.isPending && <p>{t("common.loading")}</p>}
      <ErrorNote error={review.error} />
      {review.data && <ReviewBody review={review.data} lang={i18n.language} />}
    </AdminShell>
  );
}

function ReviewBody({ review, lang }: { review: ReviewDetail; lang: string }) {
  const { t } = useTranslation();
  const v = review.version;
  const prev = review.previous;
  return (
    <>
      <section aria-labelledby="facts" className="card">
        <h2 id="facts" className="visually-hidden">
          {t("admin.review.facts")}
        </h2>
        <dl className="facts">
          <dt>{t("admin.review.status")}</dt>
          <dd>
            <StatusBadge status={v.status} />
            {v.review_reason && <span> {v.review_reason}</span>}
            {v.reviewed_at != null && <small> {formatTime(v.reviewed_at, lang)}</small>}
          </dd>
          <dt>{t("admin.review.uploaded")}</dt>
          <dd>{formatTime(v.created_at, lang)}</dd>
          <dt>{t("admin.review.size")}</dt>
          <dd>
            {formatBytes(review.size_bytes)}{" "}
            <small>{t("admin.review.bytes", { count: review.size_bytes })}</small>
          </dd>
          <dt>sha256</dt>
          <dd>
            <code className="hash" data-testid="sha256">
              {v.sha256}
            </code>
          </dd>
          <dt>{t("admin.review.previous")}</dt>
          <dd>
            {prev ? (
              <>
                {prev.version} <small>{formatTime(prev.reviewed_at ?? prev.created_at, lang)}</small>
              </>
            ) : (
              <span className="badge">{t("admin.review.firstVersion")}</span>
            )}
          </dd>
        </dl>
      </section>

      <section aria-labelledby="diff" className="card diff-card">
        <h2 id="diff">
          {prev
            ? t("admin.review.diffAgainst", { version: prev.version })
            : t("admin.review.diffFirst")}
        </h2>
        {!prev && <p className="muted">{t("admin.review.firstVersionNote")}</p>}
        <Diff diff={review.diff} />
      </section>

      <Decision slug={review.app} version={v} />

      <section aria-labelledby="asks">
        <h2 id="asks">{t("admin.review.asks")}</h2>
        <dl className="facts">
          <dt>{t("admin.review.kinds.capabilities")}</dt>
          <dd>
            <Names names={v.capabilities} />
          </dd>
          <dt>{t("admin.review.kinds.commands")}</dt>
          <dd>
            <Names names={v.commands} />
          </dd>
          <dt>{t("admin.review.kinds.actions")}</dt>
          <dd>
            <Names names={v.actions} />
          </dd>
          <dt>{t("admin.review.kinds.imports")}</dt>
          <dd>
            <Names names={review.imports} />
          </dd>
          <dt>{t("admin.review.kinds.exports")}</dt>
          <dd>
            <Names names={review.exports} />
          </dd>
        </dl>
      </section>

      <section aria-labelledby="wit">
        <h2 id="wit">{t("admin.review.wit")}</h2>
        <pre tabIndex={0} aria-labelledby="wit" data-testid="wit">
          {review.wit}
        </pre>
      </section>
    </>
  );
}

interface DecisionForm {
  reason: string;
}

/** Approve, or reject with a reason the developer sees; the API's errors are shown. */
function Decision({ slug, version: current }: { slug: string; version: VersionView }) {
  const { t } = useTranslation();
  const version = current.version;
  const client = useQueryClient();
  const {
    register,
    handleSubmit,
    setError,
    clearErrors,
    formState: { errors },
  } = useForm<DecisionForm>({ defaultValues: { reason: "" } });
  const params = { path: { slug, version } };
  const done = (decided: VersionView) => {
    client.setQueryData(["admin", "review", slug, version], (old: ReviewDetail | undefined) =>
      old ? { ...old, version: decided } : old,
    );
    void client.invalidateQueries({ queryKey: ["admin", "reviews"] });
  };
  const approve = useMutation({
    mutationFn: () =>
      ok(api.POST("/v1/admin/apps/{slug}/versions/{version}/approve", { params })),
    onSuccess: done,
  });
  const reject = useMutation({
    mutationFn: (reason: string) =>
      ok(
        api.POST("/v1/admin/apps/{slug}/versions/{version}/reject", {
          params,
          body: { reason },
        }),
      ),
    onSuccess: done,
  });
  const busy = approve.isPending || reject.isPending;
  const decided = approve.data ?? reject.data;

  if (decided) {
    return (
      <section aria-labelledby="decide" className="card decision">
        <h2 id="decide">{t("admin.review.decide")}</h2>
        <p className="success" role="status">
          {t(`admin.review.done.${decided.status}`, { defaultValue: decided.status })}{" "}
          <Link to="/admin">{t("admin.review.back")}</Link>
        </p>
      </section>
    );
  }
  if (current.status !== "pending") {
    return (
      <p className="muted" role="status">
        {t("admin.review.alreadyDecided", {
          status: t(`admin.status.${current.status}`, { defaultValue: current.status }),
        })}
      </p>
    );
  }

  return (
    <section aria-labelledby="decide" className="card decision">
      <h2 id="decide">{t("admin.review.decide")}</h2>
      <form
        noValidate
        onSubmit={handleSubmit(({ reason }) => {
          if (!reason.trim()) {
            setError("reason", { message: t("admin.review.reasonRequired") });
            return;
          }
          approve.reset();
          reject.mutate(reason.trim());
        })}
      >
        <label htmlFor="review-reason">{t("admin.review.reason")}</label>
        <small id="review-reason-help">{t("admin.review.reasonHelp")}</small>
        <textarea
          id="review-reason"
          maxLength={2000}
          aria-describedby="review-reason-help review-reason-error"
          aria-invalid={errors.reason ? true : undefined}
          {...register("reason", { onChange: () => clearErrors("reason") })}
        />
        {errors.reason && (
          <p className="error" id="review-reason-error" role="alert">
            {errors.reason.message}
          </p>
        )}
        <div className="row">
          <button
            type="button"
            disabled={busy}
            onClick={() => {
              reject.reset();
              approve.mutate();
            }}
          >
            {t("admin.review.approve")}
          </button>
          <button type="submit" className="danger" disabled={busy}>
            {t("admin.review.reject")}
          </button>
        </div>
      </form>
      <ErrorNote error={approve.error ?? reject.error} />
    </section>
  );
}
