// An app's blocks as React elements: text (light markup), headers, fields,
// dividers, context lines, actions (buttons, select menus, member pickers),
// files (to download) and images. Every string an app wrote is a React text
// node (escaped), file names and alt text included.
import { useId, useState } from "react";
import { useTranslation } from "react-i18next";
import { ErrorNote } from "../ErrorNote";
import { downloadFile, formatBytes, useBlobUrl } from "./files";
import { FileIcon } from "./icons";
import { Markup } from "./markup";
import { Modal } from "./Modal";
import type { BlockView, Confirm, ElementView, FileRef, LegacyCard, MemberView } from "./types";

/** Act on an element: a button (no value), a menu's option or a picked member. */
export type OnElement = (ref: string, value?: string) => void;

interface Props {
  blocks: BlockView[];
  /** Absent: elements are not shown (direct messages have nothing to click). */
  onElement?: OnElement;
  members?: MemberView[];
  busy?: boolean;
  /** Text blocks are a member's words: plain, no markup (a member's message with files). */
  plain?: boolean;
}

export function Blocks({ blocks, onElement, members, busy, plain }: Props) {
  return (
    <div className="blocks">
      {blocks.map((block, i) => (
        <BlockItem key={i} block={block} onElement={onElement} members={members} busy={busy} plain={plain} />
      ))}
    </div>
  );
}

function BlockItem({ block, onElement, members, busy, plain }: Omit<Props, "blocks"> & { block: BlockView }) {
  switch (block.type) {
    case "text":
      if (plain) return <p className="block-text plain">{block.text}</p>;
      return (
        <p className="block-text">
          <Markup text={block.text} />
        </p>
      );
    case "header":
      return <h3 className="block-header">{block.text}</h3>;
    case "fields":
      return <FieldList fields={block.fields} />;
    case "divider":
      return <hr className="block-divider" />;
    case "context":
      return (
        <p className="block-context muted">
          <Markup text={block.text} />
        </p>
      );
    case "actions":
      if (!onElement) return null;
      return (
        <div className="row block-actions">
          {block.elements.map((el) => (
            <ElementItem key={el.ref} element={el} onElement={onElement} members={members} busy={busy} />
          ))}
        </div>
      );
    case "file":
      return <FileBlock file={block.file} />;
    case "image":
      return <ImageBlock file={block.file} alt={block.alt ?? ""} />;
    default:
      return null;
  }
}

/** "PNG image", "PDF", else the content type as it is. */
function typeLabel(contentType: string): string {
  const main = contentType.split(";")[0].trim();
  const known: Record<string, string> = {
    "application/pdf": "PDF",
    "text/plain": "text",
    "application/zip": "ZIP",
  };
  if (known[main]) return known[main];
  const [family, sub] = main.split("/");
  if (family === "image" && sub) return `${sub.toUpperCase()}`;
  return main || "?";
}

/** A file to download: its name, size and type, and a Download button. */
function FileBlock({ file }: { file: FileRef }) {
  const { t } = useTranslation();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  if (file.deleted) return <FileDeleted file={file} />;
  return (
    <div className="block-file" data-testid="file-block">
      <span className="file-icon">
        <FileIcon />
      </span>
      <span className="file-meta">
        <span className="file-name">{file.name}</span>
        <small>
          {formatBytes(file.size)} · {typeLabel(file.content_type)}
        </small>
      </span>
      <button
        type="button"
        className="secondary"
        disabled={busy}
        aria-label={t("files.downloadNamed", { name: file.name })}
        onClick={() => {
          setBusy(true);
          setError(null);
          downloadFile(file.url, file.name)
            .catch(setError)
            .finally(() => setBusy(false));
        }}
      >
        {busy ? t("files.downloading") : t("files.download")}
      </button>
      <ErrorNote error={error} />
    </div>
  );
}

function FileDeleted({ file }: { file: FileRef }) {
  const { t } = useTranslation();
  return (
    <p className="block-file deleted muted" data-testid="file-block">
      {file.name ? (
        <>
          <span className="file-name">{file.name}</span> — {t("files.deleted")}
        </>
      ) : (
        t("files.deletedNoName")
      )}
    </p>
  );
}

