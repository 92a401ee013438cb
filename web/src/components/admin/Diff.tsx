import { useTranslation } from "react-i18next";
import type { ReviewDiff } from "./types";

const KINDS = ["capabilities", "imports", "exports", "commands", "actions"] as const;
type Kind = (typeof KINDS)[number];

function added(diff: ReviewDiff, kind: Kind): string[] {
  return diff[`${kind}_added`] ?? [];
}
function removed(diff: ReviewDiff, kind: Kind): string[] {
  return diff[`${kind}_removed`] ?? [];
}

/**
 * What a version changes against the previous approved one: for capabilities,
 * imports, exports, commands and actions, what it adds (green "+") and removes
 * (red "−").
 */
export function Diff({ diff }: { diff: ReviewDiff }) {
  const { t } = useTranslation();
  return (
    <div className="diff">
      {KINDS.map((kind) => {
        const plus = added(diff, kind);
        const minus = removed(diff, kind);
        return (
          <section
            key={kind}
            className="card"
            aria-labelledby={`diff-${kind}`}
            data-testid={`diff-${kind}`}
          >
            <h3 id={`diff-${kind}`}>{t(`admin.review.kinds.${kind}`)}</h3>
            {plus.length === 0 && minus.length === 0 ? (
              <p className="muted">{t("admin.review.unchanged")}</p>
            ) : (
              <ul>
                {plus.map((name) => (
                  <li key={`+${name}`} className="diff-add">
                    <span className="sign" aria-hidden="true">
                      +
                    </span>
                    <span className="visually-hidden">{t("admin.review.added")} </span>
                    {name}
                  </li>
                ))}
                {minus.map((name) => (
                  <li key={`-${name}`} className="diff-remove">
                    <span className="sign" aria-hidden="true">
                      −
                    </span>
                    <span className="visually-hidden">{t("admin.review.removed")} </span>
                    {name}
                  </li>
                ))}
              </ul>
            )}
          </section>
        );
      })}
    </div>
  );
}

/** Whether the diff changes anything. */
export function diffIsEmpty(diff: ReviewDiff): boolean {
  return KINDS.every((k) => added(diff, k).length === 0 && removed(diff, k).length === 0);
}
