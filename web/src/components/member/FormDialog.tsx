// A form an app opened for the member, in a modal <dialog>: its text blocks
// and one labelled control per input. The host checks every value; a 422
// `invalid_form` puts each field's error beside its input. A multi-step
// chain replaces the form with the next one in the same dialog. A file
// input uploads what the member chooses at once (progress and errors beside
// it); submitting waits for the uploads and sends their ids.
import { useState } from "react";
import { useForm, type UseFormRegister } from "react-hook-form";
import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import type { TFunction } from "i18next";
import { ApiError } from "../../api/client";
import { ErrorNote } from "../ErrorNote";
import { Blocks } from "./Blocks";
import { Modal } from "./Modal";
import { getForm, submitForm } from "./calls";
import { acceptAttribute, UploadFailed, uploadErrorText, useUploads, type Upload } from "./files";
import { UploadList } from "./UploadList";
import type { Acted, DateValue, FormView, Input, MemberView } from "./types";

type Values = Record<string, string | string[] | boolean>;

/** `ms` as the wall-clock `YYYY-MM-DDTHH:MM` of `zone` (what the host reads). */
export function zoneLocal(ms: number, zone: string): string {
  try {
    const parts = new Intl.DateTimeFormat("en-CA", {
      timeZone: zone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    }).formatToParts(new Date(ms));
    const get = (t: string) => parts.find((p) => p.type === t)?.value ?? "00";
    return `${get("year")}-${get("month")}-${get("day")}T${get("hour")}:${get("minute")}`;
  } catch {
    return new Date(ms).toISOString().slice(0, 16);
  }
}

function dateText(d?: DateValue | null): string {
  if (!d) return "";
  return `${String(d.year).padStart(4, "0")}-${String(d.month).padStart(2, "0")}-${String(d.day).padStart(2, "0")}`;
}

function initial(input: Input, zone: string): string | string[] | boolean {
  const k = input.kind;
  switch (k.type) {
    case "text":
    case "number":
      return k.initial ?? "";
    case "date":
      return dateText(k.initial);
    case "date_time":
      return k.initial != null ? zoneLocal(k.initial, zone) : "";
    case "choice":
      return k.multiple ? (k.initial ?? []) : (k.initial?.[0] ?? "");
    case "member":
      return k.initial ?? "";
    case "checkbox":
      return k.initial ?? false;
    case "file":
      return [];
  }
}

/** The host's per-field errors of a 422 `invalid_form`. */
export function fieldErrors(error: unknown): { input: string; message: string }[] {
  if (!(error instanceof ApiError) || error.code !== "invalid_form") return [];
  const fields = error.body?.error?.fields as unknown;
  if (Array.isArray(fields)) return fields as { input: string; message: string }[];
  if (fields && typeof fields === "object")
    return Object.entries(fields as Record<string, string>).map(([input, message]) => ({ input, message }));
  return [];
}

export function FormDialog({
  gid,
  form: first,
  zone,
  members,
  onDone,
  onClose,
}: {
  gid: string;
  form: FormView;
  zone: string;
  members: MemberView[];
  onDone: (acted: Acted) => void;
  onClose: () => void;
}) {
  const { t } = useTranslation();
  const [formId, setFormId] = useState(first.id);
  const [next, setNext] = useState<FormView>(first);
  // The form as the host serves it (GET), starting from what the answer held.
  const query = useQuery({
    queryKey: ["form", gid, formId],
    queryFn: () => getForm(gid, formId),
    initialData: next.id === formId ? next : undefined,
    staleTime: Infinity,
  });
  const form = query.data;
  return (
    <Modal title={form?.title ?? t("common.loading")} onClose={onClose} className="form-dialog">
      {query.error ? <ErrorNote error={query.error} /> : null}
      {form && (
        <FormBody
          key={form.id}
          gid={gid}
          form={form}
          zone={zone}
          members={members}
          onClose={onClose}
          onAnswer={(acted) => {
            if (acted.response.type === "form") {
              setNext(acted.response.form);
              setFormId(acted.response.form.id);
            } else {
              onDone(acted);
            }
          }}
        />
      )}
    </Modal>
  );
}

