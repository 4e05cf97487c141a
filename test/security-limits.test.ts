// Security limits of issue 8, each provoked for real: stopped-typing floods (5), URLs other users' apps display (7),
// sliding message limits (8), per-user socket and per-socket subscription caps (9), login timing and per-account
// throttling (12), and a Redis that hangs instead of failing (13).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { createClient } from 'graphql-ws';
import { startServer, type TestServer } from './support/server.ts';
import { DATABASE_URL, REDIS_URL, announceSkip } from './support/env.ts';
import {
  connectGraphQLWs,
  gql,
  gqlErrorCode,
  gqlOk,
  mintToken,
  registerUser,
  uniqueName,
  openEventStream,
  Inbox,
  type GraphQLSocket,
} from './support/graphql.ts';
import { connectJsonSocket, openJsonSocket, type JsonSocket } from './support/json-socket.ts';
import { OwnRedis } from './support/redis-server.ts';
import { eventually } from './support/eventually.ts';
import { scrape } from './support/metrics.ts';
import { createSharedStore } from '../src/domain/shared-store.ts';
import { createConnections } from '../src/domain/connections.ts';
import { createLogger } from '../src/observability/logger.ts';
import * as op from './support/operations.ts';

const shared = Boolean(DATABASE_URL && REDIS_URL);
if (!shared) announceSkip('security limits across two instances', 'DATABASE_URL and REDIS_URL');

const sleepUntil = (time: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, time - Date.now())));

