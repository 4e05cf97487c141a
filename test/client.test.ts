// The first-party client (client/) against real servers over real sockets: events, pings, dead sockets, restarts,
// token refusal and refresh, polling when upgrades are refused, the outbox and retries that must not double a message.
import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Client, type ClientEvents, type ConnectOptions, type Message } from '../client/src/index.ts';
import { backoffDelay } from '../client/src/backoff.ts';
import { Inbox, mintToken, registerUser, withTimeout, type TestUser } from './support/graphql.ts';
import { startProxy, type TestProxy } from './support/proxy.ts';
import { startServer, tempDir, type TestServer } from './support/server.ts';
import { rm } from 'node:fs/promises';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';

/** Tests that start two PGlite services (a few seconds each, more on a busy machine). */
const TWO_SERVICES = 90_000;

const FAST = { backoff: { baseMs: 50, maxMs: 400 }, inboxPollMs: 200, notificationsPollMs: 300, longPollSeconds: 2 } satisfies Partial<ConnectOptions>;

interface Recorded {
  client: Client;
  events<K extends keyof ClientEvents>(type: K): Inbox<ClientEvents[K]>;
  /** Every state the client went through, in order. */
  states: string[];
  messages: Message[];
  untilState(state: Client['state'], timeoutMs?: number): Promise<void>;
}

const open: Client[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const client of open.splice(0)) client.close();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function startClient(url: string, user: TestUser, options: Partial<ConnectOptions> = {}): Recorded {
  const client = connect({ url, getToken: () => user.token, WebSocket, ...FAST, ...options });
  open.push(client);
  const inboxes = new Map<keyof ClientEvents, Inbox<unknown>>();
  const events = <K extends keyof ClientEvents>(type: K) => {
    if (!inboxes.has(type)) {
      const inbox = new Inbox<unknown>();
      inboxes.set(type, inbox);
      client.on(type, (payload) => inbox.push(payload));
    }
    return inboxes.get(type) as Inbox<ClientEvents[K]>;
  };
  const states: string[] = [];
  const messages: Message[] = [];
  client.on('state', (state) => states.push(state));
  client.on('message:new', (message) => messages.push(message));
  for (const type of ['message:new', 'notification:new', 'resync', 'message:typing', 'message:seen'] as const) events(type);
  return {
    client,
    events,
    states,
    messages,
    untilState(state, timeoutMs = 10_000) {
      if (client.state === state) return Promise.resolve();
      return withTimeout(
        new Promise<void>((resolve) => {
          const off = client.on('state', (now) => {
            if (now === state) {
              off();
              resolve();
            }
          });
        }),
        timeoutMs,
        `state ${state}`,
      );
    },
  };
}

async function server(options: Parameters<typeof startServer>[0] = {}): Promise<TestServer> {
  const s = await startServer(options);
  cleanups.push(() => s.close());
  return s;
}

async function proxyTo(target: string): Promise<TestProxy> {
  const p = await startProxy(target);
  cleanups.push(() => p.close());
  return p;
}

async function rest<T = any>(url: string, user: TestUser, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${user.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: (await res.json()) as T };
}

const send = (url: string, from: TestUser, to: TestUser, content: string) =>
  rest<Message>(url, from, 'POST', '/api/v1/messages/', { receiverId: to.id, content });

async function conversation(url: string, user: TestUser, other: TestUser): Promise<Message[]> {
  const { body } = await rest<{ messages: Message[] }>(url, user, 'GET', `/api/v1/messages/?with=${other.id}&limit=100`);
  return body.messages.reverse();
}

/** Waits until `recorded` has received `count` messages (or times out). */
async function untilMessages(recorded: Recorded, count: number, timeoutMs = 15_000): Promise<Message[]> {
  const inbox = recorded.events('message:new');
  while (recorded.messages.length < count) await inbox.next(timeoutMs);
  return recorded.messages;
}

