// One app installed in the group: its status (enabled, disabled by the
// health check with the reason, suspended by the platform), its grants as
// checkboxes, a pending upgrade waiting for consent, and removing it.
import { useEffect, useId, useState } from "react";
import { useMutation } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { api, ok, type components } from "../../api/client";
import { ErrorNote } from "../ErrorNote";
import { capAllows, capTitle } from "./capabilities";
import { ConsentDialog } from "./ConsentDialog";
import { useApp, useRefreshGroup, type CatalogEntry, type Installation } from "./queries";

type Grant = components["schemas"]["GrantName"];

interface Props {
  gid: string;
  inst: Installation;
  /** The app's catalog entry (absent when it left the catalog: suspended). */
  entry?: CatalogEntry;
  canManage: boolean;
}

export function InstalledApp({ gid, inst, entry, canManage }: Props) {
  const { t } = useTranslation();
  const headingId = useId();
  const refresh = useRefreshGroup(gid);
  const app = useApp(inst.app);
  const path = { params: { path: { gid, slug: inst.app } } };

  // The capabilities the running version asks for, and the pending one's.
  const versions = app.data?.versions ?? [];
  const running = versions.find((v) => v.version === inst.version);
  const pending = inst.pending_version
    ? versions.find((v) => v.version === inst.pending_version)
    : undefined;
  const asks = running?.capabilities ?? inst.grants;
  // What the pending version asks for; checked: what is granted now, and what is new.
  const upgradeAsks = pending?.capabilities ?? [...new Set([...inst.grants, ...inst.pending_capabilities])];

  // Suspended by the platform: the installation carries the admin's reason.
  const suspendedReason = inst.app_suspended ?? null;
  const suspended = suspendedReason != null;

  const [grants, setGrants] = useState<string[]>(inst.grants);
  const granted = inst.grants.join(",");
  // A new answer from the server replaces unsaved ticks.
  // eslint-disable-next-line react-hooks/exhaustive-deps
  useEffect(() => setGrants(inst.grants), [granted]);
  const changed =
    grants.length !== inst.grants.length || grants.some((g) => !inst.grants.includes(g));

  const patch = useMutation({
    mutationFn: (body: components["schemas"]["InstallationPatch"]) =>
      ok(api.PATCH("/v1/groups/{gid}/apps/{slug}", { ...path, body })),
    onSuccess: () => refresh(),
  });
  const remove = useMutation({
    mutationFn: () => ok(api.DELETE("/v1/groups/{gid}/apps/{slug}", path)),
    onSuccess: () => refresh(),
  });
  const [confirmRemove, setConfirmRemove] = useState(false);
  const [consentOpen, setConsentOpen] = useState(false);
  const consent = useMutation({
    mutationFn: (granted: string[]) =>
      ok(
        api.PATCH("/v1/groups/{gid}/apps/{slug}", {
          ...path,
          body: { version: inst.pending_version ?? undefined, grants: granted as Grant[] },
        }),
      ),
    onSuccess: async () => {
      setConsentOpen(false);
      await refresh();
    },
  });

  const name = entry?.name ?? app.data?.name ?? inst.app;
  const newer = entry && entry.version !== inst.version && entry.version !== inst.pending_version;

  return (
    <article className="card installed" aria-labelledby={headingId} data-testid={`installed-${inst.app}`}>
      <div className="row spread">
        <h3 id={headingId}>
          {name} <small>({inst.app} {inst.version})</small>
        </h3>
        <Status inst={inst} suspended={suspended} />
      </div>

      {suspended && (
        <div className="notice" data-testid="suspended-reason">
          <p className="error">
            {suspendedReason
              ? t("owner.installed.suspendedReason", { reason: suspendedReason })
              : t("owner.status.suspended")}
          </p>
          <p className="muted">{t("owner.installed.suspended")}</p>
        </div>
      )}

      {!inst.enabled && (
        <div className="notice">
          <p>
            {inst.disabled_by === "health"
              ? t("owner.installed.disabledByHealth")
              : t("owner.installed.disabledBy")}
            {inst.disabled_reason && (
              <>
                {" "}
                <span className="reason">{inst.disabled_reason}</span>
              </>
            )}
          </p>
          {canManage && (
            <button type="button" disabled={patch.isPending} onClick={() => patch.mutate({ enabled: true })}>
              {inst.disabled_by === "health" ? t("owner.installed.reEnable") : t("owner.installed.enable")}
            </button>
          )}
        </div>
      )}

      {inst.pending_version && (
        <div className="notice consent-needed" role="status">
          <p>
            <strong>
              {t("owner.installed.pendingUpgrade", { version: inst.pending_version })}
            </strong>{" "}
            {t("owner.installed.pendingAsks")}
          </p>
          <ul>
            {inst.pending_capabilities.map((c) => (
              <li key={c}>
                <strong>{capTitle(t, c)}</strong>: {capAllows(t, c)}
              </li>
            ))}
          </ul>
          {canManage && (
            <button type="button" onClick={() => setConsentOpen(true)}>
              {t("owner.installed.review")}
            </button>
          )}
          <ConsentDialog
            open={consentOpen}
            title={t("owner.installed.consentTitle", { name, version: inst.pending_version })}
            intro={<p>{t("owner.installed.consentIntro", { name })}</p>}
            capabilities={upgradeAsks.map((c) => ({
              name: c,
              isNew: inst.pending_capabilities.includes(c),
            }))}
            initial={upgradeAsks.filter((c) => inst.grants.includes(c) || inst.pending_capabilities.includes(c))}
            confirmLabel={t("owner.installed.consentConfirm")}
            pending={consent.isPending}
            error={consent.error}
            onConfirm={(g) => consent.mutate(g)}
            onCancel={() => {
              setConsentOpen(false);
              consent.reset();
            }}
          />
        </div>
      )}

      {canManage ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            patch.mutate({ grants: grants as Grant[] });
          }}
        >
          <fieldset className="cap-list">
            <legend>{t("owner.installed.grants")}</legend>
            {asks.length === 0 && <p className="muted">{t("owner.consent.none")}</p>}
            {asks.map((c) => (
              <label key={c} className="cap">
                <input
                  type="checkbox"
                  checked={grants.includes(c)}
                  onChange={(e) =>
                    setGrants((now) => (e.target.checked ? [...now, c] : now.filter((g) => g !== c)))
                  }
                />{" "}
                <span>
                  <strong>{capTitle(t, c)}</strong> <code>{c}</code>
                  <br />
                  <span className="cap-allows">{capAllows(t, c)}</span>
                </span>
              </label>
            ))}
          </fieldset>
          <div className="row">
            <button type="submit" disabled={!changed || patch.isPending}>
              {t("owner.installed.saveGrants")}
            </button>
            {changed && (
              <button type="button" className="secondary" onClick={() => setGrants(inst.grants)}>
                {t("owner.installed.undo")}
              </button>
            )}
            {patch.isSuccess && !changed && <span className="success">{t("owner.installed.saved")}</span>}
          </div>
        </form>
      ) : (
        <p>
          {t("owner.installed.grants")}:{" "}
          {inst.grants.length ? inst.grants.map((g) => capTitle(t, g)).join(", ") : "—"}
        </p>
      )}

      {(inst.commands.length > 0 || inst.actions.length > 0) && (
        <p className="muted">
          {inst.commands.length > 0 && (
            <>
              {t("owner.commandsLabel")}: {inst.commands.map((c) => `/${c}`).join(" ")}{" "}
            </>
          )}
        </p>
      )}

      {canManage && (
        <div className="row">
          {newer && (
            <button
              type="button"
              className="secondary"
              disabled={patch.isPending}
              onClick={() => patch.mutate({ version: entry.version })}
            >
              {t("owner.installed.upgrade", { version: entry.version })}
            </button>
          )}
          {inst.enabled && (
            <button
              type="button"
              className="secondary"
              disabled={patch.isPending}
              onClick={() => patch.mutate({ enabled: false })}
            >
              {t("owner.installed.disable")}
            </button>
          )}
          {confirmRemove ? (
            <>
              <span>{t("owner.installed.removeWarning", { name })}</span>
              <button type="button" className="danger" disabled={remove.isPending} onClick={() => remove.mutate()}>
                {t("owner.installed.removeConfirm", { name })}
              </button>
              <button type="button" className="secondary" onClick={() => setConfirmRemove(false)}>
                {t("owner.cancel")}
              </button>
            </>
          ) : (
            <button type="button" className="danger" onClick={() => setConfirmRemove(true)}>
              {t("owner.installed.remove", { name })}
            </button>
          )}
        </div>
      )}
      <ErrorNote error={patch.error ?? remove.error} />
    </article>
  );
}

function Status({ inst, suspended }: { inst: Installation; suspended: boolean }) {
  const { t } = useTranslation();
  if (suspended) return <span className="badge bad">{t("owner.status.suspended")}</span>;
  if (!inst.enabled)
    return (
      <span className="badge bad">
        {inst.disabled_by === "health" ? t("owner.status.disabledHealth") : t("owner.status.disabled")}
      </span>
    );
  return <span className="badge good">{t("owner.status.enabled")}</span>;
}