/** An image, from a blob URL (revoked when unmounted); a click saves it. */
function ImageBlock({ file, alt }: { file: FileRef; alt: string }) {
  const { t } = useTranslation();
  const { src, error } = useBlobUrl(file.deleted ? null : file.url);
  if (file.deleted) return <FileDeleted file={file} />;
  return (
    <figure className="block-image" data-testid="image-block">
      {src ? (
        <a
          href={src}
          download={file.name}
          title={t("files.downloadNamed", { name: file.name })}
        >
          <img src={src} alt={alt || file.name} />
        </a>
      ) : error ? (
        <ErrorNote error={error} />
      ) : (
        <div className="image-loading muted">{t("common.loading")}</div>
      )}
      <figcaption>
        <small>
          {alt && alt !== file.name && <span className="image-alt">{alt} · </span>}
          <span className="file-name">{file.name}</span> · {formatBytes(file.size)}
        </small>
      </figcaption>
    </figure>
  );
}

export function FieldList({ fields }: { fields: { name?: string; label?: string; value?: string }[] }) {
  return (
    <dl className="block-fields">
      {fields.map((f, i) => (
        <div key={i} className="block-field">
          <dt>{f.name ?? f.label ?? ""}</dt>
          <dd>{f.value ?? ""}</dd>
        </div>
      ))}
    </dl>
  );
}

function ElementItem({
  element,
  onElement,
  members,
  busy,
}: {
  element: ElementView;
  onElement: OnElement;
  members?: MemberView[];
  busy?: boolean;
}) {
  const id = useId();
  const { t } = useTranslation();
  const [asking, setAsking] = useState<Confirm | null>(null);
  switch (element.type) {
    case "button": {
      const cls = element.style === "danger" ? "danger" : element.style === "primary" ? "" : "secondary";
      return (
        <>
          <button
            type="button"
            className={cls}
            disabled={busy}
            onClick={() => (element.confirm ? setAsking(element.confirm) : onElement(element.ref))}
          >
            {element.label}
          </button>
          {asking && (
            <Modal title={asking.title} onClose={() => setAsking(null)}>
              <p>{asking.text}</p>
              <div className="row">
                <button
                  type="button"
                  className={cls === "danger" ? "danger" : ""}
                  onClick={() => {
                    setAsking(null);
                    onElement(element.ref);
                  }}
                >
                  {asking.confirm_label}
                </button>
                <button type="button" className="secondary" onClick={() => setAsking(null)}>
                  {asking.deny_label}
                </button>
              </div>
            </Modal>
          )}
        </>
      );
    }
    case "select":
      return (
        <span className="block-select">
          <label htmlFor={id} className="visually-hidden">
            {element.placeholder || t("member.choose")}
          </label>
          <select
            id={id}
            value=""
            disabled={busy}
            onChange={(e) => e.target.value && onElement(element.ref, e.target.value)}
          >
            <option value="" disabled>
              {element.placeholder || t("member.choose")}
            </option>
            {element.options.map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </select>
        </span>
      );
    case "member_picker":
      return (
        <span className="block-select">
          <label htmlFor={id} className="visually-hidden">
            {element.placeholder || t("member.pickMember")}
          </label>
          <select
            id={id}
            value=""
            disabled={busy}
            onChange={(e) => e.target.value && onElement(element.ref, e.target.value)}
          >
            <option value="" disabled>
              {element.placeholder || t("member.pickMember")}
            </option>
            {(members ?? []).map((m) => (
              <option key={m.user_id} value={m.user_id}>
                {m.display_name || m.name}
              </option>
            ))}
          </select>
        </span>
      );
    default:
      return null;
  }
}

/** A 0.1 card: its title, body, fields and buttons. */
export function LegacyCardView({
  card,
  onElement,
  busy,
}: {
  card: LegacyCard;
  onElement?: OnElement;
  busy?: boolean;
}) {
  return (
    <div className="blocks">
      {card.title && <h3 className="block-header">{card.title}</h3>}
      {card.body && <p className="block-text">{card.body}</p>}
      {card.fields && card.fields.length > 0 && <FieldList fields={card.fields} />}
      {onElement && card.buttons && card.buttons.length > 0 && (
        <div className="row block-actions">
          {card.buttons.map((b) => (
            <button key={b.ref} type="button" className="secondary" disabled={busy} onClick={() => onElement(b.ref)}>
              {b.label}
            </button>
          ))}
        </div>
      )}
    </div>
  );
}
