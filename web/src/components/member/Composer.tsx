// The message box. Typing `/` lists the group's commands (with their
// options, where the host lists them) as an ARIA combobox: arrows move,
// Enter or Tab picks, Esc closes. Enter posts the message. The paperclip
// attaches files (uploaded at once, shown as chips); the message is sent
// with their ids, and may then have no text.
import { useId, useMemo, useRef, useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { groupCommands } from "./calls";
import { MAX_MESSAGE_FILES, UploadFailed, uploadErrorText, useUploads } from "./files";
import { PaperclipIcon } from "./icons";
import { UploadList } from "./UploadList";
import type { CommandView } from "./types";

const ATTACHED = "composer";

function optionsLine(c: CommandView): string {
  return (c.options ?? []).map((o) => (o.required ? `${o.name}*` : o.name)).join(" · ");
}

export function Composer({
  gid,
  onSend,
  sending,
}: {
  gid: string;
  onSend: (text: string, files: string[]) => Promise<boolean>;
  sending: boolean;
}) {
  const { t } = useTranslation();
  const id = useId();
  const listId = `${id}-commands`;
  const [text, setText] = useState("");
  const [active, setActive] = useState(0);
  const [dismissed, setDismissed] = useState(false);
  const inputRef = useRef<HTMLTextAreaElement>(null);
  const uploads = useUploads(gid);
  const attached = uploads.items;
  const [attachError, setAttachError] = useState<string | null>(null);
  const [waiting, setWaiting] = useState(false);
  const commands = useQuery({ queryKey: ["commands", gid], queryFn: () => groupCommands(gid) });

  const word = /^\/([\p{L}\p{N}_-]*)$/u.exec(text)?.[1];
  const matches = useMemo(() => {
    if (word === undefined) return [];
    const all = (commands.data ?? []).filter((c) => c.enabled);
    return all.filter((c) => c.command.toLowerCase().startsWith(word.toLowerCase()));
  }, [word, commands.data]);
  const open = word !== undefined && !dismissed && matches.length > 0;
  const current = Math.min(active, Math.max(matches.length - 1, 0));
  // The command being typed (`/poll …`): its help under the box.
  const typed = /^\/([\p{L}\p{N}_-]+)\s/u.exec(text)?.[1];
  const typedCommand = typed ? commands.data?.find((c) => c.command === typed) : undefined;

  function pick(c: CommandView) {
    setText(`/${c.command} `);
    setDismissed(false);
    setActive(0);
    inputRef.current?.focus();
  }

  async function send() {
    const value = text.trim();
    if ((!value && attached.length === 0) || sending || waiting) return;
    setAttachError(null);
    let files: string[] = [];
    if (attached.length > 0) {
      setWaiting(true);
      try {
        files = await uploads.ids(ATTACHED);
      } catch (e) {
        setAttachError(
          e instanceof UploadFailed
            ? t("files.error.fixFirst", { message: uploadErrorText(t, e.upload.error, e.upload.file.name) })
            : String(e),
        );
        return;
      } finally {
        setWaiting(false);
      }
    }
    if (await onSend(value, files)) {
      setText("");
      uploads.clear(ATTACHED);
    }
    inputRef.current?.focus();
  }

  function attach(files: File[]) {
    setAttachError(null);
    const room = MAX_MESSAGE_FILES - attached.length;
    if (files.length > room) setAttachError(t("files.error.tooMany", { count: MAX_MESSAGE_FILES }));
    uploads.add(ATTACHED, files.slice(0, Math.max(room, 0)));
  }

  return (
    <form
      className="composer"
      onSubmit={(e) => {
        e.preventDefault();
        void send();
      }}
    >
      <label htmlFor={`${id}-text`}>{t("member.message")}</label>
      <div className="composer-row">
        <textarea
          ref={inputRef}
          id={`${id}-text`}
          rows={1}
          value={text}
          placeholder={t("member.composerHint")}
          role="combobox"
          aria-autocomplete="list"
          aria-expanded={open}
          aria-controls={listId}
          aria-activedescendant={open ? `${listId}-${current}` : undefined}
          aria-describedby={[typedCommand ? `${id}-usage` : null, attached.length > 0 ? `${id}-files` : null].filter(Boolean).join(" ") || undefined}
          onChange={(e) => {
            setText(e.target.value);
            setDismissed(false);
            setActive(0);
          }}
          onKeyDown={(e) => {
            if (open) {
              if (e.key === "ArrowDown") {
                e.preventDefault();
                setActive((current + 1) % matches.length);
                return;
              }
              if (e.key === "ArrowUp") {
                e.preventDefault();
                setActive((current - 1 + matches.length) % matches.length);
                return;
              }
              if (e.key === "Enter" || e.key === "Tab") {
                e.preventDefault();
                pick(matches[current]);
                return;
              }
              if (e.key === "Escape") {
                e.preventDefault();
                setDismissed(true);
                return;
              }
            }
            if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
              e.preventDefault();
              void send();
            }
          }}
        />
        <span className="attach">
          <input
            id={`${id}-attach`}
            type="file"
            multiple
            className="visually-hidden"
            disabled={sending || attached.length >= MAX_MESSAGE_FILES}
            onChange={(e) => {
              const files = Array.from(e.target.files ?? []);
              e.target.value = "";
              if (files.length > 0) attach(files);
            }}
          />
          <label htmlFor={`${id}-attach`} className="attach-button" title={t("files.attach")}>
            <PaperclipIcon />
            <span className="visually-hidden">{t("files.attach")}</span>
          </label>
        </span>
        <button type="submit" disabled={sending || waiting || (!text.trim() && attached.length === 0)}>
          {waiting ? t("files.sendingFiles") : t("member.send")}
        </button>
      </div>
      <UploadList id={`${id}-files`} uploads={attached} onRemove={uploads.remove} disabled={sending || waiting} />
      {attachError && (
        <p className="error" role="alert">
          {attachError}
        </p>
      )}
      <ul id={listId} role="listbox" aria-label={t("member.commands")} className="commands" hidden={!open}>
        {open &&
          matches.map((c, i) => (
            <li
              key={`${c.app}/${c.command}`}
              id={`${listId}-${i}`}
              role="option"
              aria-selected={i === current}
              className={i === current ? "active" : undefined}
              onMouseDown={(e) => {
                e.preventDefault();
                pick(c);
              }}
            >
              <code>/{c.command}</code> <span className="badge">{c.app}</span>
              <div className="muted">{c.description}</div>
              {optionsLine(c) && (
                <div className="muted">
                  {t("member.options")}: {optionsLine(c)}
                </div>
              )}
            </li>
          ))}
      </ul>
      {typedCommand && (
        <p id={`${id}-usage`} className="muted usage">
          <code>/{typedCommand.command}</code> {typedCommand.description}
          {optionsLine(typedCommand) && ` — ${t("member.options")}: ${optionsLine(typedCommand)}`}
        </p>
      )}
    </form>
  );
}
