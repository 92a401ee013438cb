import { useTranslation } from "react-i18next";
import { ApiError } from "../api/client";

/** An error as the API named it: the message, with its code for developers. */
export function ErrorNote({ error }: { error: unknown }) {
  const { t } = useTranslation();
  if (!error) return null;
  const code = error instanceof ApiError ? error.code : "network";
  const message = error instanceof Error ? error.message : String(error);
  return (
    <p className="error" role="alert">
      {message || t("common.failed")} <code>{code}</code>
    </p>
  );
}
