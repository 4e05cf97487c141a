// A client of the legacy JSON socket for tests: frames land in an Inbox (awaited with timeouts), pings are answered
// unless the test withholds them, and every frame any client received is kept for the schema check.
import WebSocket from 'ws';
import { Inbox, withTimeout } from './graphql.ts';

export interface Frame {
  type: string;
  [key: string]: any;
}

/** Every frame the server sent to any test client in this process, in arrival order. */
export const receivedFrames: Frame[] = [];

/** Frames of the user's stream: each carries a cursor (docs/protocol.md, "Cursors and resume"). */
export const STATEFUL = new Set(['message:new', 'message:seen', 'message:unread_count', 'notification:new', 'notification:seen', 'notification:unseen_count']);

export interface JsonSocket {
  ws: WebSocket;
  /** Every frame but pings, stateful ones without their cursor (checked, then kept in `cursors`). */
  frames: Inbox<Frame>;
  /** The cursor of every stateful frame, in arrival order. */
  cursors: string[];
  /** The `connected` frame's resumed and cursor. */
  resumed?: boolean;
  pings: Inbox<Frame>;
  /** Settles with the close code and reason once the socket closed. */
  closed: Promise<{ code: number; reason: string }>;
  /** Answer pings with a JSON pong (default true). */
  autoPong: boolean;
  send(frame: unknown): void;
  /** The next frame, which must be of `type`. */
  next(type?: string, timeoutMs?: number): Promise<Frame>;
  /** Waits for the close and returns its code. */
  closeCode(timeoutMs?: number): Promise<number>;
  close(): Promise<void>;
}

export interface ConnectOptions {
  /** `query` (default) puts it in ?token=, `header` in Authorization: Bearer. */
  via?: 'query' | 'header';
  /** Resume after this cursor. */
  cursor?: string;
  origin?: string;
  autoPong?: boolean;
}

/** Opens a socket; resolves once the HTTP upgrade succeeded (rejects with the status when it was refused). */
export function openJsonSocket(wsUrl: string, token: string | undefined, options: ConnectOptions = {}): Promise<JsonSocket> {
  const { via = 'query' } = options;
  const params = new URLSearchParams();
  if (token !== undefined && via === 'query') params.set('token', token);
  if (options.cursor !== undefined) params.set('cursor', options.cursor);
  const query = params.size ? `?${params}` : '';
  const headers: Record<string, string> = {};
  if (token !== undefined && via === 'header') headers.authorization = `Bearer ${token}`;
  if (options.origin) headers.origin = options.origin;
  const ws = new WebSocket(`${wsUrl}/api/v1/ws${query}`, { headers });

  const frames = new Inbox<Frame>();
  const pings = new Inbox<Frame>();
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  const socket: JsonSocket = {
    ws,
    frames,
    cursors: [],
    pings,
    closed,
    autoPong: options.autoPong ?? true,
    send: (frame) => ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame)),
    async next(type, timeoutMs = 5000) {
      const frame = await frames.next(timeoutMs);
      if (type && frame.type !== type) throw new Error(`expected ${type}, got ${JSON.stringify(frame)}`);
      return frame;
    },
    async closeCode(timeoutMs = 5000) {
      return (await withTimeout(closed, timeoutMs, 'socket close')).code;
    },
    async close() {
      if (ws.readyState !== WebSocket.CLOSED) ws.close(1000);
      await withTimeout(closed, 5000, 'socket close');
    },
  };
  ws.on('message', (data) => {
    const frame = JSON.parse(data.toString()) as Frame;
    receivedFrames.push(frame);
    if (STATEFUL.has(frame.type)) {
      // Every stateful frame must carry its cursor; typing and control frames none.
      if (typeof frame.cursor !== 'string' || !frame.cursor) throw new Error(`no cursor on ${data.toString()}`);
      socket.cursors.push(frame.cursor);
      const { cursor: _, ...rest } = frame;
      return frames.push(rest as Frame);
    }
    if ('cursor' in frame && frame.type !== 'connected') throw new Error(`unexpected cursor on ${data.toString()}`);
    if (frame.type !== 'ping') return frames.push(frame);
    pings.push(frame);
    if (socket.autoPong) socket.send({ type: 'pong', timestamp: new Date().toISOString() });
  });
  return withTimeout(
    new Promise<JsonSocket>((resolve, reject) => {
      ws.once('open', () => resolve(socket));
      ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode })));
      ws.once('error', reject);
    }),
    5000,
    'json socket open',
  );
}

export interface ConnectedSocket extends JsonSocket {
  unreadCount: number;
  unseenCount: number;
  /** The backlog (replay or offline queue) that came before the counts; also left in `frames`, in order. */
  backlog: Frame[];
}

/**
 * Opens a socket and reads the connection flow up to the counts: connected, the backlog (replay or offline queue)
 * and both counts. The backlog stays in `frames` to be read in order.
 */
export async function connectJsonSocket(wsUrl: string, user: { id: number; token: string }, options?: ConnectOptions): Promise<ConnectedSocket> {
  const socket = await openJsonSocket(wsUrl, user.token, options);
  const connected = await socket.next('connected');
  if (
    connected.userId !== user.id ||
    connected.message !== 'Connected successfully' ||
    typeof connected.resumed !== 'boolean' ||
    typeof connected.cursor !== 'string'
  ) {
    throw new Error(`bad connected frame ${JSON.stringify(connected)}`);
  }
  socket.resumed = connected.resumed;
  // The opening counts are message:unread_count then notification:unseen_count, back to back: the backlog never has
  // those two in a row (each change's count follows its own event).
  const backlog: Frame[] = [];
  for (;;) {
    const frame = await socket.next();
    if (frame.type === 'notification:unseen_count' && backlog.at(-1)?.type === 'message:unread_count') {
      const unread = backlog.pop()!;
      socket.frames.unshift(...backlog);
      return Object.assign(socket, { unreadCount: unread.data.count as number, unseenCount: frame.data.count as number, backlog });
    }
    backlog.push(frame);
  }
}
