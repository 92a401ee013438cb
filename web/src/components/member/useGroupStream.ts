// The group's live stream (`GET /v1/groups/{gid}/stream`, server-sent
// events) read with @microsoft/fetch-event-source: it sends the bearer token
// and reconnects with `Last-Event-ID`, so the host replays what was missed.
import { useEffect, useRef, useState } from "react";
import { fetchEventSource } from "@microsoft/fetch-event-source";
import { getToken } from "../../api/client";
import type { DirectView, MessageView } from "./types";

export type StreamEvent =
  | { type: "message"; message: MessageView }
  | { type: "message-updated"; message: MessageView }
  | { type: "message-deleted"; id: number }
  | { type: "direct-message"; direct: DirectView };

/** `limited`: refused with 429 (`too_many_streams`, too many open tabs); retried slowly. */
export type StreamState = "connecting" | "live" | "retrying" | "limited" | "closed";

/** An answer that will not change by asking again (e.g. 401, 404). */
class Fatal extends Error {}
/** 429: too many streams open; asking again later may work. */
class TooMany extends Error {}

/** How long to wait after a 429 before trying again (ms). */
const LIMITED_RETRY = 15_000;

/**
 * Open the group's stream once `after` (the newest message already read) is
 * known; `onEvent` gets each event, `onReconnect` is told when the stream
 * opened again after a break. Closed when the component unmounts.
 */
export function useGroupStream(
  gid: string,
  after: number | null,
  onEvent: (event: StreamEvent) => void,
  onReconnect?: () => void,
): StreamState {
  const [state, setState] = useState<StreamState>("connecting");
  const handler = useRef(onEvent);
  handler.current = onEvent;
  const reconnected = useRef(onReconnect);
  reconnected.current = onReconnect;
  const ready = after !== null;
  const start = useRef(after);
  if (start.current === null) start.current = after;

  useEffect(() => {
    if (!ready) return;
    const controller = new AbortController();
    const from = start.current ?? 0;
    let opened = false;
    setState("connecting");
    void fetchEventSource(`/v1/groups/${encodeURIComponent(gid)}/stream?after=${from}`, {
      signal: controller.signal,
      openWhenHidden: true,
      headers: { Authorization: `Bearer ${getToken() ?? ""}` },
      async onopen(response) {
        const type = response.headers.get("content-type") ?? "";
        if (response.ok && type.startsWith("text/event-stream")) {
          setState("live");
          if (opened) reconnected.current?.();
          opened = true;
          return;
        }
        if (response.status === 429) throw new TooMany("too_many_streams");
        if (response.status >= 400 && response.status < 500) {
          throw new Fatal(`stream refused: ${response.status}`);
        }
        throw new Error(`stream not open: ${response.status}`);
      },
      onmessage(ev) {
        if (!ev.data) return;
        let data: unknown;
        try {
          data = JSON.parse(ev.data);
        } catch {
          return;
        }
        switch (ev.event) {
          case "message":
            handler.current({ type: "message", message: data as MessageView });
            break;
          case "message-updated":
            handler.current({ type: "message-updated", message: data as MessageView });
            break;
          case "message-deleted":
            handler.current({ type: "message-deleted", id: (data as { id: number }).id });
            break;
          case "direct-message":
            handler.current({ type: "direct-message", direct: data as DirectView });
            break;
        }
      },
      onclose() {
        // The host ended the stream (shutdown): connect again.
        setState("retrying");
        throw new Error("stream closed");
      },
      onerror(err) {
        if (err instanceof Fatal) {
          setState("closed");
          throw err;
        }
        if (err instanceof TooMany) {
          setState("limited");
          return LIMITED_RETRY;
        }
        setState("retrying");
        return 2000;
      },
    }).catch(() => setState("closed"));
    return () => controller.abort();
  }, [gid, ready]);

  return state;
}
