// The consent screen: exactly the capabilities an app (version) asks for,
// each with what it allows, as checkboxes (all checked unless told otherwise).
import { useEffect, useId, useRef, useState, type FormEvent, type ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { ErrorNote } from "../ErrorNote";
import { capAllows, capTitle } from "./capabilities";

export interface ConsentCapability {
  name: string;
  /** The server's description, used for a capability the locale does not know. */
  description?: string;
  /** Marked as new (an upgrade asks for it for the first time). */
  isNew?: boolean;
}

interface Props {
  open: boolean;
  title: string;
  intro: ReactNode;
  capabilities: ConsentCapability[];
  /** Checked at first (default: all). */
  initial?: string[];
  confirmLabel: string;
  pending: boolean;
  error: unknown;
  onConfirm(grants: string[]): void;
  onCancel(): void;
}

export function ConsentDialog(props: Props) {
  const { t } = useTranslation();
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const all = props.capabilities.map((c) => c.name);
  const [checked, setChecked] = useState<string[]>(props.initial ?? all);

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (props.open && !dialog.open) {
      setChecked(props.initial ?? props.capabilities.map((c) => c.name));
      dialog.showModal();
    } else if (!props.open && dialog.open) {
      dialog.close();
    }
    // Only opening and closing reset the choice.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [props.open]);

  const toggle = (name: string, on: boolean) =>
    setChecked((now) => (on ? [...new Set([...now, name])] : now.filter((n) => n !== name)));

  const submit = (e: FormEvent) => {
    e.preventDefault();
    props.onConfirm(all.filter((n) => checked.includes(n)));
  };

  return (
    <dialog ref={ref} aria-labelledby={titleId} onClose={props.onCancel} className="consent">
      <form onSubmit={submit}>
        <h2 id={titleId}>{props.title}</h2>
        <div>{props.intro}</div>
        {props.capabilities.length === 0 ? (
          <p className="muted">{t("owner.consent.none")}</p>
        ) : (
          <fieldset className="cap-list">
            <legend>{t("owner.consent.legend")}</legend>
            {props.capabilities.map((c) => (
              <label key={c.name} className="cap">
                <input
                  type="checkbox"
                  checked={checked.includes(c.name)}
                  onChange={(e) => toggle(c.name, e.target.checked)}
                />{" "}
                <span>
                  <strong>{capTitle(t, c.name)}</strong> <code>{c.name}</code>
                  {c.isNew && <span className="badge new"> {t("owner.consent.new")}</span>}
                  <br />
                  <span className="cap-allows">{capAllows(t, c.name, c.description)}</span>
                </span>
              </label>
            ))}
          </fieldset>
        )}
        <p className="muted">{t("owner.consent.later")}</p>
        <ErrorNote error={props.error} />
        <div className="row">
          <button type="submit" disabled={props.pending}>
            {props.pending ? t("owner.working") : props.confirmLabel}
          </button>
          <button type="button" className="secondary" onClick={() => ref.current?.close()}>
            {t("owner.cancel")}
          </button>
        </div>
      </form>
    </dialog>
  );
}
