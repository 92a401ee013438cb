// A group's timeline: its messages (paged), kept live by the group's stream,
// with app cards to act on, forms in dialogs and the composer.
import { useCallback, useEffect, useMemo, useReducer, useRef, useState } from "react";
import { Link, useParams } from "react-router";
import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { api, ok } from "../api/client";
import { useSession } from "../session";
import { ErrorNote } from "../components/ErrorNote";
import { MessageCard } from "../components/member/MessageCard";
import { Composer } from "../components/member/Composer";
import { FormDialog } from "../components/member/FormDialog";
import { actOn, BACK_PAGE, groupApps, groupMembers, messagesBefore, NEWEST, postMessage } from "../components/member/calls";
import { useGroupStream, type StreamEvent } from "../components/member/useGroupStream";
import type { Acted, FormView, MessageView, Posted, ResponseView } from "../components/member/types";
import "../components/member/member.css";

interface Timeline {
  byId: Map<number, MessageView>;
  deleted: Set<number>;
}

type Action =
  | { type: "upsert"; messages: MessageView[] }
  | { type: "delete"; id: number }
  /**
   * The newest page read afresh (ids `from` to `upTo`): what it covers is
   * replaced; older pages already shown and newer messages (from the
   * stream) are kept.
   */
  | { type: "reset"; messages: MessageView[]; from: number; upTo: number };

function reduce(state: Timeline, action: Action): Timeline {
  if (action.type === "reset") {
    const byId = new Map<number, MessageView>();
    for (const m of action.messages) byId.set(m.id, m);
    for (const [id, m] of state.byId)
      if ((id < action.from || id > action.upTo) && !byId.has(id)) byId.set(id, m);
    return { byId, deleted: state.deleted };
  }
  const byId = new Map(state.byId);
  if (action.type === "delete") {
    byId.delete(action.id);
    const deleted = new Set(state.deleted);
    deleted.add(action.id);
    return { byId, deleted };
  }
  for (const m of action.messages) {
    if (state.deleted.has(m.id)) continue;
    const had = byId.get(m.id);
    // Keep the newest version (an update may arrive before a stale copy).
    if (had && (had.updated_at ?? 0) > (m.updated_at ?? 0)) continue;
    byId.set(m.id, m);
  }
  return { byId, deleted: state.deleted };
}

export function Timeline() {
  const { gid = "" } = useParams();
  return <GroupTimeline key={gid} gid={gid} />;
}

