// The app's failed invocations that left a replay record (issue 16): when,
// which version, the incident the member saw, why. A record downloads as the
// JSON file `qun app replay ID --record FILE --wasm BUILD` runs against.
import { useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { api, ok } from "../../api/client";
import { ErrorNote } from "../ErrorNote";

export function Replays({ slug }: { slug: string }) {
  const { t, i18n } = useTranslation();
  const [failed, setFailed] = useState<unknown>(null);
  const records = useQuery({
    queryKey: ["app-replays", slug],
    queryFn: () =>
      ok(api.GET("/v1/apps/{slug}/replays", { params: { path: { slug }, query: { limit: 50 } } })),
    refetchInterval: 10_000,
  });
  const download = async (id: string) => {
    setFailed(null);
    try {
      const record = await ok(
        api.GET("/v1/apps/{slug}/replays/{id}", { params: { path: { slug, id } } }),
      );
      const blob = new Blob([JSON.stringify(record, null, 2)], { type: "application/json" });
      const url = URL.createObjectURL(blob);
      const a = document.createElement("a");
      a.href = url;
      a.download = `${id}.json`;
      document.body.appendChild(a);
      a.click();
      a.remove();
      URL.revokeObjectURL(url);
    } catch (e) {
      setFailed(e);
    }
  };
  const list = records.data?.records ?? [];
  return (
    <>
      <p className="muted">
        {t("dev.replays.intro")} <code>qun app replay ID --record FILE --wasm BUILD</code>
      </p>
      <ErrorNote error={records.error ?? failed} />
      {records.isPending ? (
        <p className="muted">{t("common.loading")}</p>
      ) : list.length === 0 ? (
        <p className="muted">{t("dev.replays.none")}</p>
      ) : (
        <div className="table-wrap">
          <table data-testid="app-replays">
            <thead>
              <tr>
                <th>{t("dev.replays.when")}</th>
                <th>{t("dev.replays.version")}</th>
                <th>{t("dev.replays.incident")}</th>
                <th>{t("dev.replays.why")}</th>
                <th>{t("dev.replays.replay")}</th>
              </tr>
            </thead>
            <tbody>
              {list.map((r) => (
                <tr key={r.id}>
                  <td>{new Date(r.created_at).toLocaleString(i18n.language)}</td>
                  <td>{r.version}</td>
                  <td>
                    <code>{r.incident}</code>
                  </td>
                  <td className="detail">
                    <span className="badge bad">{r.code}</span>{" "}
                    <details>
                      <summary>{t("dev.replays.calls", { count: r.calls })}</summary>
                      <pre>{r.message}</pre>
                    </details>
                  </td>
                  <td>
                    <button type="button" onClick={() => void download(r.id)}>
                      {t("dev.replays.download")}
                    </button>
                    <br />
                    <code className="command">qun app replay {r.id} --record {r.id}.json --wasm …</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
