import { useTranslation } from "react-i18next";

/** English or Chinese; i18next keeps the choice (localStorage `i18nextLng`). */
export function LanguageSwitch({ className }: { className?: string }) {
  const { t, i18n } = useTranslation();
  return (
    <label className={className}>
      <span className="visually-hidden">{t("nav.language")}</span>
      <select
        value={i18n.resolvedLanguage === "zh" ? "zh" : "en"}
        onChange={(e) => void i18n.changeLanguage(e.target.value)}
        aria-label={t("nav.language")}
      >
        <option value="en">English</option>
        <option value="zh">中文</option>
      </select>
    </label>
  );
}