async function follow(url: string, follower: TestUser, followee: TestUser) {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${follower.token}` },
    body: JSON.stringify({ query: 'mutation($u: Int!) { followUser(userId: $u) { id } }', variables: { u: followee.id } }),
  });
  expect(res.status).toBe(200);
}

describe('client against a real server', () => {
  let s: TestServer;
  beforeAll(async () => {
    // Pings every 100 ms with 1 s to answer: a client that did not answer would be closed within the 3 s the first
    // test watches (the margin is for a loaded CI machine, where an answer can take a few hundred ms).
    s = await startServer({ env: { WS_PING_INTERVAL_MS: '100', WS_PONG_TIMEOUT_MS: '1000' } });
  });
  afterAll(() => s.close());

  it('delivers events, answers pings and reports its state', async () => {
    const alice = await registerUser(s.url, 'alice');
    const bob = await registerUser(s.url, 'bob');
    const a = startClient(s.url, alice);
    await a.untilState('open');
    const sent = await send(s.url, bob, alice, 'hello alice');
    expect(await a.events('message:new').next()).toEqual(sent.body);
    await follow(s.url, bob, alice);
    const notification = await a.events('notification:new').next();
    expect(notification).toMatchObject({ type: 'follow', actor: { id: bob.id } });
    // Several ping intervals pass: a client that did not answer would have been closed with 4408 and reconnected.
    const closed = new Promise((resolve) => a.client.on('state', resolve));
    expect(await Promise.race([closed, new Promise((resolve) => setTimeout(() => resolve('still open'), 3000))])).toBe('still open');
    expect(a.states).toEqual(['open']);
  });

  it('watches presence: each user now, then their changes', async () => {
    const alice = await registerUser(s.url, 'alice');
    const bob = await registerUser(s.url, 'bob');
    await follow(s.url, alice, bob);
    const a = startClient(s.url, alice);
    const updates = a.events('presence:update');
    await a.untilState('open');
    a.client.watchPresence([bob.id]);
    expect(await updates.next()).toEqual({ userId: bob.id, status: 'offline', online: false, lastActiveAt: null });
    const b = startClient(s.url, bob);
    await b.untilState('open');
    expect(await updates.next()).toEqual({ userId: bob.id, status: 'online', online: true, lastActiveAt: null });
  });

  it('throttles typing, stops it on send, and carries seen marks both ways', async () => {
    const alice = await registerUser(s.url, 'alice');
    const bob = await registerUser(s.url, 'bob');
    const a = startClient(s.url, alice);
    const b = startClient(s.url, bob);
    await Promise.all([a.untilState('open'), b.untilState('open')]);
    for (let i = 0; i < 5; i++) a.client.typing(bob.id);
    expect(await b.events('message:typing').next()).toEqual({ userId: alice.id, conversationWith: bob.id, isTyping: true });
    const message = await a.client.sendMessage(bob.id, 'typed it');
    expect(await b.events('message:typing').next()).toEqual({ userId: alice.id, conversationWith: bob.id, isTyping: false });
    expect(b.events('message:typing').pending).toEqual([]);
    expect(await b.events('message:new').next()).toEqual(message);

    expect(await b.client.markSeen(alice.id)).toMatchObject({ messageIds: [message.id] });
    expect(await a.events('message:seen').next()).toMatchObject({ messageIds: [message.id], seenBy: bob.id });

    await follow(s.url, alice, bob);
    await b.events('notification:new').next();
    const unseen = b.events('notification:unseen_count');
    await b.client.markNotificationsSeen();
    while ((await unseen.next()).count !== 0);
  });

  it('asks getToken again after a 4401 and a 401 instead of retrying the refused token', async () => {
    const alice = await registerUser(s.url, 'alice');
    const bob = await registerUser(s.url, 'bob');
    const given: string[] = [];
    const a = startClient(s.url, alice, {
      getToken: () => {
        given.push(given.length === 0 ? 'not-a-token' : alice.token);
        return given.at(-1)!;
      },
    });
    // The socket (4401) and this request (401) both meet the bad token; the app is asked once more, not twice.
    const inbox = await a.client.inbox();
    await a.untilState('open');
    expect(inbox).toEqual({ conversations: [], unreadCount: 0, nextCursor: null });
    expect(given).toEqual(['not-a-token', alice.token]);
    expect((await a.client.sendMessage(bob.id, 'after a refusal')).senderId).toBe(alice.id);
    expect(given).toHaveLength(2);
  });

  it('rejects a send the server refuses (4xx) at once, and the outbox goes on with the next', async () => {
    const alice = await registerUser(s.url, 'alice');
    const bob = await registerUser(s.url, 'bob');
    const a = startClient(s.url, alice);
    const refused = a.client.sendMessage(alice.id, 'to myself');
    const next = a.client.sendMessage(bob.id, 'to bob');
    await expect(refused).rejects.toMatchObject({ name: 'HttpError', status: 400, code: 'INVALID_MESSAGE' });
    expect((await next).content).toBe('to bob');
    expect(a.client.pendingSends).toBe(0);
  });

  it('refreshes its token in band before it expires, keeping the same socket', async () => {
    const alice = await registerUser(s.url, 'alice');
    const bob = await registerUser(s.url, 'bob');
    let asked = 0;
    const a = startClient(s.url, alice, {
      getToken: () => {
        asked++;
        return mintToken({ sub: String(alice.id) }, { expiresIn: '3s' });
      },
    });
    await a.untilState('open');
    // Past the first token's expiry: without auth:refresh the server would have closed the socket with 4401.
    await new Promise((resolve) => setTimeout(resolve, 4000));
    expect(asked).toBeGreaterThanOrEqual(2);
    expect(a.states).toEqual(['open']);
    const sent = await send(s.url, bob, alice, 'still here');
    expect(await a.events('message:new').next()).toEqual(sent.body);
  });

  it('backs off with full jitter: between zero and the capped exponential', () => {
    const options = { baseMs: 500, maxMs: 30_000 };
    expect(backoffDelay(0, options, () => 0)).toBe(0);
    expect(backoffDelay(3, options, () => 0.999_999)).toBeCloseTo(4000, -1);
    expect(backoffDelay(20, options, () => 0.999_999)).toBeCloseTo(30_000, -1);
    expect(backoffDelay(2, options, () => 0.5)).toBe(1000);
  });

  it('gives up on a socket that went silent and reconnects', async () => {
    const quiet = await server({ env: { WS_PING_INTERVAL_MS: '200', WS_PONG_TIMEOUT_MS: '10000' } });
    const proxy = await proxyTo(quiet.url);
    const alice = await registerUser(quiet.url, 'alice');
    const bob = await registerUser(quiet.url, 'bob');
    const a = startClient(proxy.url, alice, { deadSocketMs: 800 });
    await a.untilState('open');
    proxy.silenceSockets();
    await a.untilState('connecting', 3000);
    await a.untilState('open');
    const sent = await send(quiet.url, bob, alice, 'on the new socket');
    expect(await a.events('message:new').next()).toEqual(sent.body);
  });

  for (const mode of ['long polling of GET /api/v1/events', 'plain polling of inbox and notifications'] as const) {
    it(`falls back to ${mode} when upgrades are refused, and back to the socket: one stream, nothing doubled`, async () => {
      // Plain polling is what the client does against a server without the events endpoint: the proxy hides it.
      const plain = mode.startsWith('plain');
      const proxy = await proxyTo(s.url);
      proxy.refuseUpgrades = true;
      const events = { count: 0 };
      proxy.notFound((req) => {
        const isEvents = req.url!.startsWith('/api/v1/events');
        if (isEvents) events.count++;
        return plain && isEvents;
      });
      const alice = await registerUser(s.url, 'alice');
      const bob = await registerUser(s.url, 'bob');
      const a = startClient(proxy.url, alice, { pollAfterFailures: 2 });
      await a.untilState('polling');
      expect(proxy.refused).toBeGreaterThanOrEqual(2);
      expect(events.count).toBeGreaterThan(0);
      const first = await send(s.url, bob, alice, 'while polling 1');
      const second = await send(s.url, bob, alice, 'while polling 2');
      expect(await untilMessages(a, 2)).toEqual([first.body, second.body]);
      await follow(s.url, bob, alice);
      expect(await a.events('notification:new').next(10_000)).toMatchObject({ type: 'follow', actor: { id: bob.id } });

      proxy.refuseUpgrades = false;
      await a.untilState('open');
      const third = await send(s.url, bob, alice, 'on the socket again');
      await untilMessages(a, 3);
      // Anything the socket repeats (the offline queue of a server without resumable streams) would land after it.
      const fourth = await send(s.url, bob, alice, 'and one more');
      expect(await untilMessages(a, 4)).toEqual([first.body, second.body, third.body, fourth.body]);
    });
  }

  it('gives up on connection attempts that never complete (a black-holed network) and reports offline', async () => {
    // Accepts TCP connections and never answers anything on them.
    const held = new Set<Socket>();
    const hole = createNetServer((socket) => held.add(socket));
    await new Promise<void>((resolve) => hole.listen(0, '127.0.0.1', resolve));
    cleanups.push(async () => {
      for (const socket of held) socket.destroy();
      await new Promise((resolve) => hole.close(resolve));
    });
    const alice = await registerUser(s.url, 'alice');
    const url = `http://127.0.0.1:${(hole.address() as AddressInfo).port}`;
    const a = startClient(url, alice, { deadSocketMs: 300, requestTimeoutMs: 300, pollAfterFailures: 2 });
    await a.untilState('offline', 5000);
    expect(held.size).toBeGreaterThanOrEqual(2);
    expect(a.states).toEqual(['offline']);
  });

  it(
    'reconnects at once after 1012, to the instance the balancer sends it to, however long its backoff',
    async () => {
      const first = await startServer({ backend: 'pglite' });
      const other = await server({ backend: 'pglite' });
      const proxy = await proxyTo(first.url);
      const alice = await registerUser(first.url, 'alice');
      // The same user on the other instance (its own database here): the same id, and the same secret signs tokens.
      expect((await registerUser(other.url, 'alice')).id).toBe(alice.id);
      const a = startClient(proxy.url, alice, { backoff: { baseMs: 60_000, maxMs: 60_000 } });
      const states = a.events('state');
      expect(await states.next()).toBe('open');
      proxy.target = other.url;
      await first.close();
      expect(await states.next(3000)).toBe('connecting');
      expect(await states.next(3000)).toBe('open');
    },
    TWO_SERVICES,
  );

  it(
    'emits resync when the server cannot resume its cursor, and follows the new stream from there',
    async () => {
      // Two services with databases of their own: the cursor from the first means nothing to the second.
      const first = await startServer({ backend: 'pglite' });
      const other = await server({ backend: 'pglite' });
      const proxy = await proxyTo(first.url);
      const alice = await registerUser(first.url, 'alice');
      const bob = await registerUser(first.url, 'bob');
      const a = startClient(proxy.url, alice);
      await a.untilState('open');
      for (const content of ['one', 'two', 'three']) await send(first.url, bob, alice, content);
      await untilMessages(a, 3);

      // The same user ids on the other service, and a token it accepts (same secret).
      const aliceThere = await registerUser(other.url, 'alice');
      const bobThere = await registerUser(other.url, 'bob');
      expect([aliceThere.id, bobThere.id]).toEqual([alice.id, bob.id]);
      proxy.target = other.url;
      await first.close();
      expect(await a.events('resync').next(10_000)).toEqual({ reason: 'not-resumed' });
      const there = await send(other.url, bobThere, aliceThere, 'on the other service');
      expect((await untilMessages(a, 4)).at(-1)).toEqual(there.body);
    },
    TWO_SERVICES,
  );

  it('stays closed after an idle close (4000) until the app acts again', async () => {
    const idle = await server({ env: { WS_IDLE_TIMEOUT_MS: '300' } });
    const alice = await registerUser(idle.url, 'alice');
    const bob = await registerUser(idle.url, 'bob');
    const a = startClient(idle.url, alice);
    await a.untilState('open');
    await a.untilState('offline', 3000);
    a.client.typing(bob.id);
    await a.untilState('open');
  });

  it('reconnects after a server restart mid-stream: nothing sent meanwhile is missing or doubled', async () => {
    const dataDir = await tempDir();
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const first = await startServer({ dataDir });
    const port = Number(new URL(first.url).port);
    const alice = await registerUser(first.url, 'alice');
    const bob = await registerUser(first.url, 'bob');
    const b = startClient(first.url, bob);
    await b.untilState('open');
    const before = await send(first.url, alice, bob, 'before the restart');
    await untilMessages(b, 1);

    await first.close();
    const second = await server({ dataDir, port });
    const during = await send(second.url, alice, bob, 'while bob was away');
    await follow(second.url, alice, bob);
    await b.untilState('open');
    const after = await send(second.url, alice, bob, 'after the restart');
    expect(await untilMessages(b, 3)).toEqual([before.body, during.body, after.body]);
    // Resumed from its cursor: the notification of the gap is replayed, and nothing asks the app to refetch.
    expect(await b.events('notification:new').next()).toMatchObject({ type: 'follow', actor: { id: alice.id } });
    expect(b.events('resync').pending).toEqual([]);
    expect(await conversation(second.url, bob, alice)).toEqual([before.body, during.body, after.body].map((m) => ({ ...m, seen: false })));
  });

  it('holds sends in the outbox while the server is down and flushes them in order', async () => {
    const dataDir = await tempDir();
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const first = await startServer({ dataDir });
    const port = Number(new URL(first.url).port);
    const alice = await registerUser(first.url, 'alice');
    const bob = await registerUser(first.url, 'bob');
    const a = startClient(first.url, alice, { pollAfterFailures: 1 });
    await a.untilState('open');
    await first.close();
    await a.untilState('offline');
    const sends = ['one', 'two', 'three'].map((content) => a.client.sendMessage(bob.id, content));
    expect(a.client.pendingSends).toBe(3);

    const second = await server({ dataDir, port });
    const sent = await withTimeout(Promise.all(sends), 15_000, 'outbox flush');
    expect(sent.map((m) => m.content)).toEqual(['one', 'two', 'three']);
    expect(sent.map((m) => m.id)).toEqual([...sent.map((m) => m.id)].sort((x, y) => x - y));
    expect(a.client.pendingSends).toBe(0);
    expect((await conversation(second.url, bob, alice)).map((m) => m.content)).toEqual(['one', 'two', 'three']);
  });

  it('retries a send whose answer was lost without storing it twice', async () => {
    const proxy = await proxyTo(s.url);
    const alice = await registerUser(s.url, 'alice');
    const bob = await registerUser(s.url, 'bob');
    const b = startClient(s.url, bob);
    await b.untilState('open');
    const a = startClient(proxy.url, alice);
    proxy.loseAnswers(1, (req) => req.method === 'POST' && req.url!.startsWith('/api/v1/messages'));
    const message = await a.client.sendMessage(bob.id, 'exactly once');
    expect(proxy.lost).toBe(1);
    expect(await conversation(s.url, bob, alice)).toEqual([message]);
    expect(await b.events('message:new').next()).toEqual(message);
    const next = await send(s.url, alice, bob, 'next');
    expect(await b.events('message:new').next()).toEqual(next.body);
  });
});
