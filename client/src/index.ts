// connect(): the client the requirements' `websocket.ts` would be. Events come from the socket or, when it cannot
// be opened, from polling, as one stream; actions go over REST (which works either way), typing over the socket.
import { DEFAULT_BACKOFF, type BackoffOptions } from './backoff.ts';
import { Connection, type ConnectionState } from './connection.ts';
import { Emitter } from './emitter.ts';
import { Http, type Fetch } from './http.ts';
import { Outbox } from './outbox.ts';
import { Poller } from './poller.ts';
import type { Inbox, Message, MessagePage, MessagesSeen, NotificationPage, NotificationsSeen, Presence, StreamEvents } from './protocol.ts';
import type { WebSocketConstructor } from './socket.ts';
import { Stream, type ResyncEvent } from './stream.ts';
import { claimsOf, Tokens, type GetToken } from './token.ts';
import { TypingThrottle } from './typing.ts';

export type * from './protocol.ts';
export type { ConnectionState } from './connection.ts';
export type { ResyncEvent } from './stream.ts';
export type { WebSocketConstructor, WebSocketLike } from './socket.ts';
export { HttpError } from './http.ts';

export interface ConnectOptions {
  /** The service's base URL, e.g. `https://api.example.com` or, in a page it serves, `location.origin`. */
  url: string;
  /** A valid token for the user; asked again before it expires and whenever the server refuses it. */
  getToken: GetToken;
  /** Defaults to the global one (browsers, Node ≥ 22); pass `ws`'s on Node 20. */
  WebSocket?: WebSocketConstructor;
  fetch?: Fetch;
  /** Socket attempts in a row that fail before polling starts (default 3). */
  pollAfterFailures?: number;
  backoff?: Partial<BackoffOptions>;
  /** No frame for this long means the socket is dead (default 45 s: the server pings every 30 s, waits 10 s). */
  deadSocketMs?: number;
  /** Plain polling intervals, when the server has no /api/v1/events (defaults 3 s and 5 s). */
  inboxPollMs?: number;
  notificationsPollMs?: number;
  /** How long a long poll may wait on the server (default 25 s). */
  longPollSeconds?: number;
  /** Per-request timeout for REST calls (default 10 s). */
  requestTimeoutMs?: number;
  /** At most one "typing" per conversation this often (default 3 s). */
  typingIntervalMs?: number;
}

export type ClientEvents = StreamEvents & { resync: ResyncEvent; state: ConnectionState };

export interface Client {
  readonly state: ConnectionState;
  /** Typed handlers; returns the function that removes the handler. */
  on<K extends keyof ClientEvents>(type: K, handler: (payload: ClientEvents[K]) => void): () => void;
  /** Stored once, even when retried; waits in the outbox while the server is unreachable; sent in call order. */
  sendMessage(to: number, content: string): Promise<Message>;
  /** Marks messages from `conversationWith` as seen (all unread ones without `messageIds`). */
  markSeen(conversationWith: number, messageIds?: number[]): Promise<MessagesSeen>;
  markNotificationsSeen(notificationIds?: number[]): Promise<NotificationsSeen & { unseenCount: number }>;
  /** Call on every keystroke: throttled to one "typing" per interval. */
  typing(conversationWith: number): void;
  /** The user stopped typing (input blurred or cleared); sending a message does this too. */
  stopTyping(conversationWith: number): void;
  /** REST reads for filling the lists (at start and on `resync`). */
  inbox(): Promise<Inbox>;
  conversation(withUserId: number, before?: number): Promise<MessagePage>;
  notifications(before?: number): Promise<NotificationPage>;
  /**
   * Watch the presence of these users (at most 200; replaces the previous list): `presence:update` for each now and
   * on every change, kept up across reconnects; while polling, read once when polling starts and on each call.
   */
  watchPresence(userIds: number[]): void;
  /** Sends waiting in the outbox. */
  readonly pendingSends: number;
  close(): void;
}

