import { useTranslation } from "react-i18next";

/** A version's review status (`pending`, `approved`, `rejected`) as a badge. */
export function StatusBadge({ status }: { status: string }) {
  const { t } = useTranslation();
  return (
    <span className={`badge status-${status}`}>
      {t(`admin.status.${status}`, { defaultValue: status })}
    </span>
  );
}
