import { useEffect, useId, useRef } from "react";
import { useForm } from "react-hook-form";
import { useTranslation } from "react-i18next";
import { ErrorNote } from "../ErrorNote";

interface Props {
  /** Whether the dialog is open (it opens modally: focus moves in, Esc closes). */
  open: boolean;
  title: string;
  /** What the reason is for, under the field. */
  help?: string;
  confirm: string;
  busy: boolean;
  error: unknown;
  onConfirm(reason: string): void;
  onClose(): void;
}

/** A modal asking for a required reason (1 to 2000 characters, not only spaces). */
export function ReasonDialog({ open, title, help, confirm, busy, error, onConfirm, onClose }: Props) {
  const { t } = useTranslation();
  const ref = useRef<HTMLDialogElement>(null);
  const id = useId();
  const {
    register,
    handleSubmit,
    reset,
    formState: { errors },
  } = useForm<{ reason: string }>({ defaultValues: { reason: "" } });

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) {
      reset({ reason: "" });
      dialog.showModal();
    } else if (!open && dialog.open) {
      dialog.close();
    }
  }, [open, reset]);

  return (
    <dialog ref={ref} aria-labelledby={`${id}-title`} onClose={onClose} className="admin">
      <form noValidate onSubmit={handleSubmit(({ reason }) => onConfirm(reason.trim()))}>
        <h2 id={`${id}-title`}>{title}</h2>
        <label htmlFor={`${id}-reason`}>{t("admin.reason")}</label>
        {help && <small id={`${id}-help`}>{help}</small>}
        <textarea
          id={`${id}-reason`}
          maxLength={2000}
          autoFocus
          aria-describedby={help ? `${id}-help` : undefined}
          aria-invalid={errors.reason ? true : undefined}
          {...register("reason", {
            validate: (v) => v.trim().length > 0 || t("admin.reasonRequired"),
          })}
        />
        {errors.reason && (
          <p className="error" role="alert">
            {errors.reason.message}
          </p>
        )}
        <ErrorNote error={error} />
        <div className="row">
          <button type="submit" className="danger" disabled={busy}>
            {confirm}
          </button>
          <button type="button" className="secondary" onClick={onClose}>
            {t("admin.cancel")}
          </button>
        </div>
      </form>
    </dialog>
  );
}