function GroupTimeline({ gid }: { gid: string }) {
  const { t } = useTranslation();
  const { me } = useSession();
  const [timeline, dispatch] = useReducer(reduce, { byId: new Map<number, MessageView>(), deleted: new Set<number>() });
  const [after, setAfter] = useState<number | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  /** Whether there may be messages before the oldest shown. */
  const [earlier, setEarlier] = useState(false);
  const [loadingEarlier, setLoadingEarlier] = useState(false);
  const [form, setForm] = useState<FormView | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [note, setNote] = useState<string | null>(null);
  const [busy, setBusy] = useState<number | null>(null);
  const [sending, setSending] = useState(false);
  const [directs, setDirects] = useState(0);
  const bottom = useRef<HTMLDivElement>(null);

  const group = useQuery({
    queryKey: ["group", gid],
    queryFn: () => ok(api.GET("/v1/groups/{gid}", { params: { path: { gid } } })),
  });
  const members = useQuery({ queryKey: ["members", gid], queryFn: () => groupMembers(gid) });
  const apps = useQuery({ queryKey: ["apps", gid], queryFn: () => groupApps(gid) });

  // Read the newest page, then let the stream carry on from the newest id.
  useEffect(() => {
    let cancelled = false;
    messagesBefore(gid, NEWEST)
      .then((page) => {
        if (cancelled) return;
        dispatch({ type: "upsert", messages: page });
        setEarlier(page.length >= BACK_PAGE);
        setAfter(page.length > 0 ? page[page.length - 1].id : 0);
      })
      .catch((e) => {
        if (!cancelled) setLoadError(e);
      });
    return () => {
      cancelled = true;
    };
  }, [gid]);

  // After the stream reconnected, changes and deletions made meanwhile are
  // not replayed: read the newest page afresh.
  const onReconnect = useCallback(() => {
    messagesBefore(gid, NEWEST)
      .then((page) => {
        if (page.length === 0) return;
        const from = page.length >= BACK_PAGE ? page[0].id : 0;
        dispatch({ type: "reset", messages: page, from, upTo: page[page.length - 1].id });
      })
      .catch(() => {});
  }, [gid]);

  const onEvent = useCallback((event: StreamEvent) => {
    switch (event.type) {
      case "message":
      case "message-updated":
        dispatch({ type: "upsert", messages: [event.message] });
        break;
      case "message-deleted":
        dispatch({ type: "delete", id: event.id });
        break;
      case "direct-message":
        setDirects((n) => n + 1);
        break;
    }
  }, []);
  const live = useGroupStream(gid, after, onEvent, onReconnect);

  const messages = useMemo(
    () => [...timeline.byId.values()].sort((a, b) => a.id - b.id),
    [timeline.byId],
  );
  // Follow the newest message (not when earlier pages are added above).
  const newest = messages.length > 0 ? messages[messages.length - 1].id : 0;
  useEffect(() => {
    bottom.current?.scrollIntoView?.({ block: "end" });
  }, [newest]);

  async function loadEarlier() {
    const oldest = messages.length > 0 ? messages[0].id : NEWEST;
    setLoadingEarlier(true);
    setLoadError(null);
    try {
      const page = await messagesBefore(gid, oldest);
      dispatch({ type: "upsert", messages: page });
      setEarlier(page.length >= BACK_PAGE);
    } catch (e) {
      setLoadError(e);
    } finally {
      setLoadingEarlier(false);
    }
  }

  const names = useMemo(() => {
    const map = new Map<string, string>();
    for (const m of members.data ?? []) map.set(m.user_id, m.display_name || m.name);
    return map;
  }, [members.data]);
  const appNames = useMemo(() => {
    const map = new Map<string, string>();
    for (const a of apps.data ?? []) map.set(a.id, a.app);
    return map;
  }, [apps.data]);

  function show(response: ResponseView) {
    if (response.type === "form") setForm(response.form);
    else if (response.type === "post" || response.type === "private")
      dispatch({ type: "upsert", messages: [response.message] });
  }

  function acted(mid: number, result: Acted) {
    if (result.message) dispatch({ type: "upsert", messages: [result.message] });
    else if (mid > 0) dispatch({ type: "delete", id: mid });
    show(result.response);
    const data = result.data;
    if (typeof data === "string" && data) setNote(data);
    else if (data && typeof data === "object" && typeof (data as { message?: unknown }).message === "string")
      setNote((data as { message: string }).message);
  }

  async function onElement(mid: number, ref: string, value?: string) {
    setActionError(null);
    setNote(null);
    setBusy(mid);
    try {
      acted(mid, await actOn(gid, mid, ref, value));
    } catch (e) {
      setActionError(e);
    } finally {
      setBusy(null);
    }
  }

  async function onSend(text: string, files: string[]): Promise<boolean> {
    setActionError(null);
    setNote(null);
    setSending(true);
    try {
      const posted: Posted = await postMessage(gid, text, files);
      dispatch({ type: "upsert", messages: posted.messages });
      show(posted.response);
      return true;
    } catch (e) {
      setActionError(e);
      return false;
    } finally {
      setSending(false);
    }
  }

  const g = group.data as { id: string; name: string; owner_id: string; time_zone: string } | undefined;
  const zone = g?.time_zone ?? "UTC";
  const liveLabel =
    live === "live" ? t("member.live") : live === "closed" || live === "limited" ? t("member.offline") : t("member.connecting");

  return (
    <section className="timeline" aria-labelledby="group-title">
      <header className="row timeline-head">
        <h1 id="group-title">{g?.name ?? t("member.group")}</h1>
        <span className={`badge live-${live}`} role="status" data-testid="live">
          {liveLabel}
        </span>
        {g && me && g.owner_id === me.id && <Link to={`/groups/${encodeURIComponent(gid)}/apps`}>{t("member.apps")}</Link>}
        {directs > 0 && (
          <Link to="/messages">{t("member.newDirects", { count: directs })}</Link>
        )}
      </header>
      {live === "limited" && (
        <p className="error" role="status">
          {t("member.tooManyStreams")}
        </p>
      )}
      <ErrorNote error={group.error ?? loadError} />
      {earlier && (
        <p className="load-earlier">
          <button type="button" className="secondary" disabled={loadingEarlier} onClick={() => void loadEarlier()}>
            {loadingEarlier ? t("common.loading") : t("member.loadEarlier")}
          </button>
        </p>
      )}
      <div className="messages" aria-live="polite" aria-relevant="additions text">
        {after === null && !loadError && <p className="muted">{t("common.loading")}</p>}
        {after !== null && messages.length === 0 && <p className="muted">{t("member.noMessages")}</p>}
        {messages.map((m) => {
          const isApp = !m.user_id;
          const author = m.user_id
            ? (names.get(m.user_id) ?? m.user_id)
            : m.installation_id
              ? (appNames.get(m.installation_id) ?? t("member.app"))
              : t("member.app");
          return (
            <MessageCard
              key={m.id}
              message={m}
              author={author}
              isApp={isApp}
              members={members.data}
              busy={busy === m.id}
              onElement={(ref, value) => void onElement(m.id, ref, value)}
            />
          );
        })}
        <div ref={bottom} />
      </div>
      {note && (
        <p className="success" role="status">
          {note}
        </p>
      )}
      <ErrorNote error={actionError} />
      <Composer gid={gid} onSend={onSend} sending={sending} />
      {form && (
        <FormDialog
          gid={gid}
          form={form}
          zone={zone}
          members={members.data ?? []}
          onClose={() => setForm(null)}
          onDone={(result) => {
            setForm(null);
            acted(0, result);
          }}
        />
      )}
    </section>
  );
}
