// Receiving connections of the load generator, one function per transport, all reduced to (type, data) events:
//   json     the service's legacy JSON socket (and the ws-floor): /api/v1/ws?token=, answers `ping` with `pong`
//   gql      graphql-ws on /graphql, `subscription { messageNew { … } }` reported as type 'message:new' (or other
//            subscriptions, each reported under the event type it is given)
//   socketio Socket.IO 4 client, websocket transport only, JWT in `auth.token`
import { createClient } from 'graphql-ws';
import { io as ioClient } from 'socket.io-client';
import WebSocket from 'ws';
import { HOST } from './lib.ts';

export type Transport = 'json' | 'gql' | 'socketio';
export type OnEvent = (type: string, data: any) => void;

export interface Conn {
  /** The user id the server reports (the JSON socket's `connected` frame), else the token's `sub`. */
  userId: number;
  close(): void;
}

const CONNECT_TIMEOUT_MS = 15_000;

/** graphql-ws subscriptions a connection opens, by the event type their results are reported as. */
export type GqlSubscriptions = Record<string, string>;
export const MESSAGE_NEW: GqlSubscriptions = { 'message:new': 'subscription { messageNew { id senderId receiverId content createdAt } }' };

function withTimeout<T>(what: string, executor: (resolve: (v: T) => void, reject: (e: Error) => void) => () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let cleanup = () => {};
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${what}: no answer within ${CONNECT_TIMEOUT_MS} ms`));
    }, CONNECT_TIMEOUT_MS);
    cleanup = executor(
      (v) => (clearTimeout(timer), resolve(v)),
      (e) => (clearTimeout(timer), cleanup(), reject(e)),
    );
  });
}

function connectJson(port: number, token: string, userId: number, on: OnEvent, _subs?: GqlSubscriptions): Promise<Conn> {
  return withTimeout('json socket', (resolve, reject) => {
    const ws = new WebSocket(`ws://${HOST}:${port}/api/v1/ws?token=${token}`);
    let open = false;
    ws.on('message', (raw) => {
      const msg = JSON.parse(String(raw));
      if (msg.type === 'connected') {
        open = true;
        resolve({ userId: Number(msg.userId ?? userId), close: () => ws.terminate() });
      } else if (msg.type === 'ping') ws.send(JSON.stringify({ type: 'pong', timestamp: msg.timestamp }));
      else if (msg.type === 'error') on('error', msg.error);
      else on(msg.type, msg.data);
    });
    ws.on('error', (e) => (open ? on('error', e.message) : reject(e)));
    ws.on('close', (code) => (open ? on('close', code) : reject(new Error(`json socket closed with ${code}`))));
    return () => ws.terminate();
  });
}

function connectGraphqlWs(port: number, token: string, userId: number, on: OnEvent, subs: GqlSubscriptions = MESSAGE_NEW): Promise<Conn> {
  return withTimeout('graphql-ws', (resolve, reject) => {
    let open = false;
    const client = createClient({
      url: `ws://${HOST}:${port}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${token}` },
      lazy: false,
      retryAttempts: 0,
      onNonLazyError: (e) => (open ? on('error', String(e)) : reject(e instanceof Error ? e : new Error(`graphql-ws: ${describe(e)}`))),
      on: {
        connected: () => {
          open = true;
          resolve({ userId, close: () => void client.dispose() });
        },
        closed: (e) => open && on('close', describe(e)),
      },
    });
    for (const [type, query] of Object.entries(subs)) {
      client.subscribe<Record<string, unknown>>(
        { query },
        {
          // A result holds one root field: report its value as the event's data.
          next: (r) => (r.data ? on(type, Object.values(r.data)[0]) : on('error', r.errors)),
          error: (e) => on('error', describe(e)),
          complete: () => {},
        },
      );
    }
    return () => void client.dispose();
  });
}

function connectSocketIo(port: number, token: string, userId: number, on: OnEvent, _subs?: GqlSubscriptions): Promise<Conn> {
  return withTimeout('socket.io', (resolve, reject) => {
    const socket = ioClient(`http://${HOST}:${port}`, {
      transports: ['websocket'],
      auth: { token },
      reconnection: false,
      forceNew: true,
      timeout: CONNECT_TIMEOUT_MS,
    });
    socket.once('connect', () => resolve({ userId, close: () => socket.disconnect() }));
    socket.once('connect_error', (e) => reject(e));
    socket.on('disconnect', (reason) => on('close', reason));
    socket.onAny((event: string, data: unknown) => on(event, data));
    return () => socket.disconnect();
  });
}

function describe(e: unknown): string {
  if (e && typeof e === 'object' && 'code' in e) return `close ${(e as { code: number }).code} ${(e as { reason?: string }).reason ?? ''}`;
  return e instanceof Error ? e.message : String(e);
}

const CONNECTORS: Record<Transport, typeof connectJson> = { json: connectJson, gql: connectGraphqlWs, socketio: connectSocketIo };

export interface ConnectSpec {
  userId: number;
  token: string;
  on: OnEvent;
  /** gql only: what to subscribe to (default `messageNew`). */
  subscriptions?: GqlSubscriptions;
}

export interface ConnectReport {
  conns: Conn[];
  failed: number;
  firstError?: string;
  ms: number;
}

/**
 * Opens every connection in `specs` with at most `concurrency` handshakes in flight. No handshake starts after
 * `budgetMs`; the ones left count as failed.
 */
export async function connectMany(transport: Transport, port: number, specs: ConnectSpec[], concurrency: number, budgetMs = 120_000): Promise<ConnectReport> {
  const t0 = performance.now();
  const conns: Conn[] = [];
  let failed = 0;
  let firstError: string | undefined;
  let next = 0;
  const worker = async () => {
    while (next < specs.length) {
      if (performance.now() - t0 > budgetMs) {
        failed += specs.length - next;
        firstError ??= `connect budget of ${budgetMs / 1000} s exhausted`;
        next = specs.length;
        break;
      }
      const s = specs[next++];
      try {
        conns.push(await CONNECTORS[transport](port, s.token, s.userId, s.on, s.subscriptions));
      } catch (e) {
        failed++;
        firstError ??= describe(e);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, specs.length) }, worker));
  return { conns, failed, firstError, ms: performance.now() - t0 };
}
