import { useTranslation } from "react-i18next";
import { Blocks, LegacyCardView, type OnElement } from "./Blocks";
import type { DirectView, MemberView, MessageView } from "./types";

/** When, in the reader's language: the time today, else the date and time. */
export function When({ ms }: { ms: number }) {
  const { i18n } = useTranslation();
  const date = new Date(ms);
  const today = new Date().toDateString() === date.toDateString();
  const text = today
    ? date.toLocaleTimeString(i18n.language, { hour: "2-digit", minute: "2-digit" })
    : date.toLocaleString(i18n.language, { dateStyle: "medium", timeStyle: "short" });
  return <time dateTime={date.toISOString()}>{text}</time>;
}

/** The body of a message or direct message: its blocks, else its 0.1 card, else its text. */
export function MessageBody({
  message,
  onElement,
  members,
  busy,
  appText,
}: {
  message: Pick<MessageView, "blocks" | "card" | "text">;
  onElement?: OnElement;
  members?: MemberView[];
  busy?: boolean;
  /** The text is an app's (a fallback); a member's text is always plain. */
  appText?: boolean;
}) {
  if (message.blocks && message.blocks.length > 0) {
    // A member's message with attachments: a text block (their words,
    // plain) and the files.
    return <Blocks blocks={message.blocks} onElement={onElement} members={members} busy={busy} plain={!appText} />;
  }
  if (message.card) return <LegacyCardView card={message.card} onElement={onElement} busy={busy} />;
  return <p className={appText ? "block-text" : "block-text plain"}>{message.text ?? ""}</p>;
}

/** One message of a timeline, as a card. */
export function MessageCard({
  message,
  author,
  isApp,
  onElement,
  members,
  busy,
}: {
  message: MessageView;
  author: string;
  isApp: boolean;
  onElement?: OnElement;
  members?: MemberView[];
  busy?: boolean;
}) {
  const { t } = useTranslation();
  return (
    <article
      className={message.private ? "card private message" : "card message"}
      data-testid="message"
      data-message-id={message.id}
      aria-label={t("member.messageFrom", { name: author })}
    >
      <header className="message-head row">
        <strong className="author">{author}</strong>
        {isApp && <span className="badge">{t("member.app")}</span>}
        <small>
          <When ms={message.created_at} />
          {message.updated_at ? ` · ${t("member.edited")}` : ""}
        </small>
        {message.private && <span className="badge private-label">{t("member.onlyYou")}</span>}
      </header>
      <MessageBody message={message} onElement={onElement} members={members} busy={busy} appText={isApp} />
    </article>
  );
}

/** A direct message an app sent. */
export function DirectCard({ message, from }: { message: DirectView; from: string }) {
  return (
    <article className="card message" data-testid="direct-message">
      <header className="message-head row">
        <strong className="author">{from}</strong>
        <small>
          <When ms={message.created_at} />
        </small>
      </header>
      <MessageBody message={message} appText />
    </article>
  );
}
