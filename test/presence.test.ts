// Presence (docs/protocol.md, "Presence"): online while a connection of any kind is open on any instance, offline
// after a grace period that swallows quick reconnects, or once a killed instance's leases run out; seen only by
// followers and conversation partners. Two instances on PostgreSQL and a redis-server the test owns.
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startServer, type TestServer } from './support/server.ts';
import { startProcess } from './support/process.ts';
import { DATABASE_URL, announceSkip } from './support/env.ts';
import { OwnRedis } from './support/redis-server.ts';
import { connectGraphQLWs, gql, gqlErrorCode, gqlOk, openEventStream, registerUser, type TestUser } from './support/graphql.ts';
import { eventually } from './support/eventually.ts';
import { connectJsonSocket, type ConnectedSocket, type Frame } from './support/json-socket.ts';
import { scrape } from './support/metrics.ts';
import * as op from './support/operations.ts';

if (!DATABASE_URL) announceSkip('presence across instances', 'DATABASE_URL');

// Short enough to watch leases run out, long enough that a loaded test machine still renews them in time.
const TTL_MS = 3000;
const GRACE_MS = 600;
const ENV = { PRESENCE_TTL_MS: String(TTL_MS), PRESENCE_GRACE_MS: String(GRACE_MS) };

const PRESENCE = 'query Presence($ids: [Int!]!) { presence(userIds: $ids) { userId status online lastActiveAt } }';
const SUB_PRESENCE = 'subscription Presence($ids: [Int!]!) { presenceChanged(userIds: $ids) { userId status online lastActiveAt } }';
const HIDE = 'mutation Hide($v: Boolean!) { setPresenceVisible(visible: $v) }';

