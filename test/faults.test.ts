// Faults provoked for real: Redis killed and restarted under two instances, the database made unreachable.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from './support/server.ts';
import { DATABASE_URL, announceSkip } from './support/env.ts';
import { OwnRedis } from './support/redis-server.ts';
import { eventually } from './support/eventually.ts';
import { ScratchDatabase } from './support/scratch-database.ts';
import WebSocket from 'ws';
import { connectGraphQLWs, gql, gqlOk, registerUser, withTimeout, type GraphQLSocket } from './support/graphql.ts';
import { scrape } from './support/metrics.ts';
import * as op from './support/operations.ts';

if (!DATABASE_URL) announceSkip('fault suites (Redis loss, database loss)', 'DATABASE_URL');

async function readiness(server: TestServer) {
  const res = await fetch(`${server.url}/readyz`, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: (await res.json()) as { database: boolean; redis: boolean } };
}

describe.runIf(DATABASE_URL)('Redis lost at runtime', () => {
  let redis: OwnRedis;
  let one: TestServer;
  let two: TestServer;
  const sockets: GraphQLSocket[] = [];

  beforeAll(async () => {
    redis = await OwnRedis.start();
    const env = { REDIS_URL: redis.url };
    [one, two] = await Promise.all([startServer({ env }), startServer({ env })]);
  });
  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.close()));
    await Promise.all([one?.close(), two?.close()]);
    await redis?.stop();
  });

  it('keeps local delivery going, reports unready, and delivers what it missed across instances once Redis is back', async () => {
    const [alice, bob] = await Promise.all([registerUser(one.url), registerUser(one.url)]);
    const bobHere = await connectGraphQLWs(one.wsUrl, { token: bob.token });
    const bobThere = await connectGraphQLWs(two.wsUrl, { token: bob.token });
    sockets.push(bobHere, bobThere);
    const local = await bobHere.subscribe(op.SUB_MESSAGE_NEW);
    const remote = await bobThere.subscribe(op.SUB_MESSAGE_NEW);
    expect((await readiness(one)).status).toBe(200);

    await redis.stop();
    await eventually('instance 1 reports Redis down', async () => (await readiness(one)).body.redis === false);
    expect((await readiness(one)).status).toBe(503);

    const during = (await gqlOk(one.url, op.SEND, { to: bob.id, c: 'during the outage' }, alice.token)).sendMessage;
    expect((await local.next()).messageNew.id).toBe(during.id);

    await redis.start();
    await eventually('both instances ready again', async () => (await readiness(one)).status === 200 && (await readiness(two)).status === 200);
    const after = (await gqlOk(one.url, op.SEND, { to: bob.id, c: 'after the outage' }, alice.token)).sendMessage;
    expect((await local.next()).messageNew.id).toBe(after.id);
    // The message sent during the outage could not cross through Redis: the other instance found it in the database
    // once Redis was back, and delivered it before the next one.
    expect((await remote.next(10_000)).messageNew.id).toBe(during.id);
    expect((await remote.next(10_000)).messageNew.id).toBe(after.id);
  });
});

describe.runIf(DATABASE_URL)('database lost at runtime', () => {
  let database: ScratchDatabase;
  let server: TestServer;

  beforeAll(async () => {
    database = await ScratchDatabase.create(DATABASE_URL!, 'rt_fault');
    server = await startServer({ env: { DATABASE_URL: database.url } });
  });
  afterAll(async () => {
    await server?.close();
    await database?.drop();
  });

  it('fails calls with INTERNAL_ERROR, reports unready, survives and recovers', async () => {
    const alice = await registerUser(server.url);
    await database.cutOff();

    const failed = await gql(server.url, '{ unreadMessageCount }', {}, alice.token);
    expect(failed.errors?.[0]?.extensions?.code).toBe('INTERNAL_ERROR');
    expect(JSON.stringify(failed.errors)).not.toMatch(/database|connection|postgres/i);
    const ready = await readiness(server);
    expect(ready.status).toBe(503);
    expect(ready.body.database).toBe(false);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);

    await database.restore();
    await eventually('queries work again', async () => !(await gql(server.url, '{ unreadMessageCount }', {}, alice.token)).errors);
    expect((await readiness(server)).status).toBe(200);
  });
});

describe('a graphql-ws client that stops reading', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => server?.close());

  it('is closed with 1013 instead of being buffered for without bound', async () => {
    const [alice, bob] = await Promise.all([registerUser(server.url), registerUser(server.url)]);
    // The protocol by hand, to be able to stop reading the raw socket.
    const ws = new WebSocket(`${server.wsUrl}/graphql`, 'graphql-transport-ws');
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    const acked = new Promise((resolve) => ws.on('message', (data) => JSON.parse(String(data)).type === 'connection_ack' && resolve(undefined)));
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(JSON.stringify({ type: 'connection_init', payload: { token: bob.token } }));
    await withTimeout(acked, 5000, 'connection_ack');
    ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription { messageNew { id content } }' } }));
    ws.send(JSON.stringify({ id: '2', type: 'subscribe', payload: { query: 'subscription { unreadMessageCount }' } }));
    await withTimeout(new Promise((resolve) => ws.on('message', (data) => JSON.parse(String(data)).id === '2' && resolve(undefined))), 5000, 'first count');
    ws.pause();

    const big = '😀'.repeat(5000);
    const before = (await scrape(server.url))('rt_connection_errors_total', { transport: 'graphql-ws', reason: 'slow_consumer' });
    // The kernel takes tens of megabytes first (loopback buffers grow to 32 MiB here), then events queue up.
    for (let round = 0; ; round++) {
      if (round > 500) throw new Error('the server never gave up on the stalled consumer');
      await Promise.all(Array.from({ length: 20 }, () => gqlOk(server.url, op.SEND, { to: bob.id, c: big }, alice.token)));
      if ((await scrape(server.url))('rt_connection_errors_total', { transport: 'graphql-ws', reason: 'slow_consumer' }) > before) break;
    }
    ws.resume();
    expect(await withTimeout(closed, 10_000, 'close')).toBe(1013);
  });
});
