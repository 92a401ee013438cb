// The user's groups, and a form to create one (the creator owns it).
import { useState } from "react";
import { Link, useNavigate } from "react-router";
import { useForm } from "react-hook-form";
import { useTranslation } from "react-i18next";
import { api, ok } from "../api/client";
import { useSession } from "../session";
import { ErrorNote } from "../components/ErrorNote";
import "../components/member/member.css";

export function Groups() {
  const { t } = useTranslation();
  const { me, refresh } = useSession();
  const navigate = useNavigate();
  const [error, setError] = useState<unknown>(null);
  const {
    register,
    handleSubmit,
    reset,
    formState: { errors, isSubmitting },
  } = useForm<{ name: string }>({ defaultValues: { name: "" } });
  const groups = me?.groups ?? [];

  const create = handleSubmit(async ({ name }) => {
    setError(null);
    try {
      const group = (await ok(api.POST("/v1/groups", { body: { name: name.trim() } }))) as { id: string };
      reset();
      await refresh();
      navigate(`/groups/${encodeURIComponent(group.id)}`);
    } catch (e) {
      setError(e);
    }
  });

  return (
    <section aria-labelledby="groups-title">
      <h1 id="groups-title">{t("member.groups")}</h1>
      {groups.length === 0 ? (
        <p className="muted">{t("member.noGroups")}</p>
      ) : (
        <ul className="group-list">
          {groups.map((g) => (
            <li key={g.id} className="card">
              <Link to={`/groups/${encodeURIComponent(g.id)}`} className="group-name">
                {g.name}
              </Link>{" "}
              <small>
                {t("member.memberCount", { count: g.member_count })}
                {me && g.owner_id === me.id ? ` · ${t("member.youOwn")}` : ""}
              </small>
            </li>
          ))}
        </ul>
      )}
      <h2>{t("member.newGroup")}</h2>
      <form onSubmit={(e) => void create(e)} noValidate className="new-group">
        <label htmlFor="new-group-name">{t("member.groupName")}</label>
        <div className="row">
          <input
            id="new-group-name"
            maxLength={100}
            aria-invalid={errors.name ? true : undefined}
            aria-describedby={errors.name ? "new-group-name-error" : undefined}
            {...register("name", {
              validate: (v) => v.trim().length > 0 || t("member.nameRequired"),
            })}
          />
          <button type="submit" disabled={isSubmitting}>
            {t("member.create")}
          </button>
        </div>
        {errors.name && (
          <p className="error" id="new-group-name-error">
            {errors.name.message}
          </p>
        )}
        <ErrorNote error={error} />
      </form>
    </section>
  );
}
