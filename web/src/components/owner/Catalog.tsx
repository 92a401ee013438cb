// The catalog: what each app does, who made it, what each capability it asks
// for allows; Install opens the consent screen.
import { useId, useState } from "react";
import { useMutation } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { api, ok, type components } from "../../api/client";
import { ErrorNote } from "../ErrorNote";
import { capAllows, capTitle } from "./capabilities";
import { ConsentDialog } from "./ConsentDialog";
import { useCatalog, useRefreshGroup, type CatalogEntry, type Installation } from "./queries";

export function Catalog({
  gid,
  installed,
  canManage,
}: {
  gid: string;
  installed: Installation[];
  canManage: boolean;
}) {
  const { t } = useTranslation();
  const catalog = useCatalog();
  if (catalog.isPending) return <p className="muted">{t("common.loading")}</p>;
  if (catalog.error) return <ErrorNote error={catalog.error} />;
  if (catalog.data.length === 0) return <p className="muted">{t("owner.catalog.empty")}</p>;
  return (
    <div className="catalog">
      {catalog.data.map((entry) => (
        <CatalogCard
          key={entry.slug}
          gid={gid}
          entry={entry}
          installed={installed.some((i) => i.app === entry.slug)}
          canManage={canManage}
        />
      ))}
    </div>
  );
}

function CatalogCard({
  gid,
  entry,
  installed,
  canManage,
}: {
  gid: string;
  entry: CatalogEntry;
  installed: boolean;
  canManage: boolean;
}) {
  const { t } = useTranslation();
  const headingId = useId();
  const refresh = useRefreshGroup(gid);
  const [open, setOpen] = useState(false);
  const install = useMutation({
    mutationFn: (grants: string[]) =>
      ok(
        api.POST("/v1/groups/{gid}/apps", {
          params: { path: { gid } },
          body: { app: entry.slug, version: entry.version, grants: grants as components["schemas"]["GrantName"][] },
        }),
      ),
    onSuccess: async () => {
      setOpen(false);
      await refresh();
    },
  });

  return (
    <article className="card" aria-labelledby={headingId} data-testid={`catalog-${entry.slug}`}>
      <div className="row spread">
        <h3 id={headingId}>
          {entry.name} <small>({entry.slug} {entry.version})</small>
        </h3>
        {installed && <span className="badge good">{t("owner.catalog.installed")}</span>}
      </div>
      <p>{entry.description || <span className="muted">{t("owner.catalog.noDescription")}</span>}</p>
      {entry.developer && <p className="muted">{t("owner.catalog.madeBy", { name: entry.developer })}</p>}
      {entry.commands.length > 0 && (
        <p className="muted">
          {t("owner.commandsLabel")}: {entry.commands.map((c) => `/${c}`).join(" ")}
        </p>
      )}
      <h4>{t("owner.catalog.asks")}</h4>
      {entry.capabilities.length === 0 ? (
        <p className="muted">{t("owner.consent.none")}</p>
      ) : (
        <ul className="cap-summary">
          {entry.capabilities.map((c) => (
            <li key={c.name}>
              <strong>{capTitle(t, c.name)}</strong>: {capAllows(t, c.name, c.description)}
            </li>
          ))}
        </ul>
      )}
      {canManage && !installed && (
        <button type="button" onClick={() => setOpen(true)}>
          {t("owner.catalog.install", { name: entry.name })}
        </button>
      )}
      <ConsentDialog
        open={open}
        title={t("owner.catalog.consentTitle", { name: entry.name })}
        intro={<p>{t("owner.catalog.consentIntro", { name: entry.name, version: entry.version })}</p>}
        capabilities={entry.capabilities}
        confirmLabel={t("owner.catalog.consentConfirm")}
        pending={install.isPending}
        error={install.error}
        onConfirm={(grants) => install.mutate(grants)}
        onCancel={() => {
          setOpen(false);
          install.reset();
        }}
      />
    </article>
  );
}