describe.runIf(shared)('across two instances sharing Redis', () => {
  let servers: TestServer[] = [];
  const closers: (() => Promise<unknown> | void)[] = [];
  const env = {
    REDIS_URL: REDIS_URL!,
    RATE_LIMIT_MESSAGES_PER_MIN: '3',
    RATE_LIMIT_WINDOW_MS: '2000',
    TYPING_TIMEOUT_MS: '1000',
    MAX_SOCKETS_PER_USER: '3',
    MAX_SUBSCRIPTIONS_PER_SOCKET: '5',
  };
  const a = () => servers[0]!;
  const b = () => servers[1]!;
  const track = <T extends { close(): Promise<unknown> | void }>(thing: T): T => (closers.push(() => thing.close()), thing);

  beforeAll(async () => {
    servers = await Promise.all([startServer({ env }), startServer({ env })]);
  });
  afterAll(async () => {
    await Promise.allSettled(closers.map((close) => close()));
    await Promise.all(servers.map((s) => s.close()));
  });

  // Item 5: a stop with no active start reaches no one, and a start ends with exactly one stop.
  it('relays no stopped-typing flood: 2,000 stops without a start reach no one, and each start ends once', async () => {
    const [alice, bob] = await Promise.all([registerUser(a().url), registerUser(a().url)]);
    const bobTyping = await track(await connectGraphQLWs(b().wsUrl, { token: bob.token })).subscribe(op.SUB_TYPING);
    const aliceSocket = track(await connectJsonSocket(a().wsUrl, alice));
    const dropped = async (server: TestServer) => (await scrape(server.url))('rt_typing_stops_dropped_total');
    const before = await dropped(a());

    const typing = (isTyping: boolean) => aliceSocket.send({ type: 'message:typing', data: { conversationWith: bob.id, isTyping } });
    for (let i = 0; i < 2000; i++) typing(false);
    // Frames are handled in order: once the start arrives, every stop before it was handled, and none came through.
    typing(true);
    expect((await bobTyping.next(15_000)).typing).toEqual({ userId: alice.id, conversationWith: bob.id, isTyping: true });
    expect(await dropped(a())).toBe(before + 2000);

    // The start reached instance A; the stops reach instance B: the first one ends the start, the rest are dropped.
    for (let i = 0; i < 20; i++) await gqlOk(b().url, op.SET_TYPING, { w: bob.id, t: false }, alice.token);
    expect((await bobTyping.next()).typing.isTyping).toBe(false);
    // A's expiry timer finds its start ended and stays silent; a start on B expires on its own, once.
    const started = Date.now();
    await gqlOk(b().url, op.SET_TYPING, { w: bob.id, t: true }, alice.token);
    expect((await bobTyping.next()).typing.isTyping).toBe(true);
    expect((await bobTyping.next(3000)).typing.isTyping).toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    // A stop after the expiry has nothing to end either.
    await gqlOk(a().url, op.SET_TYPING, { w: bob.id, t: false }, alice.token);
    typing(true);
    expect((await bobTyping.next()).typing.isTyping).toBe(true);
    expect(bobTyping.pending).toHaveLength(0);
  });

  // Item 8: a log of each sender's sends over the last window, shared by the instances.
  it('lets no window-long span hold more sends than the limit, across a window edge and across instances', async () => {
    const [alice, bob] = await Promise.all([registerUser(a().url), registerUser(a().url)]);
    const send = async (i: number) => {
      const result = await gql(servers[i % 2]!.url, op.SEND, { to: bob.id, c: `m${i}` }, alice.token);
      return result.errors
        ? { code: result.errors[0]!.extensions!.code, retryAfterMs: result.errors[0]!.extensions!.retryAfterMs! }
        : { code: 'ok', retryAfterMs: 0 };
    };
    expect((await send(0)).code).toBe('ok');
    // Taken after the first send was counted, so that every deadline below has it on the safe side.
    const t0 = Date.now();
    await sleepUntil(t0 + 1000);
    const second = [await send(1), await send(2), await send(3)];
    expect(second.map((r) => r.code)).toEqual(['ok', 'ok', 'RATE_LIMIT']);
    // The next slot frees when the first send leaves the window, about a second from now.
    expect(second[2]!.retryAfterMs).toBeGreaterThan(0);
    expect(second[2]!.retryAfterMs).toBeLessThanOrEqual(1000);

    // Past the first send's window: a fixed window would start afresh and take three more; one slot is free.
    await sleepUntil(t0 + 2150);
    const third = [await send(4), await send(5), await send(6)];
    expect(third.map((r) => r.code)).toEqual(['ok', 'RATE_LIMIT', 'RATE_LIMIT']);
    // retryAfterMs tells when the next send goes through.
    await new Promise((resolve) => setTimeout(resolve, third[2]!.retryAfterMs + 50));
    expect((await send(7)).code).toBe('ok');
  });

  it('does not count sends to users that do not exist against the quota', async () => {
    const [alice, bob] = await Promise.all([registerUser(a().url), registerUser(a().url)]);
    for (let i = 0; i < 5; i++)
      expect(await gqlErrorCode(servers[i % 2]!.url, op.SEND, { to: 2_000_000_000 - i, c: 'anyone?' }, alice.token)).toBe('NOT_FOUND');
    for (let i = 0; i < 3; i++) await gqlOk(servers[i % 2]!.url, op.SEND, { to: bob.id, c: `m${i}` }, alice.token);
    expect(await gqlErrorCode(a().url, op.SEND, { to: bob.id, c: 'one too many' }, alice.token)).toBe('RATE_LIMIT');
  });

  // Item 9: open sockets and event streams per user, counted in Redis across instances.
  it('caps open connections per user across instances and kinds, refusing with 4429, and frees slots on close', async () => {
    const carol = await registerUser(a().url);
    const jsonOnA = await connectJsonSocket(a().wsUrl, carol);
    const wsOnB = await connectGraphQLWs(b().wsUrl, { token: carol.token });
    const sseOnA = await openEventStream(a().url, carol.token);
    closers.push(
      () => jsonOnA.close(),
      () => wsOnB.close(),
      () => sseOnA.close(),
    );
    expect(sseOnA.first).toEqual({ data: { unreadMessageCount: 0 } });
    expect((await scrape(a().url))('rt_active_connections', { transport: 'sse' })).toBe(1);

    // A fourth, of any kind, on either instance, is refused.
    const jsonOnB = await openJsonSocket(b().wsUrl, carol.token);
    expect((await jsonOnB.next('error')).error).toMatchObject({ code: 'RATE_LIMIT', retryAfterMs: expect.any(Number) });
    expect(await jsonOnB.closeCode()).toBe(4429);
    await expect(connectGraphQLWs(a().wsUrl, { token: carol.token })).rejects.toMatchObject({ code: 4429 });
    const sseOnB = await openEventStream(b().url, carol.token);
    sseOnB.close();
    expect(sseOnB.first.errors?.[0]?.extensions.code).toBe('RATE_LIMIT');

    // Closing one frees its slot for a connection on the other instance.
    await wsOnB.close();
    let admitted: JsonSocket | undefined;
    await eventually('the closed socket gives its slot back', async () => {
      const socket = await openJsonSocket(a().wsUrl, carol.token);
      const first = await socket.next();
      if (first.type === 'connected') return Boolean((admitted = socket));
      await socket.closeCode();
      return false;
    });
    closers.push(() => admitted!.close());
    sseOnA.close();
    await eventually('the SSE stream leaves rt_active_connections', async () => (await scrape(a().url))('rt_active_connections', { transport: 'sse' }) === 0);
  });

  it('does not count the connections of an instance that crashed once their leases ran out', async () => {
    const dave = await registerUser(a().url);
    const redis = new Redis(REDIS_URL!);
    try {
      // What a crashed instance leaves behind: three connections it never closed, their leases over.
      await redis.zadd(`conn:{presence}:${dave.id}`, 1, 'crashed:1', 1, 'crashed:2', 1, 'crashed:3');
      const socket = track(await connectJsonSocket(b().wsUrl, dave));
      expect(socket.unreadCount).toBe(0);
      // The same three with live leases do count: it is the expiry that freed them, not a wrong key.
      await socket.close();
      const future = Date.now() + 60_000;
      await redis.zadd(`conn:{presence}:${dave.id}`, future, 'crashed:1', future, 'crashed:2', future, 'crashed:3');
      const refused = await openJsonSocket(a().wsUrl, dave.token);
      expect((await refused.next('error')).error.code).toBe('RATE_LIMIT');
      expect(await refused.closeCode()).toBe(4429);
    } finally {
      redis.disconnect();
    }
  });

  it('renews the leases of more users than one script call takes, and announces those Redis had lost as online again', async () => {
    // 1,200 users: three RENEW calls of up to 500 users each, with several connections for some of them.
    const logger = createLogger('silent');
    const store = createSharedStore({ redis: { url: REDIS_URL! }, commandTimeoutMs: 2000, logger });
    await store.ready();
    const cameOnline = new Set<number>();
    const connections = createConnections({
      store,
      maxPerUser: 5,
      leaseMs: 900,
      onChange: (change) => void (change.online && cameOnline.add(change.userId)),
    });
    const base = 1_700_000_000 + Math.floor(Math.random() * 100_000_000);
    const users = Array.from({ length: 1200 }, (_, i) => base + i);
    const devices = (userId: number) => 1 + (userId % 3);
    const redis = new Redis(REDIS_URL!);
    try {
      for (const userId of users) for (let d = 0; d < devices(userId); d++) await connections.admit(userId);
      // Redis loses every lease and the users' online entries (a restart without persistence).
      await redis.del(...users.map((userId) => `conn:{presence}:${userId}`));
      await redis.zrem('presence:{presence}:online', ...users);
      cameOnline.clear();
      await eventually(
        'every lease is back, each connection of each user',
        async () => {
          const counts = await Promise.all(users.map((userId) => redis.zcard(`conn:{presence}:${userId}`)));
          return counts.every((count, i) => count === devices(users[i]!));
        },
        5000,
      );
      await eventually('every user is announced online again', async () => users.every((userId) => cameOnline.has(userId)), 5000);
      const online = await redis.zmscore('presence:{presence}:online', ...users);
      expect(online.every((score) => score !== null)).toBe(true);
    } finally {
      connections.close();
      await store.close();
      await redis.del(...users.map((userId) => `conn:{presence}:${userId}`));
      await redis.zrem('presence:{presence}:online', ...users);
      redis.disconnect();
    }
  });

  it('renews the leases of open connections, and lets those of an instance that stopped renewing run out', async () => {
    // The connection counts of two instances, with leases short enough to watch them run out.
    const logger = createLogger('silent');
    const stores = [0, 1].map(() => createSharedStore({ redis: { url: REDIS_URL! }, commandTimeoutMs: 500, logger }));
    const [live, crashed] = stores.map((store) => createConnections({ store, maxPerUser: 1, leaseMs: 300 }));
    const userId = 1_900_000_000 + Math.floor(Math.random() * 100_000_000);
    const redis = new Redis(REDIS_URL!);
    try {
      const release = await live!.admit(userId);
      // Renewing puts it in Redis even if Redis missed the admission (here: the new client was not connected yet).
      await eventually('the lease is in Redis', async () => (await redis.zcard(`conn:{presence}:${userId}`)) === 1, 5000);
      // Several leases later the connection still counts: its instance renews it.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await expect(crashed!.admit(userId)).rejects.toMatchObject({ code: 'RATE_LIMIT' });
      release();
      await eventually(
        'the released slot is free',
        async () =>
          crashed!.admit(userId).then(
            () => true,
            () => false,
          ),
        5000,
      );
      // The instance holding it now stops renewing, as a crashed one would: its connection stops counting.
      crashed!.close();
      await eventually(
        'the unrenewed lease runs out',
        async () =>
          live!.admit(userId).then(
            () => true,
            () => false,
          ),
        5000,
      );
    } finally {
      for (const connections of [live, crashed]) connections!.close();
      await Promise.all(stores.map((store) => store.close()));
      redis.disconnect();
    }
  });

  it('caps the operations running on one graphql-ws socket; the one over the cap gets an error', async () => {
    const erin = await registerUser(a().url);
    const client = createClient({ url: `${a().wsUrl}/graphql`, webSocketImpl: WebSocket, connectionParams: { token: erin.token }, retryAttempts: 0 });
    closers.push(() => client.dispose());
    const subscribe = () => {
      const values = new Inbox<unknown>();
      const errors = new Inbox<unknown>();
      const stop = client.subscribe(
        { query: 'subscription { unreadMessageCount }' },
        { next: (v) => values.push(v), error: (e) => errors.push(e), complete: () => undefined },
      );
      return { values, errors, stop };
    };
    const live = [];
    for (let i = 0; i < 5; i++) {
      const sub = subscribe();
      expect(await sub.values.next()).toEqual({ data: { unreadMessageCount: 0 } });
      live.push(sub);
    }
    const sixth = subscribe();
    expect(await sixth.errors.next()).toEqual([expect.objectContaining({ extensions: { code: 'RATE_LIMIT' } })]);
    // Ending one makes room (the complete and the next subscribe travel in order on the socket).
    live[0]!.stop();
    expect(await subscribe().values.next()).toEqual({ data: { unreadMessageCount: 0 } });
  });
});

