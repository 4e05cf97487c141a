// Lossless, resumable streams (docs/protocol.md, "Cursors and resume"): every device resumes from its own cursor
// across reconnects, Redis outages, a killed instance and a restart; long polling sees what a socket sees; sends retried
// with a clientMessageId store and deliver once. Two instances on PostgreSQL and a redis-server the test owns.
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startServer, type TestServer } from './support/server.ts';
import { startProcess } from './support/process.ts';
import { DATABASE_URL, announceSkip } from './support/env.ts';
import { OwnRedis } from './support/redis-server.ts';
import { connectGraphQLWs, gqlOk, registerUser, type GraphQLSocket, type TestUser } from './support/graphql.ts';
import { connectJsonSocket, STATEFUL, type ConnectedSocket, type Frame } from './support/json-socket.ts';
import * as op from './support/operations.ts';
import { encodeCursor } from '../src/events/cursor.ts';

if (!DATABASE_URL) announceSkip('resumable streams across instances and faults', 'DATABASE_URL');

// The periodic repair is a safety net; a long interval here shows that reconnects and holes alone trigger repairs.
const ENV = { WS_PING_INTERVAL_MS: '200', WS_PONG_TIMEOUT_MS: '2000', STREAM_REPAIR_INTERVAL_MS: '60000' };

/** A stateful frame with its cursor put back. */
type Positioned = Frame & { cursor: string };

/** The next `n` stateful frames of a socket (typing, pongs and errors skipped), each with its cursor. */
const taken = new WeakMap<ConnectedSocket, number>();
async function stateful(socket: ConnectedSocket, n: number, timeoutMs = 10_000): Promise<Positioned[]> {
  const frames: Positioned[] = [];
  while (frames.length < n) {
    const frame = await socket.next(undefined, timeoutMs);
    if (!STATEFUL.has(frame.type)) continue;
    const index = taken.get(socket) ?? 0;
    taken.set(socket, index + 1);
    frames.push({ ...frame, cursor: socket.cursors[index]! });
  }
  return frames;
}

/** The backlog and counts a socket got on connecting, with cursors: the first frames of its stream. */
async function opening(socket: ConnectedSocket): Promise<Positioned[]> {
  const backlog = await stateful(socket, socket.backlog.length);
  // connectJsonSocket took the counts already; their cursors follow the backlog's.
  const index = taken.get(socket) ?? 0;
  taken.set(socket, index + 2);
  return [
    ...backlog,
    { type: 'message:unread_count', data: { count: socket.unreadCount }, cursor: socket.cursors[index]! },
    { type: 'notification:unseen_count', data: { count: socket.unseenCount }, cursor: socket.cursors[index + 1]! },
  ];
}

