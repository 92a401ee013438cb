// The light markup of apps' text blocks (sdk/blocks/src/markup.rs):
// `*bold*`, `_italic_`, `` `code` ``, `<https://...|label>` links and line
// breaks, parsed into React elements. Everything else is text: React escapes
// it, so an app's `<script>` or `<b>` is shown as typed, never as markup.
import type { ReactNode } from "react";

export type Node =
  | { kind: "text"; text: string }
  | { kind: "bold" | "italic"; children: Node[] }
  | { kind: "code"; text: string }
  | { kind: "link"; href: string; children: Node[] };

/** A web address the markup may link to (`https:` or `http:` with a host). */
export function safeHref(url: string): string | null {
  const lower = url.toLowerCase();
  const rest = lower.startsWith("https://")
    ? lower.slice(8)
    : lower.startsWith("http://")
      ? lower.slice(7)
      : null;
  if (rest === null || rest === "" || /^[/?#]/.test(rest)) return null;
  if (/[\s"\u0000-\u001f\u007f]/.test(url)) return null;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return null;
    return parsed.href;
  } catch {
    return null;
  }
}

const isSpace = (c: string | undefined) => c === undefined || /\s/.test(c);
const isWord = (c: string | undefined) => c !== undefined && /[\p{L}\p{N}]/u.test(c);

/** Where the emphasis opened at `at` (`*` or `_`) closes, or -1. */
function closing(text: string, at: number): number {
  const mark = text[at];
  if (isWord(text[at - 1]) || isSpace(text[at + 1])) return -1;
  for (let j = at + 2; j < text.length; j++) {
    const c = text[j];
    if (c === "\n") return -1;
    if (c === mark && !isSpace(text[j - 1]) && !isWord(text[j + 1])) return j;
  }
  return -1;
}

/** Parse a text block's markup. */
export function parseMarkup(text: string, depth = 0): Node[] {
  const out: Node[] = [];
  let plain = "";
  const flush = () => {
    if (plain) out.push({ kind: "text", text: plain });
    plain = "";
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === "`") {
      const end = text.indexOf("`", i + 1);
      if (end > i + 1) {
        flush();
        out.push({ kind: "code", text: text.slice(i + 1, end) });
        i = end + 1;
        continue;
      }
    } else if (c === "<" && /[A-Za-z]/.test(text[i + 1] ?? "")) {
      const rest = text.slice(i + 1);
      const stop = rest.search(/[<>\n]/);
      if (stop >= 0 && rest[stop] === ">") {
        const inner = rest.slice(0, stop);
        const bar = inner.indexOf("|");
        const url = bar >= 0 ? inner.slice(0, bar) : inner;
        const label = bar >= 0 ? inner.slice(bar + 1) : inner;
        const href = safeHref(url);
        if (href && label.trim()) {
          flush();
          out.push({
            kind: "link",
            href,
            children: depth < 4 ? parseMarkup(label, depth + 1) : [{ kind: "text", text: label }],
          });
          i += stop + 2;
          continue;
        }
      }
    } else if ((c === "*" || c === "_") && depth < 4) {
      const end = closing(text, i);
      if (end > 0) {
        flush();
        out.push({
          kind: c === "*" ? "bold" : "italic",
          children: parseMarkup(text.slice(i + 1, end), depth + 1),
        });
        i = end + 1;
        continue;
      }
    }
    plain += c;
    i += 1;
  }
  flush();
  return out;
}

function render(nodes: Node[], key = ""): ReactNode[] {
  return nodes.map((node, n) => {
    const k = `${key}${n}`;
    switch (node.kind) {
      case "text":
        return node.text;
      case "code":
        return <code key={k}>{node.text}</code>;
      case "bold":
        return <strong key={k}>{render(node.children, `${k}.`)}</strong>;
      case "italic":
        return <em key={k}>{render(node.children, `${k}.`)}</em>;
      case "link":
        return (
          <a key={k} href={node.href} target="_blank" rel="noopener noreferrer nofollow ugc">
            {render(node.children, `${k}.`)}
          </a>
        );
    }
  });
}

/** An app's text with its light markup as React elements (line breaks kept by CSS). */
export function Markup({ text }: { text: string }) {
  return <>{render(parseMarkup(text))}</>;
}
