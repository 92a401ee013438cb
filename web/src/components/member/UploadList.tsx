// Files chosen for a form input or a message, as chips: the name and size,
// the upload's progress or its error in words, and a remove button.
import { useTranslation } from "react-i18next";
import { formatBytes, uploadErrorText, type Upload } from "./files";

export function UploadList({
  uploads,
  onRemove,
  id,
  disabled,
}: {
  uploads: Upload[];
  onRemove: (key: number) => void;
  id?: string;
  disabled?: boolean;
}) {
  const { t } = useTranslation();
  if (uploads.length === 0) return null;
  return (
    <ul className="uploads" id={id} aria-label={t("files.chosen")}>
      {uploads.map((u) => (
        <li key={u.key} className={`upload-chip ${u.state}`} data-testid="upload">
          <span className="upload-name">{u.file.name}</span>{" "}
          <small>{formatBytes(u.file.size)}</small>{" "}
          {u.state === "uploading" && (
            <>
              <progress max={1} value={u.progress} aria-label={t("files.uploading", { name: u.file.name })} />
              <small>{Math.round(u.progress * 100)}%</small>
            </>
          )}
          {u.state === "done" && <small className="success">{t("files.uploaded")}</small>}
          <button
            type="button"
            className="link"
            disabled={disabled}
            aria-label={t("files.remove", { name: u.file.name })}
            onClick={() => onRemove(u.key)}
          >
            {t("files.removeShort")}
          </button>
          {u.state === "failed" && (
            <span className="error upload-error" role="alert">
              {uploadErrorText(t, u.error, u.file.name)}
            </span>
          )}
        </li>
      ))}
    </ul>
  );
}