async function rest(server: TestServer, user: TestUser, path: string, body?: unknown) {
  const res = await fetch(`${server.url}/api/v1${path}`, {
    method: body ? 'POST' : 'GET',
    headers: { authorization: `Bearer ${user.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(40_000),
  });
  return { status: res.status, body: (await res.json()) as any };
}

const send = async (server: TestServer, from: TestUser, to: TestUser, content: string) =>
  (await gqlOk(server.url, op.SEND, { to: to.id, c: content }, from.token)).sendMessage;

describe.runIf(DATABASE_URL)('resumable streams', () => {
  let redis: OwnRedis;
  let a: TestServer;
  let b: TestServer;
  const sockets: { close(): Promise<void> }[] = [];
  const children: ChildProcess[] = [];
  const connect = async (server: TestServer, user: TestUser, cursor?: string) => {
    const socket = await connectJsonSocket(server.wsUrl, user, { cursor });
    sockets.push(socket);
    return socket;
  };

  beforeAll(async () => {
    redis = await OwnRedis.start();
    [a, b] = await Promise.all([startServer({ env: { ...ENV, REDIS_URL: redis.url } }), startServer({ env: { ...ENV, REDIS_URL: redis.url } })]);
  });
  afterAll(async () => {
    await Promise.allSettled(sockets.map((s) => s.close()));
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await Promise.allSettled([a?.close(), b?.close()]);
    await redis?.stop();
  });

  it('multi-device: a laptop that was offline resumes from its cursor with every event, in order, then the counts', async () => {
    const [alice, bob] = await Promise.all([registerUser(a.url), registerUser(a.url)]);
    const video = (await gqlOk(b.url, op.CREATE_VIDEO, { t: 'clip' }, bob.token)).createVideo;
    const laptop = await connect(b, bob);
    const [, laptopCounts] = await opening(laptop);
    await laptop.close();
    const phone = await connect(a, bob);
    await opening(phone);

    const m1 = await send(a, alice, bob, 'one');
    const m2 = await send(b, alice, bob, 'two');
    await gqlOk(a.url, op.LIKE, { v: video.id }, alice.token);
    await gqlOk(b.url, op.MARK_SEEN, { w: alice.id, ids: [m1.id] }, bob.token);
    await gqlOk(a.url, op.MARK_NOTIFICATIONS_SEEN, {}, bob.token);
    await gqlOk(b.url, op.FOLLOW, { u: bob.id }, alice.token);
    const live = await stateful(phone, 10);
    expect(live.map((f) => f.type)).toEqual([
      'message:new',
      'message:unread_count',
      'message:new',
      'message:unread_count',
      'notification:new',
      'notification:unseen_count',
      'message:unread_count',
      'notification:seen',
      'notification:unseen_count',
      'notification:new',
    ]);
    expect([live[0]!.data.id, live[2]!.data.id]).toEqual([m1.id, m2.id]);

    const resumed = await connect(b, bob, laptopCounts!.cursor);
    expect(resumed.resumed).toBe(true);
    const replay = await opening(resumed);
    // Exactly what the phone saw live, cursors included, then the current counts.
    expect(replay.slice(0, -2)).toEqual([...live, ...(await stateful(phone, 1))]);
    expect(replay.slice(-2).map((f) => [f.type, f.data.count])).toEqual([
      ['message:unread_count', 1],
      ['notification:unseen_count', 1],
    ]);
  });

  it('answers cursors that cannot be resumed with resumed:false and nothing of anyone else: malformed, foreign, future, too old', async () => {
    const [alice, bob] = await Promise.all([registerUser(a.url), registerUser(a.url)]);
    for (let i = 0; i < 3; i++) await send(a, alice, bob, `m${i}`);
    await send(a, bob, alice, 'for alice');
    const db = new pg.Client({ connectionString: DATABASE_URL });
    await db.connect();
    try {
      // Retention dropped bob's first two events: a cursor before them has a hole after it.
      await db.query('DELETE FROM "StreamEvent" WHERE "userId" = $1 AND "position" <= 2', [bob.id]);
      const unusable = ['garbage', '%%%', encodeCursor(alice.id, 0), encodeCursor(bob.id, 999_999), encodeCursor(bob.id, 0), 'x'.repeat(100)];
      for (const cursor of unusable) {
        const socket = await connect(b, bob, cursor);
        expect(socket.resumed, cursor).toBe(false);
        expect(socket.backlog, cursor).toEqual([]);
        expect([socket.unreadCount, socket.unseenCount]).toEqual([3, 0]);
        await socket.close();
      }
      // The position right before what is left still resumes.
      const socket = await connect(b, bob, encodeCursor(bob.id, 2));
      expect(socket.resumed).toBe(true);
      expect(socket.backlog.map((f) => [f.type, f.data.content ?? f.data.count])).toEqual([
        ['message:new', 'm2'],
        ['message:unread_count', 3],
      ]);
    } finally {
      await db.end();
    }
  });

  it('loses nothing while Redis is down: receivers on the other instance get every event once, in order, without reconnecting', async () => {
    const [alice, bob] = await Promise.all([registerUser(a.url), registerUser(a.url)]);
    const video = (await gqlOk(a.url, op.CREATE_VIDEO, { t: 'clip' }, bob.token)).createVideo;
    const json = await connect(b, bob);
    await opening(json);
    const graphqlWs = await connectGraphQLWs(b.wsUrl, { token: bob.token });
    sockets.push(graphqlWs);
    const items = await graphqlWs.subscribe('subscription { userEvents { cursor event { __typename ... on MessageNew { message { content } } } } }');

    const sent: string[] = [];
    const sendSome = async (n: number) => {
      for (let i = 0; i < n; i++) sent.push((await send(a, alice, bob, `#${sent.length}`)).content);
    };
    await sendSome(5);
    await redis.stop();
    await sendSome(10);
    await gqlOk(a.url, op.LIKE, { v: video.id }, alice.token);
    await redis.start();
    await sendSome(5);

    const frames = await stateful(json, 2 * sent.length + 2, 20_000);
    expect(frames.filter((f) => f.type === 'message:new').map((f) => f.data.content)).toEqual(sent);
    expect(frames.filter((f) => f.type === 'notification:new')).toHaveLength(1);
    expect(new Set(frames.map((f) => f.cursor)).size).toBe(sent.length + 1);
    const contents: string[] = [];
    while (contents.length < sent.length) {
      const item = await items.next(20_000);
      if (item.userEvents.event.__typename === 'MessageNew') contents.push(item.userEvents.event.message.content);
    }
    expect(contents).toEqual(sent);
  });

  it('loses and repeats nothing when an instance is killed or restarted: receivers resume elsewhere with their cursors', { timeout: 90_000 }, async () => {
    const [alice, bob] = await Promise.all([registerUser(a.url), registerUser(a.url)]);
    const child = await startProcess({ REDIS_URL: redis.url, ...ENV });
    children.push(child.process);
    const onChild = await connectJsonSocket(child.wsUrl, bob);
    await opening(onChild);
    const before = [await send(a, alice, bob, 'before 1'), await send(a, alice, bob, 'before 2')];
    const got = await stateful(onChild, 4);
    child.process.kill('SIGKILL');
    expect(await onChild.closeCode(10_000)).toBe(1006);
    const during = [await send(a, alice, bob, 'during 1'), await send(a, alice, bob, 'during 2')];

    const resumed = await connect(a, bob, got.at(-1)!.cursor);
    expect(resumed.resumed).toBe(true);
    const replay = await opening(resumed);
    expect(replay.filter((f) => f.type === 'message:new').map((f) => f.data.id)).toEqual(during.map((m) => m.id));
    expect(before.map((m) => m.id)).toEqual(got.filter((f) => f.type === 'message:new').map((f) => f.data.id));

    // A clean restart (1012) of the instance holding the socket: the same.
    const last = replay.at(-1)!.cursor;
    const closing = a.close();
    expect(await resumed.closeCode(10_000)).toBe(1012);
    await closing;
    const after = await send(b, alice, bob, 'after the restart');
    a = await startServer({ env: { ...ENV, REDIS_URL: redis.url } });
    const again = await connect(b, bob, last);
    expect((await opening(again)).filter((f) => f.type === 'message:new').map((f) => f.data.id)).toEqual([after.id]);
  });

  it('long polling sees exactly what a socket sees, and returns early when an event comes', async () => {
    const [alice, bob] = await Promise.all([registerUser(a.url), registerUser(a.url)]);
    const socket = await connect(b, bob);
    await opening(socket);
    const first = await rest(a, bob, '/events');
    expect(first.status).toBe(200);
    expect(first.body.resumed).toBe(false);
    expect(first.body.events.map((e: Frame) => e.type)).toEqual(['message:unread_count', 'notification:unseen_count']);

    const waiting = rest(a, bob, `/events?after=${first.body.nextCursor}&wait=20`);
    const started = Date.now();
    const m = await send(b, alice, bob, 'wake up');
    const woken = await waiting;
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(woken.body.resumed).toBe(true);
    expect(woken.body.events[0]).toMatchObject({ type: 'message:new', data: { id: m.id } });

    await gqlOk(a.url, op.MARK_SEEN, { w: alice.id }, bob.token);
    await send(a, alice, bob, 'more');
    const live = await stateful(socket, 5);
    const polled: Positioned[] = [];
    for (let cursor = first.body.nextCursor; polled.length < live.length;) {
      const page = await rest(b, bob, `/events?after=${cursor}&limit=2`);
      expect(page.body.resumed).toBe(true);
      polled.push(...page.body.events);
      cursor = page.body.nextCursor;
    }
    expect(polled).toEqual(live);

    expect((await rest(a, bob, '/events?wait=31')).status).toBe(400);
    expect((await rest(a, bob, '/events?limit=0')).status).toBe(400);
  });

  it('stores and delivers a send once however often it is retried with its clientMessageId', async () => {
    const [alice, bob] = await Promise.all([registerUser(a.url), registerUser(a.url)]);
    const socket = await connect(b, bob);
    await opening(socket);
    const body = { receiverId: bob.id, content: 'exactly once', clientMessageId: 'c-123' };
    const answers = await Promise.all(Array.from({ length: 5 }, (_, i) => rest(i % 2 ? a : b, alice, '/messages', body)));
    expect(answers.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
    expect(new Set(answers.map((r) => r.body.id)).size).toBe(1);
    const again = await gqlOk(
      a.url,
      'mutation($to: Int!) { sendMessage(receiverId: $to, content: "exactly once", clientMessageId: "c-123") { id } }',
      { to: bob.id },
      alice.token,
    );
    expect(again.sendMessage.id).toBe(answers[0]!.body.id);
    // The same id from another sender is another message.
    expect((await rest(a, bob, '/messages', { receiverId: alice.id, content: 'mine', clientMessageId: 'c-123' })).status).toBe(201);

    const sentinel = await send(a, alice, bob, 'sentinel');
    const frames = await stateful(socket, 4);
    expect(frames.filter((f) => f.type === 'message:new').map((f) => f.data.id)).toEqual([answers[0]!.body.id, sentinel.id]);
    const history = await rest(a, bob, `/messages?with=${alice.id}`);
    expect(history.body.messages.filter((m: { content: string }) => m.content === 'exactly once')).toHaveLength(1);

    const tooLong = await rest(a, alice, '/messages', { ...body, clientMessageId: 'x'.repeat(65) });
    expect([tooLong.status, tooLong.body.error.code]).toEqual([400, 'INVALID_MESSAGE']);
  });

  it('keeps the last pushed unread count equal to the database when sends race mark-seen', async () => {
    const [alice, bob] = await Promise.all([registerUser(a.url), registerUser(a.url)]);
    const socket = await connect(b, bob);
    await opening(socket);
    for (let round = 0; round < 15; round++) {
      await Promise.all([send(a, alice, bob, `r${round}`), gqlOk(b.url, op.MARK_SEEN, { w: alice.id }, bob.token), send(b, alice, bob, `s${round}`)]);
      const sentinel = await send(a, alice, bob, 'sentinel');
      let last = 0;
      for (;;) {
        const [frame] = await stateful(socket, 1);
        if (frame!.type === 'message:unread_count') last = frame!.data.count;
        if (frame!.type === 'message:new' && frame!.data.id === sentinel.id) break;
      }
      const [count] = await stateful(socket, 1);
      last = count!.data.count;
      const inbox = await rest(a, bob, '/messages/inbox');
      expect(last).toBe(inbox.body.unreadCount);
    }
  });

  it('resumes GraphQL userEvents from a cursor, and starts with Resync when the cursor cannot be resumed', async () => {
    const [alice, bob] = await Promise.all([registerUser(a.url), registerUser(a.url)]);
    const socket = await connect(a, bob);
    const [, counts] = await opening(socket);
    const m = await send(a, alice, bob, 'for graphql');
    const ws: GraphQLSocket = await connectGraphQLWs(b.wsUrl, { token: bob.token });
    sockets.push(ws);
    const query =
      'subscription($after: String) { userEvents(after: $after) { cursor event { __typename ... on MessageNew { message { id } } ... on UnreadMessageCount { count } } } }';
    const resumed = await ws.subscribe(query, { after: counts!.cursor });
    const first = (await resumed.next(5000)).userEvents;
    const live = await stateful(socket, 2);
    expect(first).toEqual({ cursor: live[0]!.cursor, event: { __typename: 'MessageNew', message: { id: m.id } } });
    expect((await resumed.next(5000)).userEvents).toEqual({ cursor: live[1]!.cursor, event: { __typename: 'UnreadMessageCount', count: 1 } });

    const fresh = await ws.subscribe(query, { after: 'not-a-cursor' });
    expect((await fresh.next(5000)).userEvents.event.__typename).toBe('Resync');
  });
});

