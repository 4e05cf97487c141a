// Three instances on a Redis Cluster of their own (three masters, one replica each): sharded pub/sub carries each
// user's channel on the shard its slot belongs to, the shared limits hold across instances, and neither a master's
// failover nor a whole shard down loses anything once the shard serves again (the bus reports the loss; the stream
// repair fills it).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from 'ioredis';
import { startServer, type TestServer } from './support/server.ts';
import { DATABASE_URL, announceSkip } from './support/env.ts';
import { gqlErrorCode, gqlOk, registerUser, type TestUser } from './support/graphql.ts';
import { connectJsonSocket, STATEFUL, type ConnectedSocket } from './support/json-socket.ts';
import { clusterUnsupported, OwnCluster } from './support/redis-cluster.ts';
import { scrape } from './support/metrics.ts';
import { eventually } from './support/eventually.ts';
import * as op from './support/operations.ts';

const unsupported = await clusterUnsupported();
if (unsupported) console.warn(`\n*** SKIPPED: Redis Cluster suite — ${unsupported}. ***\n`);
if (!DATABASE_URL) announceSkip('Redis Cluster suite', 'DATABASE_URL');
const enabled = !unsupported && Boolean(DATABASE_URL);

// The periodic repair is out of the way: what the tests see delivered after a loss, the bus's reconnect signal did.
const ENV = { STREAM_REPAIR_INTERVAL_MS: '600000', RATE_LIMIT_TYPING_PER_MIN: '3', TYPING_TIMEOUT_MS: '60000' };

const send = async (server: TestServer, from: TestUser, to: TestUser, content: string) =>
  (await gqlOk(server.url, op.SEND, { to: to.id, c: content }, from.token)).sendMessage;

/** The next `n` message:new frames' contents, skipping the other stateful frames (counts). */
async function contents(socket: ConnectedSocket, n: number, timeoutMs = 20_000): Promise<string[]> {
  const got: string[] = [];
  while (got.length < n) {
    const frame = await socket.next(undefined, timeoutMs);
    if (frame.type === 'message:new') got.push(frame.data.content);
    else if (!STATEFUL.has(frame.type)) throw new Error(`unexpected frame ${frame.type}`);
  }
  return got;
}

