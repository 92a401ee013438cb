import { Navigate, NavLink, Outlet, useLocation } from "react-router";
import { useTranslation } from "react-i18next";
import { useSession } from "../session";
import { LanguageSwitch } from "./LanguageSwitch";

export function Layout() {
  const { t } = useTranslation();
  const { me, loading, signOut } = useSession();
  const location = useLocation();
  if (loading) return <p className="loading">{t("common.loading")}</p>;
  if (!me) return <Navigate to="/signin" state={{ from: location.pathname }} replace />;
  return (
    <div className="shell">
      <header className="topbar">
        <a className="brand" href="/groups">Qun</a>
        <nav aria-label={t("nav.main")}>
          <NavLink to="/groups">{t("nav.groups")}</NavLink>
          <NavLink to="/messages">{t("nav.messages")}</NavLink>
          <NavLink to="/wallet">{t("nav.wallet")}</NavLink>
          {me.developer && <NavLink to="/dev">{t("nav.developer")}</NavLink>}
          {me.admin && <NavLink to="/admin">{t("nav.admin")}</NavLink>}
        </nav>
        <div className="who">
          <LanguageSwitch />
          <span className="me" data-testid="me">{me.display_name}</span>
          <button type="button" className="link" onClick={signOut}>
            {t("nav.signOut")}
          </button>
        </div>
      </header>
      <main id="main">
        <Outlet />
      </main>
    </div>
  );
}