/** A server in a process of its own (to be killed with SIGKILL), on the test's PostgreSQL. */
describe.runIf(DATABASE_URL)('resumable streams, randomised', () => {
  let redis: OwnRedis;
  let servers: TestServer[];

  beforeAll(async () => {
    redis = await OwnRedis.start();
    servers = await Promise.all([0, 1].map(() => startServer({ env: { ...ENV, REDIS_URL: redis.url } })));
  });
  afterAll(async () => {
    await Promise.allSettled(servers.map((s) => s.close()));
    await redis?.stop();
  });

  it('gives every device, whatever its kind and however often it drops, exactly the committed sequence of its user', { timeout: 90_000 }, async () => {
    const seed = Number(process.env.STREAMS_SEED ?? Date.now() % 100_000);
    console.log(`randomised streams: STREAMS_SEED=${seed}`);
    const random = mulberry32(seed);
    const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
    const server = () => pick(servers);
    const users = await Promise.all([0, 1, 2, 3].map(() => registerUser(servers[0]!.url)));
    const videos = await Promise.all(users.map(async (u) => (await gqlOk(servers[0]!.url, op.CREATE_VIDEO, { t: 'clip' }, u.token)).createVideo));
    const devices = users.flatMap((user) => (['json', 'graphql', 'poll'] as const).map((kind) => new Device(kind, user, server)));
    await Promise.all(devices.map((d) => d.connect()));

    for (let step = 0; step < 80; step++) {
      const [from, to] = [pick(users), pick(users)];
      const action = random();
      if (from === to) continue;
      if (action < 0.45) await send(server(), from, to, `step ${step}`);
      else if (action < 0.6) await gqlOk(server().url, op.MARK_SEEN, { w: to.id }, from.token);
      else if (action < 0.7) await gqlOk(server().url, op.LIKE, { v: videos[users.indexOf(to)]!.id }, from.token);
      else if (action < 0.8) await gqlOk(server().url, op.COMMENT, { v: videos[users.indexOf(to)]!.id, c: `@${from.username} hi` }, to.token);
      else if (action < 0.85) await gqlOk(server().url, op.MARK_NOTIFICATIONS_SEEN, {}, from.token);
      else {
        const device = pick(devices);
        if (device.connected) await device.disconnect();
        else await device.connect();
      }
      for (const device of devices) if (device.kind === 'poll' && device.connected) await device.poll();
    }

    await Promise.all(devices.map((d) => (d.connected ? undefined : d.connect())));
    const db = new pg.Client({ connectionString: DATABASE_URL });
    await db.connect();
    try {
      for (const device of devices) {
        const { rows } = await db.query<{ position: number; events: { kind: string }[] }>(
          'SELECT "position", "events" FROM "StreamEvent" WHERE "userId" = $1 AND "position" > $2 ORDER BY "position"',
          [device.user.id, device.start],
        );
        const committed = rows.flatMap((r) => r.events.map((e) => keyOf(encodeCursor(device.user.id, r.position), e.kind, e))).filter(Boolean);
        await device.until(encodeCursor(device.user.id, rows.at(-1)?.position ?? device.start));
        expect(device.received, `${device.kind} device of user ${device.user.id}`).toEqual(committed);
      }
    } finally {
      await db.end();
      await Promise.all(devices.map((d) => d.disconnect()));
    }
  });
});

