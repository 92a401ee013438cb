// Register a new app: its slug (the name its component reports), display name and description.
import { useForm } from "react-hook-form";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router";
import { api, ok } from "../../api/client";
import { ErrorNote } from "../ErrorNote";

interface NewApp {
  slug: string;
  name: string;
  description: string;
}

export function RegisterApp() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const client = useQueryClient();
  const { register, handleSubmit, formState } = useForm<NewApp>({
    defaultValues: { slug: "", name: "", description: "" },
  });
  const create = useMutation({
    mutationFn: (body: NewApp) => ok(api.POST("/v1/apps", { body })),
    onSuccess: async (app) => {
      await client.invalidateQueries({ queryKey: ["dev-apps"] });
      void navigate(`/dev/apps/${encodeURIComponent(app.slug)}`);
    },
  });
  const errors = formState.errors;
  return (
    <form className="card register" onSubmit={handleSubmit((v) => create.mutate(v))} noValidate>
      <label>
        {t("dev.register.slug")}
        <input
          {...register("slug", {
            required: t("dev.register.slugRequired"),
            pattern: { value: /^[a-z0-9][a-z0-9-]{0,39}$/, message: t("dev.register.slugPattern") },
          })}
          autoComplete="off"
          aria-invalid={errors.slug ? true : undefined}
          aria-describedby="slug-hint"
        />
      </label>
      <small id="slug-hint">{t("dev.register.slugHint")}</small>
      {errors.slug && <p className="error">{errors.slug.message}</p>}
      <label>
        {t("dev.register.name")}
        <input
          {...register("name", {
            required: t("dev.register.nameRequired"),
            maxLength: { value: 100, message: t("dev.register.nameLong") },
            validate: (v) => v.trim().length > 0 || t("dev.register.nameRequired"),
          })}
          aria-invalid={errors.name ? true : undefined}
        />
      </label>
      {errors.name && <p className="error">{errors.name.message}</p>}
      <label>
        {t("dev.register.description")}
        <textarea
          {...register("description", { maxLength: { value: 2000, message: t("dev.register.descriptionLong") } })}
        />
      </label>
      {errors.description && <p className="error">{errors.description.message}</p>}
      <ErrorNote error={create.error} />
      <button type="submit" disabled={create.isPending}>
        {create.isPending ? t("dev.working") : t("dev.register.submit")}
      </button>
    </form>
  );
}