describe.runIf(DATABASE_URL)('presence', () => {
  let redis: OwnRedis;
  let a: TestServer;
  let b: TestServer;
  const closers: (() => Promise<unknown>)[] = [];
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    redis = await OwnRedis.start();
    const start = () => startServer({ env: { ...ENV, REDIS_URL: redis.url } });
    [a, b] = await Promise.all([start(), start()]);
  });
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await Promise.allSettled(closers.map((close) => close()));
    await Promise.allSettled([a?.close(), b?.close()]);
    await redis?.stop();
  });

  const socket = async (server: { wsUrl: string }, user: TestUser) => {
    const s = await connectJsonSocket(server.wsUrl, user);
    closers.push(() => s.close());
    return s;
  };
  const graphqlWs = async (server: TestServer, user: TestUser) => {
    const s = await connectGraphQLWs(server.wsUrl, { token: user.token });
    closers.push(() => s.close());
    return s;
  };
  /** A watcher and a user it follows. */
  const pair = async () => {
    const [watcher, user] = await Promise.all([registerUser(a.url, 'w'), registerUser(a.url, 'p')]);
    await gqlOk(a.url, op.FOLLOW, { u: user.id }, watcher.token);
    return { watcher, user };
  };
  const presenceOf = async (server: TestServer, viewer: TestUser, ids: number[]) => (await gqlOk(server.url, PRESENCE, { ids }, viewer.token)).presence;
  /** The next presence:update of a socket (other frames skipped). */
  const update = async (s: ConnectedSocket, timeoutMs = 5000): Promise<Frame['data']> => {
    for (;;) {
      const frame = await s.next(undefined, timeoutMs);
      if (frame.type === 'presence:update') return frame.data;
    }
  };
  const watch = async (server: TestServer, watcher: TestUser, ids: number[]) => {
    const s = await socket(server, watcher);
    s.send({ type: 'presence:subscribe', data: { userIds: ids } });
    return s;
  };

  it('keeps a user online while a device is open on either instance; offline with lastActiveAt after the last closes', async () => {
    const { watcher, user } = await pair();
    const onA = await watch(a, watcher, [user.id]);
    expect(await update(onA)).toEqual({ userId: user.id, status: 'offline', online: false, lastActiveAt: null });

    const first = await socket(b, user);
    expect(await update(onA)).toEqual({ userId: user.id, status: 'online', online: true, lastActiveAt: null });
    // A second device, of the other kind, on the other instance: several devices count once.
    const second = await graphqlWs(a, user);
    await first.close();
    expect(await presenceOf(a, watcher, [user.id])).toEqual([{ userId: user.id, status: 'ONLINE', online: true, lastActiveAt: null }]);
    const closedAt = Date.now();
    await second.close();
    const offline = await update(onA, 5000);
    expect(offline).toMatchObject({ userId: user.id, status: 'offline', online: false });
    // Announced once the grace period ran out; lastActiveAt is when the last device closed, kept in PostgreSQL.
    expect(Date.parse(offline.lastActiveAt)).toBeGreaterThanOrEqual(closedAt - 1000);
    expect(Date.parse(offline.lastActiveAt)).toBeLessThanOrEqual(Date.now() - GRACE_MS + 100);
    const client = new pg.Client({ connectionString: DATABASE_URL });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT "lastActiveAt" FROM "User" WHERE id = $1', [user.id]);
      expect((rows[0].lastActiveAt as Date).toISOString()).toBe(offline.lastActiveAt);
    } finally {
      await client.end();
    }
    expect(await presenceOf(b, watcher, [user.id])).toEqual([{ ...offline, status: 'OFFLINE' }]);
  });

  it('shows a subscriber on one instance the changes of a user connected to the other (graphql-ws)', async () => {
    const { watcher, user } = await pair();
    const changes = await (await graphqlWs(a, watcher)).subscribe(SUB_PRESENCE, { ids: [user.id] });
    expect((await changes.next()).presenceChanged).toEqual({ userId: user.id, status: 'OFFLINE', online: false, lastActiveAt: null });
    const device = await socket(b, user);
    expect((await changes.next()).presenceChanged).toMatchObject({ userId: user.id, status: 'ONLINE', online: true });
    await device.close();
    expect((await changes.next()).presenceChanged).toMatchObject({ userId: user.id, status: 'OFFLINE', online: false });
  });

  it('drops a change that another instance announced after a newer one', async () => {
    const { watcher, user } = await pair();
    const onA = await watch(a, watcher, [user.id]);
    await update(onA);
    await socket(b, user);
    expect((await update(onA)).online).toBe(true);
    // As an instance would relay them: first a change older than the online one, then a newer one.
    const { Redis } = await import('ioredis');
    const relay = new Redis(redis.url);
    const change = (at: number, lastActiveAt: string) =>
      JSON.stringify({
        origin: 'another instance',
        topic: 'presence',
        userId: user.id,
        entry: { events: [{ kind: 'presence', at, presence: { userId: user.id, status: 'offline', online: false, lastActiveAt } }] },
      });
    const [seconds] = await relay.time();
    await relay.publish(`presence:${user.id}`, change(Number(seconds) * 1000 - 60_000, '2020-01-01T00:00:00.000Z'));
    await relay.publish(`presence:${user.id}`, change(Number(seconds) * 1000 + 60_000, '2030-01-01T00:00:00.000Z'));
    relay.disconnect();
    expect((await update(onA)).lastActiveAt).toBe('2030-01-01T00:00:00.000Z');
  });

  it('counts a server-sent event stream as a connection too', async () => {
    const { watcher, user } = await pair();
    const onA = await watch(a, watcher, [user.id]);
    await update(onA);
    const stream = await openEventStream(b.url, user.token);
    expect((await update(onA)).online).toBe(true);
    stream.close();
    expect((await update(onA)).online).toBe(false);
  });

  it('damps flapping: a reconnect within the grace period announces nothing', async () => {
    const { watcher, user } = await pair();
    const onA = await watch(a, watcher, [user.id]);
    await update(onA);
    const device = await socket(b, user);
    expect((await update(onA)).online).toBe(true);
    // A network blip: the app reconnects at once, to the other instance.
    await device.close();
    const again = await socket(a, user);
    await again.close();
    // Had either close been announced, an offline and an online would come first.
    const next = await update(onA, 5000);
    expect(next).toMatchObject({ userId: user.id, status: 'offline' });
    expect(onA.frames.pending.filter((f) => f.type === 'presence:update')).toEqual([]);
  });

  it('takes the users of a killed instance offline within the TTL', { timeout: 90_000 }, async () => {
    const { watcher, user } = await pair();
    const child = await startProcess({ ...ENV, REDIS_URL: redis.url });
    children.push(child.process);
    const onA = await watch(a, watcher, [user.id]);
    await update(onA);
    const device = await socket(child, user);
    expect((await update(onA)).online).toBe(true);
    // What the instance recorded in Redis is what outlives it (had Redis not answered in time, only it knew).
    const { Redis } = await import('ioredis');
    const shared = new Redis(redis.url);
    try {
      await eventually('the lease is in Redis', async () => (await shared.zscore('presence:{presence}:online', String(user.id))) !== null, 5000);
    } finally {
      shared.disconnect();
    }
    const killedAt = Date.now();
    child.process.kill('SIGKILL');
    expect(await device.closeCode(10_000)).toBe(1006);
    // An instance whose first command came before its Redis connection was ready counted the user locally, and
    // announces them again when its first renewal finds them missing in Redis: whole states, so a repeat is harmless.
    let offline = await update(onA, TTL_MS * 3);
    while (offline.online) offline = await update(onA, TTL_MS * 3);
    // The lease runs out within the TTL of its last renewal; an instance sweeps within a sixth of it.
    expect(Date.now() - killedAt).toBeLessThan(TTL_MS + TTL_MS / 6 + 1000);
    expect(offline).toMatchObject({ userId: user.id, status: 'offline', online: false });
    // Last active: when the killed instance last renewed its lease.
    expect(Date.parse(offline.lastActiveAt)).toBeGreaterThanOrEqual(killedAt - TTL_MS);
    expect(Date.parse(offline.lastActiveAt)).toBeLessThanOrEqual(killedAt);
  });

  it('answers a stranger "unknown" for every user, existing or not, online or not', async () => {
    const [stranger, user] = await Promise.all([registerUser(a.url, 's'), registerUser(a.url, 'p')]);
    await socket(b, user);
    const missing = 2_000_000_000;
    const unknown = (userId: number) => ({ userId, status: 'UNKNOWN', online: false, lastActiveAt: null });
    expect(await presenceOf(a, stranger, [user.id, missing])).toEqual([unknown(user.id), unknown(missing)]);
    const rest = await fetch(`${a.url}/api/v1/presence?ids=${user.id},${missing}`, { headers: { authorization: `Bearer ${stranger.token}` } });
    expect(rest.status).toBe(200);
    expect((await rest.json()).presence.map((p: { status: string }) => p.status)).toEqual(['unknown', 'unknown']);
    const onA = await watch(a, stranger, [user.id]);
    expect(await update(onA)).toEqual({ userId: user.id, status: 'unknown', online: false, lastActiveAt: null });
    // User.presence too.
    const viaUser = await gqlOk(a.url, 'query { me { presence { status } } }', {}, stranger.token);
    expect(viaUser.me.presence.status).toBe('ONLINE');
  });

  it('lets conversation partners see each other, both ways', async () => {
    const [alice, bob] = await Promise.all([registerUser(a.url), registerUser(a.url)]);
    await gqlOk(a.url, op.SEND, { to: bob.id, c: 'hi' }, alice.token);
    await socket(b, bob);
    await socket(b, alice);
    expect((await presenceOf(a, alice, [bob.id]))[0].status).toBe('ONLINE');
    expect((await presenceOf(a, bob, [alice.id]))[0].status).toBe('ONLINE');
    const rest = await fetch(`${b.url}/api/v1/presence?ids=${alice.id}`, { headers: { authorization: `Bearer ${bob.token}` } });
    expect((await rest.json()).presence).toEqual([{ userId: alice.id, status: 'online', online: true, lastActiveAt: null }]);
  });

  it('hides the presence of a user who asks for it, and shows it again', async () => {
    const { watcher, user } = await pair();
    const onA = await watch(a, watcher, [user.id]);
    await update(onA);
    await socket(b, user);
    expect((await update(onA)).online).toBe(true);

    expect((await gqlOk(b.url, HIDE, { v: false }, user.token)).setPresenceVisible).toBe(false);
    expect(await update(onA)).toEqual({ userId: user.id, status: 'offline', online: false, lastActiveAt: null });
    expect(await presenceOf(a, watcher, [user.id])).toEqual([{ userId: user.id, status: 'OFFLINE', online: false, lastActiveAt: null }]);
    // A new device of a hidden user announces nothing: the next update is the one of showing again.
    await socket(a, user);
    expect((await gqlOk(b.url, HIDE, { v: true }, user.token)).setPresenceVisible).toBe(true);
    expect(await update(onA)).toEqual({ userId: user.id, status: 'online', online: true, lastActiveAt: null });
  });

  it('shows User.presence on the users of a list, in one question', async () => {
    const [alice, bob, carol] = await Promise.all([registerUser(a.url), registerUser(a.url), registerUser(a.url)]);
    await gqlOk(a.url, op.SEND, { to: alice.id, c: 'from bob' }, bob.token);
    await gqlOk(a.url, op.SEND, { to: alice.id, c: 'from carol' }, carol.token);
    await socket(b, bob);
    const inbox = await gqlOk(a.url, 'query { conversations { edges { node { with { id presence { status online } } } } } }', {}, alice.token);
    const byId = Object.fromEntries(inbox.conversations.edges.map((e: any) => [e.node.with.id, e.node.with.presence.status]));
    expect(byId).toEqual({ [bob.id]: 'ONLINE', [carol.id]: 'OFFLINE' });
  });

  it('stops updates after presence:unsubscribe', async () => {
    const [watcher, one, two] = await Promise.all([registerUser(a.url, 'w'), registerUser(a.url), registerUser(a.url)]);
    await Promise.all([one, two].map((u) => gqlOk(a.url, op.FOLLOW, { u: u.id }, watcher.token)));
    const onA = await watch(a, watcher, [one.id, two.id]);
    expect([(await update(onA)).userId, (await update(onA)).userId].sort()).toEqual([one.id, two.id].sort());
    onA.send({ type: 'presence:unsubscribe', data: { userIds: [one.id] } });
    // Frames are handled in order: once this one is answered, the unsubscribe is done.
    onA.send({ type: 'presence:subscribe', data: { userIds: [two.id] } });
    expect(await update(onA)).toMatchObject({ userId: two.id, online: false });
    await socket(b, one);
    await socket(b, two);
    // Only `two` is still watched: its update is the next one.
    expect(await update(onA)).toMatchObject({ userId: two.id, online: true });
  });

  it('refuses more than 200 users, and bad ids, on every transport', async () => {
    const viewer = await registerUser(a.url);
    const ids = Array.from({ length: 201 }, (_, i) => i + 1);
    expect(await gqlErrorCode(a.url, PRESENCE, { ids }, viewer.token)).toBe('INVALID_MESSAGE');
    // Repeats count once.
    expect(await presenceOf(a, viewer, [...ids.slice(0, 200), 1])).toHaveLength(200);
    const refused = await fetch(`${a.url}/api/v1/presence?ids=${ids.join(',')}`, { headers: { authorization: `Bearer ${viewer.token}` } });
    expect(refused.status).toBe(400);
    for (const bad of ['', '1,,2', 'x', '0', '1;2']) {
      const res = await fetch(`${a.url}/api/v1/presence?ids=${encodeURIComponent(bad)}`, { headers: { authorization: `Bearer ${viewer.token}` } });
      expect(res.status, bad).toBe(400);
      expect((await res.json()).error.code).toBe('INVALID_MESSAGE');
    }
    expect((await fetch(`${a.url}/api/v1/presence?ids=1`)).status).toBe(401);
    expect(await gqlErrorCode(a.url, PRESENCE, { ids: [1] })).toBe('UNAUTHORIZED');

    const s = await socket(a, viewer);
    s.send({ type: 'presence:subscribe', data: { userIds: ids } });
    expect((await s.next('error')).error.code).toBe('INVALID_MESSAGE');
    s.send({ type: 'presence:subscribe', data: { userIds: [] } });
    expect((await s.next('error')).error.code).toBe('INVALID_MESSAGE');
    // At most 200 watched per socket, over several frames.
    s.send({ type: 'presence:subscribe', data: { userIds: ids.slice(0, 150) } });
    for (let i = 0; i < 150; i++) await update(s);
    s.send({ type: 'presence:subscribe', data: { userIds: ids.slice(100, 151).concat(ids.slice(151, 201)) } });
    expect((await s.next('error')).error.message).toMatch(/at most 200/);
    const sub = await (await graphqlWs(a, viewer)).subscribe(SUB_PRESENCE, { ids });
    expect((await sub.next()).errors[0].extensions.code).toBe('INVALID_MESSAGE');
  });

  it('counts online users per instance', async () => {
    const user = await registerUser(a.url);
    const before = (await scrape(b.url))('rt_online_users');
    const one = await socket(b, user);
    const two = await socket(b, user);
    expect((await scrape(b.url))('rt_online_users')).toBe(before + 1);
    await one.close();
    await two.close();
    await eventually('the gauge is back', async () => (await scrape(b.url))('rt_online_users') === before, 5000);
  });

  it("keeps to each instance's own connections while Redis is down", { timeout: 30_000 }, async () => {
    const { watcher, user } = await pair();
    await redis.stop();
    try {
      const onA = await watch(a, watcher, [user.id]);
      expect(await update(onA)).toMatchObject({ userId: user.id, online: false });
      const device = await socket(a, user);
      expect((await update(onA)).online).toBe(true);
      await device.close();
      expect(await update(onA)).toMatchObject({ userId: user.id, status: 'offline', lastActiveAt: expect.any(String) });
    } finally {
      await redis.start();
    }
  });

  it('works on one instance without Redis', async () => {
    const alone = await startServer({ env: ENV });
    closers.push(() => alone.close());
    const [watcher, user] = await Promise.all([registerUser(alone.url, 'w'), registerUser(alone.url, 'p')]);
    await gqlOk(alone.url, op.FOLLOW, { u: user.id }, watcher.token);
    const s = await watch(alone, watcher, [user.id]);
    expect((await update(s)).online).toBe(false);
    const device = await socket(alone, user);
    expect((await update(s)).online).toBe(true);
    await device.close();
    expect(await update(s)).toMatchObject({ online: false, status: 'offline' });
    expect((await gql(alone.url, PRESENCE, { ids: [user.id] }, watcher.token)).data!.presence[0].lastActiveAt).not.toBeNull();
  });
});