/** Stateful events as comparable keys; counts (checked elsewhere) and typing are left out. */
function keyOf(cursor: string, kind: string, event: any): string | undefined {
  switch (kind) {
    case 'messageNew':
    case 'message:new':
      return `${cursor} message:new ${(event.message ?? event.data).id}`;
    case 'messageSeen':
    case 'message:seen':
      return `${cursor} message:seen ${(event.receipt ?? event.data).messageIds}`;
    case 'notificationNew':
    case 'notification:new':
      return `${cursor} notification:new ${(event.notification ?? event.data).id}`;
    case 'notificationSeen':
    case 'notification:seen':
      return `${cursor} notification:seen ${(event.seen ?? event.data).notificationIds}`;
    default:
      return undefined;
  }
}

const GRAPHQL_KINDS: Record<string, string> = {
  MessageNew: 'messageNew',
  MessageSeen: 'messageSeen',
  NotificationNew: 'notificationNew',
  NotificationSeen: 'notificationSeen',
};
const USER_EVENTS = `subscription($after: String) { userEvents(after: $after) { cursor event { __typename
  ... on MessageNew { message { id } } ... on MessageSeen { receipt { messageIds } }
  ... on NotificationNew { notification { id } } ... on NotificationSeen { seen { notificationIds } } } } }`;

