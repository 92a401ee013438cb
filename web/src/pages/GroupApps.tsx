// A group's apps, for its owner (and group admins): installed apps with their
// grants and status, the catalog with consent to install, the group's
// commands, its file usage and its audit trail.
import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router";
import { api, ok } from "../api/client";
import { ErrorNote } from "../components/ErrorNote";
import { AuditTrail } from "../components/owner/AuditTrail";
import { Catalog } from "../components/owner/Catalog";
import { Commands } from "../components/owner/Commands";
import { FileUsage } from "../components/owner/FileUsage";
import { InstalledApp } from "../components/owner/InstalledApp";
import { keys, useCatalog, useInstalled, useMembers } from "../components/owner/queries";
import { useSession } from "../session";
import "../components/owner/owner.css";

export function GroupApps() {
  const { gid = "" } = useParams();
  const { t } = useTranslation();
  const { me } = useSession();
  const group = useQuery({
    queryKey: keys.group(gid),
    queryFn: () => ok(api.GET("/v1/groups/{gid}", { params: { path: { gid } } })),
  });
  const installed = useInstalled(gid);
  const catalog = useCatalog();
  const members = useMembers(gid);

  const role = members.data?.find((m) => m.user_id === me?.id)?.role;
  const canManage = group.data?.owner_id === me?.id || role === "owner" || role === "admin";

  if (group.error) return <ErrorNote error={group.error} />;
  const name = group.data?.name ?? gid;
  return (
    <div className="group-apps">
      <p>
        <Link to={`/groups/${gid}`}>← {t("owner.backToTimeline", { group: name })}</Link>
      </p>
      <h1>{t("owner.title", { group: name })}</h1>
      {!canManage && group.data && members.data && <p className="muted">{t("owner.notManager")}</p>}

      <section aria-labelledby="installed-heading">
        <h2 id="installed-heading">{t("owner.installed.heading")}</h2>
        {installed.isPending && <p className="muted">{t("common.loading")}</p>}
        <ErrorNote error={installed.error} />
        {installed.data?.length === 0 && <p className="muted">{t("owner.installed.empty")}</p>}
        {installed.data?.map((inst) => (
          <InstalledApp
            key={inst.id}
            gid={gid}
            inst={inst}
            entry={catalog.data?.find((c) => c.slug === inst.app)}
            canManage={canManage}
          />
        ))}
      </section>

      <section aria-labelledby="catalog-heading">
        <h2 id="catalog-heading">{t("owner.catalog.heading")}</h2>
        <p className="muted">{t("owner.catalog.intro")}</p>
        <Catalog gid={gid} installed={installed.data ?? []} canManage={canManage} />
      </section>

      <section aria-labelledby="commands-heading">
        <h2 id="commands-heading">{t("owner.commands.heading")}</h2>
        <Commands gid={gid} />
      </section>

      {canManage && (
        <section aria-labelledby="files-heading">
          <h2 id="files-heading">{t("files.usage.heading")}</h2>
          <FileUsage gid={gid} />
        </section>
      )}

      {canManage && (
        <section aria-labelledby="audit-heading">
          <h2 id="audit-heading">{t("owner.audit.heading")}</h2>
          <AuditTrail gid={gid} members={members.data ?? []} />
        </section>
      )}
    </div>
  );
}
