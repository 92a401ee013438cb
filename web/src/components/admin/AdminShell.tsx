import type { ReactNode } from "react";
import { NavLink } from "react-router";
import { useTranslation } from "react-i18next";
import { useSession } from "../../session";
import "./admin.css";

/** The admin screens' sub-navigation: Reviews, Apps, Audit, Ledger. */
export function AdminNav() {
  const { t } = useTranslation();
  return (
    <nav className="admin-nav" aria-label={t("admin.nav.label")}>
      <NavLink to="/admin" end>
        {t("admin.nav.reviews")}
      </NavLink>
      <NavLink to="/admin/apps">{t("admin.nav.apps")}</NavLink>
      <NavLink to="/admin/audit">{t("admin.nav.audit")}</NavLink>
      <NavLink to="/admin/ledger">{t("admin.nav.ledger")}</NavLink>
    </nav>
  );
}

/**
 * An admin screen: the sub-navigation, its title and content; people who are not
 * platform admins are told so instead (the API would answer 403 anyway).
 */
export function AdminShell({
  title,
  children,
  wide = false,
}: {
  title: ReactNode;
  children: ReactNode;
  /** Use more of a wide screen (tables with many columns). */
  wide?: boolean;
}) {
  const { t } = useTranslation();
  const { me } = useSession();
  if (!me?.admin) {
    return (
      <section>
        <h1>{t("admin.title")}</h1>
        <p className="error" role="alert">
          {t("admin.notAdmin")}
        </p>
      </section>
    );
  }
  return (
    <section className={wide ? "admin wide" : "admin"}>
      <AdminNav />
      <h1>{title}</h1>
      {children}
    </section>
  );
}