/** One device of a user: a JSON socket, a graphql-ws userEvents subscription or a poller, resuming with its cursor. */
class Device {
  received: string[] = [];
  cursor?: string;
  /** The position it first started from: what came before is not its business. */
  start = 0;
  connected = false;
  private stop?: () => Promise<void> | void;
  private server!: TestServer;
  private progress = new Set<() => void>();

  constructor(
    readonly kind: 'json' | 'graphql' | 'poll',
    readonly user: TestUser,
    private readonly choose: () => TestServer,
  ) {}

  private take(cursor: string, key: string | undefined) {
    if (key) this.received.push(key);
    this.cursor = cursor;
    for (const wake of this.progress) wake();
  }

  async connect() {
    this.server = this.choose();
    const first = this.cursor === undefined;
    if (this.kind === 'json') {
      const socket = await connectJsonSocket(this.server.wsUrl, this.user, { cursor: this.cursor });
      if (!first) expect(socket.resumed).toBe(true);
      let index = 0;
      const drain = () => {
        for (let frame = socket.frames.pending[0]; frame; frame = socket.frames.pending[0]) {
          void socket.frames.next();
          if (STATEFUL.has(frame.type)) this.take(socket.cursors[index++]!, keyOf(socket.cursors[index - 1]!, frame.type, frame));
        }
      };
      // The counts of the opening were taken by connectJsonSocket: their cursor is where the backlog ended.
      const backlog = socket.backlog.length;
      for (let i = 0; i < backlog; i++) drain();
      index = backlog + 2;
      this.take(socket.cursors[backlog]!, undefined);
      drain();
      socket.ws.on('message', () => setImmediate(drain));
      this.stop = () => socket.close();
    } else if (this.kind === 'graphql') {
      const ws = await connectGraphQLWs(this.server.wsUrl, { token: this.user.token });
      const items = await ws.subscribe(USER_EVENTS, { after: this.cursor ?? null });
      const drain = async () => {
        for (;;) {
          const { userEvents: item } = await items.next(60_000).catch(() => ({ userEvents: undefined }));
          if (!item) return;
          expect(item.event.__typename).not.toBe('Resync');
          this.take(item.cursor, GRAPHQL_KINDS[item.event.__typename] && keyOf(item.cursor, GRAPHQL_KINDS[item.event.__typename]!, item.event));
        }
      };
      void drain();
      this.stop = () => ws.close();
      // The opening counts come first: their cursor is where a new device starts.
      if (first) await this.until(undefined);
    } else {
      this.stop = undefined;
    }
    this.connected = true;
    if (this.kind === 'poll') await this.poll();
    if (first) this.start = Number(Buffer.from(this.cursor!, 'base64url').toString().split(':')[1]);
  }

