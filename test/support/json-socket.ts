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

export interface JsonSocket {
  ws: WebSocket;
  /** Every frame but pings. */
  frames: Inbox<Frame>;
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
  origin?: string;
  autoPong?: boolean;
}

/** Opens a socket; resolves once the HTTP upgrade succeeded (rejects with the status when it was refused). */
export function openJsonSocket(wsUrl: string, token: string | undefined, options: ConnectOptions = {}): Promise<JsonSocket> {
  const { via = 'query' } = options;
  const query = token !== undefined && via === 'query' ? `?token=${encodeURIComponent(token)}` : '';
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
}

/** Opens a socket and reads the connection flow's first three frames: connected and both counts. */
export async function connectJsonSocket(wsUrl: string, user: { id: number; token: string }, options?: ConnectOptions): Promise<ConnectedSocket> {
  const socket = await openJsonSocket(wsUrl, user.token, options);
  const connected = await socket.next('connected');
  if (connected.userId !== user.id || connected.message !== 'Connected successfully') throw new Error(`bad connected frame ${JSON.stringify(connected)}`);
  const counts: Record<string, number> = {};
  for (let i = 0; i < 2; i++) {
    const frame = await socket.next();
    counts[frame.type] = frame.data.count;
  }
  if (!('message:unread_count' in counts && 'notification:unseen_count' in counts)) throw new Error(`expected both counts, got ${JSON.stringify(counts)}`);
  return Object.assign(socket, { unreadCount: counts['message:unread_count']!, unseenCount: counts['notification:unseen_count']! });
}
