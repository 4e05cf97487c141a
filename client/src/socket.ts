// One JSON socket, from open to close: answers pings, refreshes its token in band before it expires, and gives up
// on a socket that went silent (no ping within the server's interval + timeout). Reconnecting is connection.ts's.
import { STREAM_EVENT_TYPES, type ClientFrame, type EventFrame, type ServerFrame } from './protocol.ts';
import { claimsOf, type Tokens } from './token.ts';

/** What the client needs of a WebSocket: the browser's, or Node's `ws` package. */
// The handlers take `any` so that both the DOM's and ws's event types fit without a cast.
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((event: any) => void) | null;
  onmessage: ((event: any) => void) | null;
  onclose: ((event: any) => void) | null;
  onerror: ((event: any) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

const OPEN = 1;
/** Our own code for "we gave up on this socket" (never sent by a server). */
export const DEAD_SOCKET = 4999;

export interface SocketOptions {
  url: string;
  token: string;
  cursor: string | undefined;
  WebSocket: WebSocketConstructor;
  tokens: Tokens;
  /** Close and reconnect when nothing arrived for this long (connecting included). */
  deadAfterMs: number;
}

export interface SocketEvents {
  connected(frame: Extract<ServerFrame, { type: 'connected' }>): void;
  event(frame: EventFrame): void;
  /** `connected`: whether `connected` had arrived; `retryAfterMs` from a RATE_LIMIT error before a 4429. */
  closed(info: { code: number; connected: boolean; retryAfterMs?: number }): void;
}

export interface SocketHandle {
  /** False when the socket is not open (the caller picks another way). */
  send(frame: ClientFrame): boolean;
  close(): void;
}

export function openSocket(options: SocketOptions, events: SocketEvents): SocketHandle {
  const query = new URLSearchParams({ token: options.token });
  if (options.cursor !== undefined) query.set('cursor', options.cursor);
  const ws = new options.WebSocket(`${options.url.replace(/^http/, 'ws')}/api/v1/ws?${query}`);
  let connected = false;
  let done = false;
  let retryAfterMs: number | undefined;
  let expiresAtMs = (claimsOf(options.token).exp ?? 0) * 1000;
  let deadTimer: ReturnType<typeof setTimeout> | undefined;
  let refreshTimer: ReturnType<typeof setTimeout> | undefined;

  const send = (frame: ClientFrame) => {
    if (done || ws.readyState !== OPEN) return false;
    ws.send(JSON.stringify(frame));
    return true;
  };

  function finish(code: number) {
    if (done) return;
    done = true;
    clearTimeout(deadTimer);
    clearTimeout(refreshTimer);
    ws.onopen = ws.onmessage = ws.onclose = null;
    // Kept as a no-op: Node's `ws` throws an 'error' event nobody listens to (closing while still connecting).
    ws.onerror = () => {};
    events.closed({ code, connected, retryAfterMs });
  }

  function alive() {
    clearTimeout(deadTimer);
    deadTimer = setTimeout(() => {
      // A silent socket may never finish a close handshake either: report it closed now, let it go in the background.
      finish(DEAD_SOCKET);
      ws.close();
    }, options.deadAfterMs);
  }

  function scheduleRefresh() {
    clearTimeout(refreshTimer);
    if (!expiresAtMs) return;
    const remaining = expiresAtMs - Date.now();
    // Well before expiry (a quarter of the remaining life, at most a minute), so a slow callback still makes it.
    refreshTimer = setTimeout(refresh, Math.max(0, remaining - Math.min(60_000, remaining / 4)));
  }

  async function refresh() {
    const token = await options.tokens.fresh().catch(() => undefined);
    const exp = token ? (claimsOf(token).exp ?? 0) * 1000 : 0;
    if (token && exp > expiresAtMs && send({ type: 'auth:refresh', data: { token } })) return;
    // No newer token yet: ask again shortly; at expiry the server closes with 4401 and the reconnect asks anyway.
    if (!done && Date.now() < expiresAtMs) refreshTimer = setTimeout(refresh, Math.max(1000, (expiresAtMs - Date.now()) / 4));
  }

  // From the start, not from `open`: a connection attempt that never completes (a black-holed network) is given
  // up on just the same.
  alive();
  ws.onopen = alive;
  ws.onerror = () => {};
  ws.onclose = (event: { code: number }) => finish(event.code);
  ws.onmessage = (event: { data: unknown }) => {
    alive();
    let frame: ServerFrame;
    try {
      frame = JSON.parse(String(event.data)) as ServerFrame;
    } catch {
      return;
    }
    switch (frame.type) {
      case 'connected':
        connected = true;
        scheduleRefresh();
        return events.connected(frame);
      case 'ping':
        send({ type: 'pong', timestamp: frame.timestamp });
        return;
      case 'auth:refreshed':
        expiresAtMs = Date.parse(frame.data.expiresAt);
        scheduleRefresh();
        return;
      case 'error':
        retryAfterMs = frame.error.retryAfterMs;
        return;
      case 'pong':
        return;
      default:
        // Unknown frame types are ignored, as the protocol asks of clients.
        if (STREAM_EVENT_TYPES.includes(frame.type)) events.event(frame);
    }
  };

  return {
    send,
    close() {
      finish(1000);
      ws.close(1000);
    },
  };
}