  async poll() {
    const res = await fetch(`${this.choose().url}/api/v1/events?limit=7${this.cursor ? `&after=${this.cursor}` : ''}`, {
      headers: { authorization: `Bearer ${this.user.token}` },
      signal: AbortSignal.timeout(10_000),
    });
    const page = (await res.json()) as { resumed: boolean; events: Frame[]; nextCursor: string };
    if (this.cursor) expect(page.resumed).toBe(true);
    for (const frame of page.events) this.take(frame.cursor, keyOf(frame.cursor, frame.type, frame));
    this.cursor = page.nextCursor;
    for (const wake of this.progress) wake();
  }

  async disconnect() {
    this.connected = false;
    await this.stop?.();
  }

  /** Waits until the device has followed its stream up to `cursor` (undefined: until it has any cursor). */
  async until(cursor: string | undefined) {
    const deadline = Date.now() + 20_000;
    while (cursor === undefined ? this.cursor === undefined : this.cursor !== cursor) {
      if (Date.now() > deadline) throw new Error(`${this.kind} device of ${this.user.id} stuck at ${this.cursor}, head ${cursor}`);
      if (this.kind === 'poll') await this.poll();
      else
        await new Promise<void>((resolve) => {
          const wake = () => (this.progress.delete(wake), resolve());
          this.progress.add(wake);
          setTimeout(wake, 200);
        });
    }
  }
}

/** A small seeded PRNG, so a failing run can be repeated with its seed. */
function mulberry32(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