// Item 9: an event stream is a connection like a socket, for the per-address attempts too.
describe('server-sent event streams', () => {
  let server: TestServer;
  const streams: { close(): void }[] = [];
  beforeAll(async () => {
    server = await startServer({ env: { RATE_LIMIT_CONNECTIONS_PER_MIN: '2' } });
  });
  afterAll(async () => {
    for (const stream of streams) stream.close();
    await server?.close();
  });

  it('count toward the connection attempts per address: over them, 429 with RATE_LIMIT before any stream opens', async () => {
    const alice = await registerUser(server.url);
    for (let i = 0; i < 2; i++) streams.push(await openEventStream(server.url, alice.token));
    const res = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${alice.token}` },
      body: JSON.stringify({ query: 'subscription { unreadMessageCount }' }),
      signal: AbortSignal.timeout(5000),
    });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await res.json()).errors[0].extensions).toMatchObject({ code: 'RATE_LIMIT', retryAfterMs: expect.any(Number) });
    expect((await scrape(server.url))('rt_active_connections', { transport: 'sse' })).toBe(2);
  });
});

// Item 7: URLs that other users' apps put into pages.
describe('avatar and thumbnail URLs', () => {
  let server: TestServer;
  const sockets: JsonSocket[] = [];
  const track = (socket: JsonSocket) => (sockets.push(socket), socket);
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await Promise.allSettled(sockets.map((s) => s.close()));
    await server?.close();
  });

  const refused = [
    'javascript:alert(1)',
    'JavaScript:alert(1)',
    'data:image/svg+xml;base64,PHN2Zz4=',
    '//evil.example/a.jpg',
    '/\\evil.example/a.jpg',
    '/avatars/1.jpg" onerror="alert(1)',
    "/avatars/1.jpg'><script>",
    'https://cdn.example/a b.jpg',
    'https://cdn.example/a.jpg\n',
    'avatars/1.jpg',
    'ftp://cdn.example/a.jpg',
    'https://user:secret@cdn.example/a.jpg',
  ];
  const accepted: [string, string][] = [
    ['/avatars/999.jpg', '/avatars/999.jpg'],
    ['/avatars/./x/../999.jpg?size=2#top', '/avatars/999.jpg?size=2#top'],
    ['HTTPS://CDN.Example:443/a/../b.png', 'https://cdn.example/b.png'],
    ['http://cdn.example/é.png', 'http://cdn.example/%C3%A9.png'],
  ];
  const REGISTER = 'mutation($u: String!, $a: String) { register(username: $u, password: "correct horse battery", avatarUrl: $a) { user { avatarUrl } } }';

  it('refuses anything but http(s) URLs and root-relative paths in register, naming the field', async () => {
    for (const url of refused) {
      const result = await gql(server.url, REGISTER, { u: uniqueName(), a: url });
      expect(result.errors?.[0], url).toMatchObject({ extensions: { code: 'INVALID_MESSAGE' }, message: expect.stringContaining('avatarUrl') });
    }
    for (const [given, stored] of accepted) {
      expect((await gqlOk(server.url, REGISTER, { u: uniqueName(), a: given })).register.user.avatarUrl).toBe(stored);
    }
  });

  it('refuses them in createVideo, and pushes only the normalised URL to others', async () => {
    const [owner, fan] = await Promise.all([registerUser(server.url), registerUser(server.url)]);
    for (const url of refused) {
      const result = await gql(server.url, op.CREATE_VIDEO, { t: 'Clip', th: url }, owner.token);
      expect(result.errors?.[0], url).toMatchObject({ extensions: { code: 'INVALID_MESSAGE' }, message: expect.stringContaining('thumbUrl') });
    }
    const video = (await gqlOk(server.url, op.CREATE_VIDEO, { t: 'Clip', th: 'HTTPS://CDN.Example/t/../1.jpg' }, owner.token)).createVideo;
    expect(video.thumbUrl).toBe('https://cdn.example/1.jpg');
    const ownerSocket = track(await connectJsonSocket(server.wsUrl, owner));
    await gqlOk(server.url, op.LIKE, { v: video.id }, fan.token);
    expect((await ownerSocket.next('notification:new')).data.target.thumbUrl).toBe('https://cdn.example/1.jpg');
  });

  it('refuses a token minted elsewhere whose avatarUrl claim is not one, without creating its user', async () => {
    const id = 1_500_000_000 + Math.floor(Math.random() * 100_000_000);
    const username = uniqueName('minted');
    const bad = await mintToken({ sub: String(id), username, avatarUrl: 'javascript:alert(1)' });
    const result = await gql(server.url, '{ me { id avatarUrl } }', {}, bad);
    expect(result.errors?.[0]).toMatchObject({ extensions: { code: 'INVALID_MESSAGE' }, message: expect.stringContaining('avatarUrl') });
    // On the JSON socket a bad claim is a bad token, as always there.
    const socket = await openJsonSocket(server.wsUrl, bad);
    expect((await socket.next('error')).error).toMatchObject({ code: 'UNAUTHORIZED', message: expect.stringContaining('avatarUrl') });
    expect(await socket.closeCode()).toBe(4401);
    const good = await mintToken({ sub: String(id), username, avatarUrl: '/avatars/./minted.jpg' });
    expect((await gqlOk(server.url, '{ me { id avatarUrl } }', {}, good)).me).toEqual({ id, avatarUrl: '/avatars/minted.jpg' });
  });
});

// Item 12: login answers alike for known and unknown users, and an account is throttled from any address.
describe('login', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ env: { TRUST_PROXY: 'true' } });
  });
  afterAll(async () => server?.close());

  const LOGIN = 'mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }';
  let lastIp = 0;
  const login = (username: string, password: string) =>
    gql(server.url, LOGIN, { u: username, p: password }, undefined, { 'x-forwarded-for': `198.51.100.${++lastIp % 250}` });
  const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)]!;

  it('takes as long for a user that does not exist, or has no password, as for a wrong password', async () => {
    const alice = await registerUser(server.url);
    // A user created by a token minted elsewhere has no password.
    const minted = { id: 1_600_000_000 + Math.floor(Math.random() * 100_000_000), username: uniqueName('minted') };
    await gqlOk(server.url, '{ me { id } }', {}, await mintToken({ sub: String(minted.id), username: minted.username }));
    const series = { known: [alice.username], unknown: [uniqueName('nobody')], passwordless: [minted.username] };
    const times: Record<keyof typeof series, number[]> = { known: [], unknown: [], passwordless: [] };
    // Alternated, so that load on the machine falls on all alike; the first round only warms up.
    for (let i = 0; i < 6; i++) {
      for (const [kind, [name]] of Object.entries(series) as [keyof typeof series, string[]][]) {
        const started = performance.now();
        expect((await login(name!, 'wrong password')).errors?.[0]?.extensions?.code).toBe('UNAUTHORIZED');
        if (i > 0) times[kind].push(performance.now() - started);
      }
    }
    // Without the stand-in verification these answer many times faster than scrypt takes.
    for (const kind of ['unknown', 'passwordless'] as const) {
      expect(median(times[kind]), kind).toBeGreaterThan(median(times.known) * 0.5);
      expect(median(times[kind]), kind).toBeLessThan(median(times.known) * 2);
    }
  });

  it('throttles failed logins per account from any number of addresses', async () => {
    const [bob, carol] = await Promise.all([registerUser(server.url), registerUser(server.url)]);
    for (let i = 0; i < 10; i++) expect((await login(bob.username, `guess ${i}`)).errors?.[0]?.extensions?.code).toBe('UNAUTHORIZED');
    // Now even the right password is refused for a while: guessing on cannot find it.
    const throttled = await login(bob.username, 'correct horse battery');
    expect(throttled.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMIT', retryAfterMs: expect.any(Number) });
    expect(throttled.errors![0]!.extensions!.retryAfterMs).toBeGreaterThan(14 * 60_000);
    // The limit is Bob's account's, not the addresses': Carol logs in from them.
    expect((await login(carol.username, 'correct horse battery')).data?.login.token).toEqual(expect.any(String));
  });

  it('does not count successful logins', async () => {
    const dave = await registerUser(server.url);
    for (let i = 0; i < 12; i++) expect((await login(dave.username, 'correct horse battery')).errors).toBeUndefined();
  });
});

// Item 13: a Redis that stops answering (SIGSTOP) while its connections stay open.
describe.runIf(DATABASE_URL)('a Redis that hangs', () => {
  let redis: OwnRedis;
  let server: TestServer;
  const sockets: GraphQLSocket[] = [];

  beforeAll(async () => {
    redis = await OwnRedis.start();
    server = await startServer({ env: { REDIS_URL: redis.url, RATE_LIMIT_MESSAGES_PER_MIN: '3', REDIS_COMMAND_TIMEOUT_MS: '500' } });
  });
  afterAll(async () => {
    redis?.resume();
    await Promise.all(sockets.map((s) => s.close()));
    await server?.close();
    await redis?.stop();
  });

  const readiness = async () => {
    const res = await fetch(`${server.url}/readyz`, { signal: AbortSignal.timeout(5000) });
    return { status: res.status, body: (await res.json()) as { redis: boolean } };
  };
  /** The call's result and how long it took. */
  const timed = async <T>(call: () => Promise<T>) => {
    const started = performance.now();
    const result = await call();
    return { result, ms: performance.now() - started };
  };

  it('answers sends within its command timeout, with local limits, reports unready, and recovers', async () => {
    const [alice, bob, carol] = await Promise.all([registerUser(server.url), registerUser(server.url), registerUser(server.url)]);
    const bobSocket = await connectGraphQLWs(server.wsUrl, { token: bob.token });
    sockets.push(bobSocket);
    const inbox = await bobSocket.subscribe(op.SUB_MESSAGE_NEW);
    const typing = await bobSocket.subscribe(op.SUB_TYPING);
    expect((await readiness()).status).toBe(200);

    redis.pause();
    const ready = await timed(readiness);
    expect(ready.result).toMatchObject({ status: 503, body: { redis: false } });
    expect(ready.ms).toBeLessThan(2000);

    // Limits fall back to this instance's memory: three sends pass, the fourth is refused, none waits for Redis.
    const sends = [];
    for (let i = 0; i < 4; i++) sends.push(await timed(() => gql(server.url, op.SEND, { to: bob.id, c: `while hung ${i}` }, alice.token)));
    for (const send of sends) expect(send.ms).toBeLessThan(2000);
    expect(sends.map((s) => s.result.errors?.[0]?.extensions?.code ?? 'ok')).toEqual(['ok', 'ok', 'ok', 'RATE_LIMIT']);
    for (let i = 0; i < 3; i++) expect((await inbox.next()).messageNew.content).toBe(`while hung ${i}`);
    // Typing still starts and stops: this instance knows its own starts.
    for (const t of [true, false]) {
      expect((await timed(() => gqlOk(server.url, op.SET_TYPING, { w: bob.id, t }, carol.token))).ms).toBeLessThan(2000);
      expect((await typing.next()).typing.isTyping).toBe(t);
    }
    // Sockets still connect: their open-connection slot is counted locally, their subscription waits no longer.
    const carolSocket = await timed(() => connectJsonSocket(server.wsUrl, carol));
    expect(carolSocket.ms).toBeLessThan(3000);
    await carolSocket.result.close();

    redis.resume();
    await eventually('ready again', async () => (await readiness()).status === 200);
    await gqlOk(server.url, op.SEND, { to: bob.id, c: 'after' }, carol.token);
    expect((await inbox.next()).messageNew.content).toBe('after');
  });
});
