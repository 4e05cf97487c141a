// Open connections per user (JSON sockets, graphql-ws sockets, server-sent event streams), counted across instances.
// In Redis each user has a sorted set of connection ids scored by the expiry of their lease; the instance holding
// them renews the leases, so the connections of an instance that crashed stop counting once their lease runs out
// instead of leaking. While Redis does not answer, an instance counts only its own connections.
import { AppError } from './errors.ts';
import { sharedKey, type Script, type SharedStore } from './shared-store.ts';

const LEASE_MS = 60_000;
/** What a refused client is told to wait: long enough for one of its other connections to end. */
const RETRY_AFTER_MS = 30_000;

const NOW = `local time = redis.call('TIME') local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)`;
/** Adds connection ARGV[3] unless the user already has ARGV[1] with a live lease; 1 when added. */
const ACQUIRE: Script = {
  numberOfKeys: 1,
  lua: `${NOW}
    redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
    if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
    redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return 1`,
};
/** Extends the leases of ARGV[2..]; adds those Redis lost (a restart), since they are open. */
const RENEW: Script = {
  numberOfKeys: 1,
  lua: `${NOW}
    for i = 2, #ARGV do redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[i]) end
    redis.call('PEXPIRE', KEYS[1], ARGV[1])
    return 0`,
};
const RELEASE: Script = { numberOfKeys: 1, lua: `return redis.call('ZREM', KEYS[1], ARGV[1])` };

let lastConnection = 0;

export type Connections = ReturnType<typeof createConnections>;

/** `leaseMs` is shorter only in tests, which cannot wait for a minute-long lease to run out. */
export function createConnections(deps: { store: SharedStore; maxPerUser: number; leaseMs?: number }) {
  const { store, maxPerUser, leaseMs = LEASE_MS } = deps;
  const instance = `${process.pid}.${Math.random().toString(36).slice(2, 10)}`;
  /** This instance's open connections, by user. */
  const open = new Map<number, Set<string>>();
  const key = (userId: number) => sharedKey('conn', userId);

  const renewer = setInterval(() => {
    for (const [userId, ids] of open) void store.attempt((run) => run(RENEW, [key(userId)], [leaseMs, ...ids]), () => undefined);
  }, leaseMs / 3).unref();

  return {
    /**
     * Counts a new connection of the user; throws RATE_LIMIT when the user already has `maxPerUser` open. Returns
     * the function that ends the count (idempotent): call it when the connection closes, however it closes.
     */
    async admit(userId: number): Promise<() => void> {
      if (maxPerUser <= 0) return () => undefined;
      const id = `${instance}:${++lastConnection}`;
      const here = open.get(userId)?.size ?? 0;
      const admitted = await store.attempt(
        async (run) => (await run(ACQUIRE, [key(userId)], [maxPerUser, leaseMs, id])) === 1,
        () => here < maxPerUser,
      );
      if (!admitted) throw new AppError('RATE_LIMIT', `Too many open connections: at most ${maxPerUser} per user`, RETRY_AFTER_MS);
      const ids = open.get(userId) ?? open.set(userId, new Set()).get(userId)!;
      ids.add(id);
      return () => {
        if (!ids.delete(id)) return;
        if (!ids.size && open.get(userId) === ids) open.delete(userId);
        void store.attempt((run) => run(RELEASE, [key(userId)], [id]), () => undefined);
      };
    },

    /** Stops renewing: this instance's connections stop counting once their leases run out. */
    close() {
      clearInterval(renewer);
    },
  };
}