describe.runIf(enabled)('three instances on a Redis Cluster', { timeout: 120_000 }, () => {
  let cluster: OwnCluster;
  let client: Cluster;
  let servers: TestServer[] = [];
  const sockets: ConnectedSocket[] = [];
  const connect = async (server: TestServer, user: TestUser) => {
    const socket = await connectJsonSocket(server.wsUrl, user);
    sockets.push(socket);
    return socket;
  };

  /** Registers users until there is one whose channel lands on each master's shard; returns them by master port. */
  async function usersOnEveryShard(): Promise<Map<number, TestUser>> {
    const byMaster = new Map<number, TestUser>();
    for (let tries = 0; byMaster.size < 3 && tries < 60; tries++) {
      const user = await registerUser(servers[0]!.url);
      const master = await cluster.masterOf(await cluster.keyslot(`user:${user.id}`));
      if (!byMaster.has(master)) byMaster.set(master, user);
    }
    expect(byMaster.size).toBe(3);
    return byMaster;
  }

  beforeAll(async () => {
    cluster = await OwnCluster.start();
    client = new Cluster(cluster.seeds.split(','));
    const env = { ...ENV, REDIS_CLUSTER_NODES: cluster.seeds };
    servers = await Promise.all([0, 1, 2].map(() => startServer({ env })));
  }, 60_000);
  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.close()));
    await Promise.all(servers.map((s) => s.close()));
    client?.disconnect();
    await cluster?.stop();
  });

  it('delivers across instances to users whose channels are on different shards, over sharded pub/sub', async () => {
    const receivers = [...(await usersOnEveryShard()).entries()];
    const sender = await registerUser(servers[0]!.url);
    for (const [i, [master, receiver]] of receivers.entries()) {
      const socket = await connect(servers[i]!, receiver);
      // The receiving instance holds a shard channel subscription on the master owning the channel's slot, and no
      // classic one anywhere (classic pub/sub would be broadcast to every node).
      const channel = `user:${receiver.id}`;
      const [, shardSubscribers] = await cluster.client(master, (c) => c.pubsub('SHARDNUMSUB', channel));
      expect(shardSubscribers).toBe(1);
      const [, classicSubscribers] = await cluster.client(master, (c) => c.pubsub('NUMSUB', channel));
      expect(classicSubscribers).toBe(0);
      const from = servers[(i + 1) % 3]!;
      const sent = await send(from, sender, receiver, `to shard ${master}`);
      expect(await contents(socket, 1)).toEqual([sent.content]);
    }
    const received = await Promise.all(servers.map(async (s) => (await scrape(s.url))('rt_bus_received_total')));
    expect(received.every((n) => n >= 1)).toBe(true);
  });

  it('shares rate limits across the instances, in one hash-tagged key per subject', async () => {
    const [alice, bob] = await Promise.all([registerUser(servers[0]!.url), registerUser(servers[0]!.url)]);
    for (const server of servers) await gqlOk(server.url, op.SET_TYPING, { w: bob.id, t: true }, alice.token);
    for (const server of servers) expect(await gqlErrorCode(server.url, op.SET_TYPING, { w: bob.id, t: true }, alice.token)).toBe('RATE_LIMIT');
    expect(await client.zcard(`rlog:typing:{${alice.id}}`)).toBe(3);
    // Bob's quota is his own, wherever his key's shard is.
    await gqlOk(servers[1]!.url, op.SET_TYPING, { w: alice.id, t: true }, bob.token);
  });

  it('loses nothing when a master fails over to its replica: every message arrives once, in order, without reconnecting', async () => {
    const byMaster = await usersOnEveryShard();
    const [master, bob] = [...byMaster.entries()][0]!;
    const alice = await registerUser(servers[0]!.url);
    const socket = await connect(servers[2]!, bob);
    const reconnectsBefore = (await scrape(servers[2]!.url))('rt_bus_reconnects_total');

    const sent: string[] = [];
    const sendSome = async (n: number) => {
      for (let i = 0; i < n; i++) sent.push((await send(servers[0]!, alice, bob, `#${sent.length}`)).content);
    };
    await sendSome(3);
    expect(await contents(socket, 3)).toEqual(sent);

    // Sent while the shard has no master: stored, but their publishes fail (or reach no subscriber).
    const failingOver = cluster.failOver(master);
    await sendSome(5);
    await failingOver;
    expect(await cluster.masterOf(await cluster.keyslot(`user:${bob.id}`))).not.toBe(master);
    // Nothing is sent after the failover: only the repair that the bus's reconnect signal starts can deliver them.
    expect(await contents(socket, 5)).toEqual(sent.slice(3));
    expect((await scrape(servers[2]!.url))('rt_bus_reconnects_total')).toBeGreaterThan(reconnectsBefore);

    // Live delivery goes on through the promoted replica, and the old master rejoins as a replica.
    await sendSome(3);
    expect(await contents(socket, 3)).toEqual(sent.slice(8));
    await cluster.restart(master);
    await sendSome(3);
    expect(await contents(socket, 3)).toEqual(sent.slice(11));

    // Exactly once: nothing else is pending on the socket, and it never reconnected.
    await eventually('every instance ready again', async () => {
      const states = await Promise.all(servers.map(async (s) => (await fetch(`${s.url}/readyz`)).status));
      return states.every((status) => status === 200);
    });
    const pending = socket.frames.pending;
    expect(pending.filter((frame) => frame.type === 'message:new')).toEqual([]);
    expect(socket.ws.readyState).toBe(socket.ws.OPEN);
  });

  it('while a whole shard is down keeps storing and reports unready; once it is back delivers everything once, in order', async () => {
    const byMaster = await usersOnEveryShard();
    const [master, bob] = [...byMaster.entries()][1]!;
    const replica = await cluster.replicaOf(master);
    const alice = await registerUser(servers[0]!.url);
    const socket = await connect(servers[1]!, bob);
    const sent: string[] = [];
    const sendSome = async (n: number) => {
      for (let i = 0; i < n; i++) sent.push((await send(servers[0]!, alice, bob, `#${sent.length}`)).content);
    };
    await sendSome(2);
    expect(await contents(socket, 2)).toEqual(sent);

    // No node serves the shard's slots: with cluster-require-full-coverage (the default) the cluster refuses every
    // command, as a single Redis that is down would.
    await Promise.all([cluster.kill(replica), cluster.kill(master)]);
    await eventually('every instance reports Redis unready', async () => {
      const states = await Promise.all(servers.map(async (s) => (await fetch(`${s.url}/readyz`)).json() as Promise<{ redis: boolean }>));
      return states.every((state) => state.redis === false);
    });
    const reconnectsBefore = (await scrape(servers[1]!.url))('rt_bus_reconnects_total');
    await sendSome(4);

    await cluster.restart(master, replica);
    expect(await contents(socket, 4)).toEqual(sent.slice(2));
    // A publish that timed out may still reach Redis from ioredis' retries once the shard is back; whether it does
    // or not, the receiving instance was told of the loss and repaired from the database.
    await eventually('the receiving instance repaired', async () => (await scrape(servers[1]!.url))('rt_bus_reconnects_total') > reconnectsBefore);
    await sendSome(2);
    expect(await contents(socket, 2)).toEqual(sent.slice(6));
    await eventually('every instance ready again', async () => {
      const states = await Promise.all(servers.map(async (s) => (await fetch(`${s.url}/readyz`)).status));
      return states.every((status) => status === 200);
    });
    expect(socket.frames.pending.filter((frame) => frame.type === 'message:new')).toEqual([]);
    expect(socket.ws.readyState).toBe(socket.ws.OPEN);
  });
});
