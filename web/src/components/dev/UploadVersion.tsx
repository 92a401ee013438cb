// Upload a version: the raw .wasm component, chosen with the file picker or
// dropped on the zone, sent as `application/wasm` with its progress shown.
import { useId, useState, type DragEvent } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { ApiError, type components } from "../../api/client";
import { ErrorNote } from "../ErrorNote";
import { getJson, postBytes } from "./raw";

type Version = components["schemas"]["VersionView"];
type Upload = components["schemas"]["UploadView"];

/** A large component compiles after the upload's answer (`202`): follow the
 * upload until it is a version, or throw the reason it was refused. */
async function settled(slug: string, answer: Version | Upload): Promise<Version> {
  let current = answer;
  while ("id" in current && current.status === "compiling") {
    await new Promise((r) => setTimeout(r, 1000));
    current = await getJson<Upload>(
      `/v1/apps/${encodeURIComponent(slug)}/uploads/${encodeURIComponent(current.id)}`,
    );
  }
  if (!("id" in current)) return current;
  if (current.version) return current.version;
  const error = current.error ?? { code: "upload_failed", message: current.status };
  throw new ApiError(422, error.code, error.message, { error });
}

export function UploadVersion({ slug }: { slug: string }) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const inputId = useId();
  const [file, setFile] = useState<File | null>(null);
  const [over, setOver] = useState(false);
  const [progress, setProgress] = useState(0);
  const upload = useMutation({
    mutationFn: async (f: File) => {
      setProgress(0);
      const answer = await postBytes<Version | Upload>(
        `/v1/apps/${encodeURIComponent(slug)}/versions`,
        f,
        "application/wasm",
        setProgress,
      );
      return settled(slug, answer);
    },
    onSuccess: () => {
      setFile(null);
      void client.invalidateQueries({ queryKey: ["dev-app", slug] });
      void client.invalidateQueries({ queryKey: ["dev-apps"] });
    },
  });

  const choose = (f: File | null | undefined) => {
    upload.reset();
    setFile(f ?? null);
  };
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    choose(e.dataTransfer.files?.[0]);
  };

  return (
    <form
      className="upload"
      onSubmit={(e) => {
        e.preventDefault();
        if (file) upload.mutate(file);
      }}
    >
      <label
        htmlFor={inputId}
        className={`drop-zone${over ? " over" : ""}`}
        data-testid="drop-zone"
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={onDrop}
      >
        {t("dev.upload.drop")}
        <input
          id={inputId}
          type="file"
          accept=".wasm,application/wasm"
          aria-label={t("dev.upload.file")}
          onChange={(e) => choose(e.target.files?.[0])}
        />
      </label>
      {file && (
        <p>
          {t("dev.upload.chosen", { name: file.name, size: formatBytes(file.size) })}
        </p>
      )}
      <div className="row">
        <button type="submit" disabled={!file || upload.isPending}>
          {upload.isPending ? t("dev.upload.uploading") : t("dev.upload.submit")}
        </button>
        {upload.isPending && (
          <span role="status">
            <progress max={1} value={progress} aria-label={t("dev.upload.progress")} />{" "}
            {progress >= 1 ? t("dev.upload.checking") : `${Math.round(progress * 100)}%`}
          </span>
        )}
      </div>
      {upload.isSuccess && (
        <p className="success" role="status">
          {t("dev.upload.done", { version: upload.data.version })}
        </p>
      )}
      <ErrorNote error={upload.error} />
      <p className="muted">{t("dev.upload.hint")}</p>
    </form>
  );
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(2)} MiB`;
}
