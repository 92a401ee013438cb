// Which app answers each command in the group.
import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { api, ok } from "../../api/client";
import { ErrorNote } from "../ErrorNote";
import { keys } from "./queries";

export function Commands({ gid }: { gid: string }) {
  const { t } = useTranslation();
  const commands = useQuery({
    queryKey: keys.commands(gid),
    queryFn: () => ok(api.GET("/v1/groups/{gid}/commands", { params: { path: { gid } } })),
  });
  if (commands.isPending) return <p className="muted">{t("common.loading")}</p>;
  if (commands.error) return <ErrorNote error={commands.error} />;
  if (commands.data.length === 0) return <p className="muted">{t("owner.commands.empty")}</p>;
  return (
    <div className="table-wrap">
      <table>
        <thead>
          <tr>
            <th>{t("owner.commands.command")}</th>
            <th>{t("owner.commands.app")}</th>
            <th>{t("owner.commands.description")}</th>
          </tr>
        </thead>
        <tbody>
          {commands.data.map((c) => (
            <tr key={c.command}>
              <td>
                <code>/{c.command}</code>
              </td>
              <td>
                {c.app} <small>{c.version}</small>{" "}
                {!c.enabled && <span className="badge bad">{t("owner.status.disabled")}</span>}
              </td>
              <td>{c.description}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