export function connect(options: ConnectOptions): Client {
  const WebSocketImpl = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (!WebSocketImpl) throw new TypeError('No WebSocket implementation: pass one as options.WebSocket (e.g. the ws package on Node 20)');
  const url = options.url.replace(/\/$/, '');
  const backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
  const emitter = new Emitter<ClientEvents>();
  const tokens = new Tokens(options.getToken);
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  const http = new Http(url, tokens, fetchImpl, options.requestTimeoutMs ?? 10_000);
  const stream = new Stream(emitter);
  const outbox = new Outbox(http, backoff);

  const connection: Connection = new Connection({
    url,
    WebSocket: WebSocketImpl,
    tokens,
    stream,
    backoff,
    emitter,
    pollAfterFailures: options.pollAfterFailures ?? 3,
    deadAfterMs: options.deadSocketMs ?? 45_000,
    startPolling: () =>
      new Poller({
        http,
        stream,
        me: async () => Number(claimsOf(await tokens.get()).sub),
        inboxMs: options.inboxPollMs ?? 3000,
        notificationsMs: options.notificationsPollMs ?? 5000,
        waitSeconds: options.longPollSeconds ?? 25,
        backoff,
        health: (ok) => connection.pollHealth(ok),
      }),
  });
  let watched: number[] = [];
  function subscribePresence(userIds: number[]) {
    if (!userIds.length || connection.send({ type: 'presence:subscribe', data: { userIds } })) return;
    void http.request<{ presence: Presence[] }>('GET', `/api/v1/presence?ids=${userIds.join(',')}`).then(
      ({ presence }) => presence.forEach((p) => emitter.emit('presence:update', p)),
      () => undefined,
    );
  }

  emitter.on('state', (state) => {
    if (state === 'open' || state === 'polling') outbox.retryNow();
    // A new socket watches nothing yet; polling has no pushes: read the state once.
    if (state === 'open' || state === 'polling') subscribePresence(watched);
  });

  // Typing goes over the socket; while polling, the same GraphQL mutation every transport shares carries it.
  const typing = new TypingThrottle((conversationWith, isTyping) => {
    if (connection.send({ type: 'message:typing', data: { conversationWith, isTyping } })) return;
    void graphql('mutation($w: Int!, $t: Boolean!) { setTyping(conversationWith: $w, isTyping: $t) }', { w: conversationWith, t: isTyping });
  }, options.typingIntervalMs ?? 3000);

  async function graphql(query: string, variables: Record<string, unknown>) {
    const token = await tokens.get().catch(() => undefined);
    if (!token) return;
    await fetchImpl(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    }).catch(() => undefined);
  }

  /** Every action of the user counts as activity: a socket closed as idle comes back. */
  const active = () => connection.resume();

  return {
    get state() {
      return connection.state;
    },
    get pendingSends() {
      return outbox.size;
    },
    on: (type, handler) => emitter.on(type, handler),
    sendMessage(to, content) {
      active();
      typing.stop(to);
      return outbox.send(to, content);
    },
    markSeen(conversationWith, messageIds) {
      active();
      return http.request('POST', '/api/v1/messages/seen', { body: { conversationWith, messageIds } });
    },
    markNotificationsSeen(notificationIds) {
      active();
      return http.request('POST', '/api/v1/notifications/seen', { body: { notificationIds } });
    },
    typing(conversationWith) {
      active();
      typing.start(conversationWith);
    },
    stopTyping: (conversationWith) => typing.stop(conversationWith),
    watchPresence(userIds) {
      const next = [...new Set(userIds)];
      const dropped = watched.filter((id) => !next.includes(id));
      if (dropped.length) connection.send({ type: 'presence:unsubscribe', data: { userIds: dropped } });
      watched = next;
      subscribePresence(next.filter((id) => !dropped.includes(id)));
    },
    inbox: () => http.request('GET', '/api/v1/messages/inbox?limit=100'),
    conversation: (withUserId, before) => http.request('GET', `/api/v1/messages/?with=${withUserId}&limit=100${before ? `&before=${before}` : ''}`),
    notifications: (before) => http.request('GET', `/api/v1/notifications/?limit=100${before ? `&before=${before}` : ''}`),
    close() {
      connection.close();
      outbox.discard(new Error('Client closed'));
    },
  };
}
