import { useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { Navigate, useLocation, useNavigate } from "react-router";
import { useTranslation } from "react-i18next";
import { api, ok } from "../api/client";
import { useSession } from "../session";
import { ErrorNote } from "../components/ErrorNote";
import { LanguageSwitch } from "../components/LanguageSwitch";

/** Sign in with an API token; a demo server (`qun serve --demo`) offers its users by name. */
export function SignIn() {
  const { t } = useTranslation();
  const { me, signIn } = useSession();
  const navigate = useNavigate();
  const location = useLocation();
  const [token, setTokenInput] = useState("");
  const [error, setError] = useState<unknown>(null);
  const demo = useQuery({
    queryKey: ["demo-users"],
    queryFn: () => ok(api.GET("/v1/demo/users", { headers: { Authorization: "" } })),
  });
  const from = (location.state as { from?: string } | null)?.from ?? "/groups";
  if (me) return <Navigate to={from} replace />;

  async function use(value: string) {
    setError(null);
    try {
      await signIn(value.trim());
      navigate(from, { replace: true });
    } catch (e) {
      setError(e);
    }
  }

  return (
    <main className="signin" id="main">
      <LanguageSwitch className="language" />
      <h1>{t("signin.title")}</h1>
      {demo.data && demo.data.length > 0 && (
        <section aria-labelledby="demo-users">
          <h2 id="demo-users">{t("signin.demoUsers")}</h2>
          <ul className="demo-users">
            {demo.data.map((u) => (
              <li key={u.name}>
                <button type="button" onClick={() => void use(u.token)}>
                  {u.display_name} <small>{u.roles.join(", ")}</small>
                </button>
              </li>
            ))}
          </ul>
        </section>
      )}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void use(token);
        }}
      >
        <label htmlFor="token">{t("signin.token")}</label>
        <input
          id="token"
          type="password"
          autoComplete="off"
          value={token}
          onChange={(e) => setTokenInput(e.target.value)}
          required
        />
        <button type="submit">{t("signin.submit")}</button>
      </form>
      <ErrorNote error={error} />
    </main>
  );
}
