// The message box. Typing `/` lists the group's commands (with their
// options, where the host lists them) as an ARIA combobox: arrows move,
// Enter or Tab picks, Esc closes. Enter posts the message.
import { useId, useMemo, useRef, useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { groupCommands } from "./calls";
import type { CommandView } from "./types";

function optionsLine(c: CommandView): string {
  return (c.options ?? []).map((o) => (o.required ? `${o.name}*` : o.name)).join(" · ");
}

export function Composer({
  gid,
  onSend,
  sending,
}: {
  gid: string;
  onSend: (text: string) => Promise<boolean>;
  sending: boolean;
}) {
  const { t } = useTranslation();
  const id = useId();
  const listId = `${id}-commands`;
  const [text, setText] = useState("");
  const [active, setActive] = useState(0);
  const [dismissed, setDismissed] = useState(false);
  const inputRef = useRef<HTMLTextAreaElement>(null);
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
    if (!value || sending) return;
    if (await onSend(value)) setText("");
    inputRef.current?.focus();
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
          aria-describedby={typedCommand ? `${id}-usage` : undefined}
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
        <button type="submit" disabled={sending || !text.trim()}>
          {t("member.send")}
        </button>
      </div>
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