function FormBody({
  gid,
  form,
  zone,
  members,
  onAnswer,
  onClose,
}: {
  gid: string;
  form: FormView;
  zone: string;
  members: MemberView[];
  onAnswer: (acted: Acted) => void;
  onClose: () => void;
}) {
  const { t } = useTranslation();
  const inputs = form.blocks.flatMap((b) => (b.type === "input" ? [b.input] : []));
  const defaults: Values = Object.fromEntries(inputs.map((i) => [i.id, initial(i, zone)]));
  const {
    register,
    handleSubmit,
    setError,
    formState: { errors, isSubmitting },
  } = useForm<Values>({ defaultValues: defaults });
  const [failure, setFailure] = useState<unknown>(null);
  const uploads = useUploads(gid);
  // File inputs are not react-hook-form fields (their values are upload ids):
  // their errors are kept here, so they never block a later submit.
  const [fileErrors, setFileErrors] = useState<Record<string, string>>({});
  const setFileError = (id: string, message?: string) =>
    setFileErrors((all) => {
      const next = { ...all };
      if (message) next[id] = message;
      else delete next[id];
      return next;
    });

  const submit = handleSubmit(async (raw) => {
    setFailure(null);
    setFileErrors({});
    const values: Record<string, unknown> = {};
    for (const input of inputs) {
      const v = raw[input.id];
      if (input.kind.type === "file") {
        // Wait for this input's uploads; a failed one stays beside it.
        try {
          const ids = await uploads.ids(input.id);
          if (ids.length > 0) values[input.id] = ids;
        } catch (e) {
          const message =
            e instanceof UploadFailed ? uploadErrorText(t, e.upload.error, e.upload.file.name) : String(e);
          setFileError(input.id, t("files.error.fixFirst", { message }));
          document.getElementById(`input-${input.id}`)?.focus();
          return;
        }
      } else if (input.kind.type === "checkbox") values[input.id] = Boolean(v);
      else if (Array.isArray(v)) {
        if (v.length > 0) values[input.id] = v;
      } else if (typeof v === "string" && v.trim() !== "") values[input.id] = v;
    }
    try {
      onAnswer(await submitForm(gid, form.id, values));
    } catch (e) {
      const fields = fieldErrors(e);
      let placed = 0;
      for (const f of fields) {
        const input = inputs.find((i) => i.id === f.input);
        if (!input) continue;
        if (input.kind.type === "file") {
          setFileError(f.input, f.message);
          if (placed === 0) document.getElementById(`input-${f.input}`)?.focus();
        } else {
          setError(f.input, { type: "server", message: f.message }, { shouldFocus: placed === 0 });
        }
        placed += 1;
      }
      if (placed === 0 || placed < fields.length) setFailure(e);
    }
  });

  return (
    <form onSubmit={(e) => void submit(e)} noValidate>
      {form.step > 1 && <p className="muted">{t("member.step", { step: form.step })}</p>}
      {form.blocks.map((block, i) =>
        block.type === "input" && block.input.kind.type === "file" ? (
          <FileField
            key={block.input.id}
            input={block.input}
            maxFiles={block.input.kind.max_files ?? 1}
            accept={block.input.kind.accept}
            uploads={uploads.items.filter((u) => u.group === block.input.id)}
            disabled={isSubmitting}
            onAdd={(files) => {
              const id = block.input.id;
              const max = block.input.kind.type === "file" ? (block.input.kind.max_files ?? 1) : 1;
              const room = max - uploads.items.filter((u) => u.group === id).length;
              setFileError(id, files.length > room ? t("files.error.tooMany", { count: max }) : undefined);
              uploads.add(id, files.slice(0, Math.max(room, 0)));
            }}
            onRemove={(key) => {
              setFileError(block.input.id);
              uploads.remove(key);
            }}
            error={fileErrors[block.input.id]}
          />
        ) : block.type === "input" ? (
          <InputField
            key={block.input.id}
            input={block.input}
            register={register}
            members={members}
            error={errors[block.input.id]?.message}
          />
        ) : (
          <Blocks key={i} blocks={[block]} />
        ),
      )}
      <ErrorNote error={failure} />
      <div className="row form-buttons">
        <button type="submit" disabled={isSubmitting}>
          {form.submit_label || t("member.submit")}
        </button>
        {isSubmitting && uploads.items.some((u) => u.state === "uploading") && (
          <small role="status">{t("files.waiting")}</small>
        )}
        <button type="button" className="secondary" onClick={onClose}>
          {t("member.cancel")}
        </button>
      </div>
    </form>
  );
}

function InputField({
  input,
  register,
  members,
  error,
}: {
  input: Input;
  register: UseFormRegister<Values>;
  members: MemberView[];
  error?: string;
}) {
  const { t } = useTranslation();
  const id = `input-${input.id}`;
  const hintId = input.hint ? `${id}-hint` : undefined;
  const errorId = error ? `${id}-error` : undefined;
  const described = [hintId, errorId].filter(Boolean).join(" ") || undefined;
  const common = {
    id,
    "aria-invalid": error ? true : undefined,
    "aria-describedby": described,
    "aria-required": input.required || undefined,
  };
  const k = input.kind;
  const label = (
    <label htmlFor={id}>
      {input.label}
      {input.required && <span aria-hidden="true"> *</span>}
    </label>
  );
  let control;
  switch (k.type) {
    case "text":
      control = k.multiline ? (
        <textarea {...common} rows={4} maxLength={k.max_length ?? undefined} placeholder={k.placeholder ?? undefined} {...register(input.id)} />
      ) : (
        <input {...common} type="text" maxLength={k.max_length ?? undefined} placeholder={k.placeholder ?? undefined} {...register(input.id)} />
      );
      break;
    case "number":
      control = (
        <input {...common} type="text" inputMode={k.integer || !k.decimals ? "numeric" : "decimal"} {...register(input.id)} />
      );
      break;
    case "date":
      control = <input {...common} type="date" min={dateText(k.min) || undefined} max={dateText(k.max) || undefined} {...register(input.id)} />;
      break;
    case "date_time":
      control = <input {...common} type="datetime-local" {...register(input.id)} />;
      break;
    case "member":
      control = (
        <select {...common} {...register(input.id)}>
          <option value="">{t("member.pickMember")}</option>
          {members.map((m) => (
            <option key={m.user_id} value={m.user_id}>
              {m.display_name || m.name}
            </option>
          ))}
        </select>
      );
      break;
    case "checkbox":
      return (
        <div className="field">
          <label className="checkbox">
            <input
              type="checkbox"
              id={id}
              aria-invalid={error ? true : undefined}
              aria-describedby={described}
              {...register(input.id)}
            />{" "}
            {input.label}
          </label>
          {input.hint && <small id={hintId}>{input.hint}</small>}
          {error && (
            <p className="error field-error" id={errorId}>
              {error}
            </p>
          )}
        </div>
      );
    case "choice":
      if (k.multiple) {
        return (
          <fieldset className="field" aria-describedby={described} aria-invalid={error ? true : undefined}>
            <legend>
              {input.label}
              {input.required && <span aria-hidden="true"> *</span>}
            </legend>
            {k.options.map((o) => (
              <label key={o.value} className="checkbox">
                <input type="checkbox" value={o.value} {...register(input.id)} /> {o.label}
              </label>
            ))}
            {input.hint && <small id={hintId}>{input.hint}</small>}
            {error && (
              <p className="error field-error" id={errorId}>
                {error}
              </p>
            )}
          </fieldset>
        );
      }
      control = (
        <select {...common} {...register(input.id)}>
          <option value="">{t("member.choose")}</option>
          {k.options.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      );
      break;
    default:
      return null;
  }
  return (
    <div className="field">
      {label}
      {control}
      {input.hint && (
        <small id={hintId} className="hint">
          {input.hint}
        </small>
      )}
      {error && (
        <p className="error field-error" id={errorId}>
          {error}
        </p>
      )}
    </div>
  );
}

/** An accepted type in words: "images", "PDF", else the type itself ("image/" → "image/…"). */
function kindLabel(t: TFunction, accept: string): string {
  const known: Record<string, string> = {
    "image/": "files.kind.image",
    "audio/": "files.kind.audio",
    "video/": "files.kind.video",
    "text/": "files.kind.text",
    "text/plain": "files.kind.plain",
    "application/pdf": "files.kind.pdf",
  };
  const key = known[accept];
  if (key) return t(key);
  return accept.endsWith("/") ? `${accept}…` : accept;
}

/** A file input: choose files (each uploaded at once), see them with their progress, remove them. */
function FileField({
  input,
  maxFiles,
  accept,
  uploads,
  disabled,
  onAdd,
  onRemove,
  error,
}: {
  input: Input;
  maxFiles: number;
  accept?: string[];
  uploads: Upload[];
  disabled?: boolean;
  onAdd: (files: File[]) => void;
  onRemove: (key: number) => void;
  error?: string;
}) {
  const { t } = useTranslation();
  const id = `input-${input.id}`;
  const hintId = `${id}-hint`;
  const listId = `${id}-files`;
  const errorId = error ? `${id}-error` : undefined;
  const full = uploads.length >= maxFiles;
  const kinds = accept && accept.length > 0 ? accept.map((a) => kindLabel(t, a)).join(", ") : null;
  return (
    <div className="field file-field">
      <label htmlFor={id}>
        {input.label}
        {input.required && <span aria-hidden="true"> *</span>}
      </label>
      <input
        id={id}
        type="file"
        accept={acceptAttribute(accept)}
        multiple={maxFiles > 1}
        disabled={disabled || full}
        aria-invalid={error ? true : undefined}
        aria-required={input.required || undefined}
        aria-describedby={[hintId, uploads.length > 0 ? listId : null, errorId].filter(Boolean).join(" ")}
        onChange={(e) => {
          const files = Array.from(e.target.files ?? []);
          // Clear the control, so the same file can be chosen again after a removal.
          e.target.value = "";
          if (files.length > 0) onAdd(files);
        }}
      />
      <small id={hintId} className="hint">
        {/* The app's own hint, else what the input takes, in words. */}
        {input.hint ||
          `${t("files.limit", { count: maxFiles })}${kinds ? ` · ${t("files.accepted", { kinds })}` : ""}`}
      </small>
      <UploadList id={listId} uploads={uploads} onRemove={onRemove} disabled={disabled} />
      {error && (
        <p className="error field-error" id={errorId}>
          {error}
        </p>
      )}
    </div>
  );
}
