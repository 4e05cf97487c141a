// Open connections per user (JSON sockets, graphql-ws sockets, server-sent event streams), counted across instances,
// and whether each user is online (docs/decisions.md, "Presence"). In Redis each user has a sorted set of connection
// ids scored by the expiry of their lease; the instance holding them renews the leases, so the connections of an
// instance that crashed stop counting once their lease runs out instead of leaking. The same leases make presence:
// `presence:online` holds every user announced online, scored by when they go offline unless a lease is renewed
// (the latest lease expiry, or the end of the grace period once the last connection closed), and whoever sweeps a
// user past that score announces them offline. While Redis does not answer, an instance knows only its own
// connections.
import { AppError } from './errors.ts';
import { sharedKey, type Script, type SharedStore } from './shared-store.ts';
import type { Metrics } from '../observability/metrics.ts';

const LEASE_MS = 60_000;
/** What a refused client is told to wait: long enough for one of its other connections to end. */
const RETRY_AFTER_MS = 30_000;
/** Users taken offline by one sweep at most; the next sweep takes the rest. */
const SWEEP_BATCH = 500;

// The presence sets are global and every lease script updates them with the user's leases, so on a Redis Cluster
// all of these keys share one hash tag ({presence}) and one shard: the scripts stay atomic, at the price of that
// shard carrying every lease renewal (docs/operations.md, capacity model).
const TAG = 'presence';
const ONLINE = sharedKey('presence', TAG, 'online');
/** When each user in the grace period closed their last connection: their lastActiveAt. */
const LAST = sharedKey('presence', TAG, 'last');

const NOW = `local time = redis.call('TIME') local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)`;
/**
 * Adds connection ARGV[3] of user ARGV[4] unless the cap ARGV[1] (0: none) is reached. 0 when refused, 1 when
 * admitted, 2 when admitted and the user was not online before; then Redis' time.
 */
const ACQUIRE: Script = {
  numberOfKeys: 3,
  lua: `${NOW}
    redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
    local max = tonumber(ARGV[1])
    if max > 0 and redis.call('ZCARD', KEYS[1]) >= max then return {0, now} end
    local expiry = now + tonumber(ARGV[2])
    redis.call('ZADD', KEYS[1], expiry, ARGV[3])
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    redis.call('HDEL', KEYS[3], ARGV[4])
    local was = redis.call('ZSCORE', KEYS[2], ARGV[4])
    redis.call('ZADD', KEYS[2], 'GT', expiry, ARGV[4])
    if was then return {1, now} end
    return {2, now}`,
};
/**
 * Extends the leases of several users' connections: KEYS[3..] are the users' lease sets, ARGV[1] the lease, then per
 * user its id, how many connections follow, and their ids; adds those Redis lost (a restart), since they are open.
 * Redis' time, then the users who were not online.
 */
const RENEW: Script = {
  lua: `${NOW}
    local expiry = now + tonumber(ARGV[1])
    local out = {now}
    local i = 2
    for k = 3, #KEYS do
      local user, count = ARGV[i], tonumber(ARGV[i + 1])
      for j = i + 2, i + 1 + count do redis.call('ZADD', KEYS[k], expiry, ARGV[j]) end
      i = i + 2 + count
      redis.call('PEXPIRE', KEYS[k], ARGV[1])
      redis.call('HDEL', KEYS[2], user)
      if not redis.call('ZSCORE', KEYS[1], user) then out[#out + 1] = tonumber(user) end
      redis.call('ZADD', KEYS[1], 'GT', expiry, user)
    end
    return out`,
};
/** Users whose leases one RENEW extends: one script call per batch instead of a round trip per user. */
const RENEW_BATCH = 500;
/** Removes connection ARGV[1] of user ARGV[2]; when it was the last, the user goes offline after ARGV[3] ms unless one opens. */
const RELEASE: Script = {
  numberOfKeys: 3,
  lua: `${NOW}
    redis.call('ZREM', KEYS[1], ARGV[1])
    redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
    if redis.call('ZCARD', KEYS[1]) > 0 then return 0 end
    redis.call('ZADD', KEYS[2], 'XX', now + tonumber(ARGV[3]), ARGV[2])
    redis.call('HSET', KEYS[3], ARGV[2], now)
    return 1`,
};
/**
 * Takes up to ARGV[1] users whose time ran out off the online set; answers Redis' time, then user, lastActiveAt
 * pairs. A user whose instance crashed was last seen when the lease was last renewed: its expiry minus the lease ARGV[2].
 */
const SWEEP: Script = {
  numberOfKeys: 2,
  lua: `${NOW}
    local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[1]))
    local out = {now}
    for i = 1, #due, 2 do
      redis.call('ZREM', KEYS[1], due[i])
      local last = redis.call('HGET', KEYS[2], due[i])
      redis.call('HDEL', KEYS[2], due[i])
      out[#out + 1] = tonumber(due[i])
      out[#out + 1] = tonumber(last) or (tonumber(due[i + 1]) - tonumber(ARGV[2]))
    end
    return out`,
};
const STATE: Script = { numberOfKeys: 1, lua: `return redis.call('ZMSCORE', KEYS[1], unpack(ARGV))` };

/**
 * A user came online, or went offline (with when they were last active), `at` a time (ms since the epoch, Redis'
 * clock while it answers) by which watchers put changes announced by different instances in order.
 */
export type PresenceChange = { userId: number; at: number } & ({ online: true } | { online: false; lastActiveAt: number });

let lastConnection = 0;

export type Connections = ReturnType<typeof createConnections>;

/**
 * `leaseMs` (PRESENCE_TTL_MS) bounds how long a crashed instance's users stay online; `graceMs` is how long a user
 * whose last connection closed stays online, so that a reconnect announces nothing. `onChange` hears every
 * transition once, on the instance that made it.
 */
export function createConnections(deps: {
  store: SharedStore;
  maxPerUser: number;
  leaseMs?: number;
  graceMs?: number;
  metrics?: Metrics;
  onChange?: (change: PresenceChange) => void;
}) {
  const { store, maxPerUser, leaseMs = LEASE_MS, graceMs = 0, metrics, onChange = () => undefined } = deps;
  const instance = `${process.pid}.${Math.random().toString(36).slice(2, 10)}`;
  /** This instance's open connections, by user: usually one or two each, an array is the smallest holder. */
  const open = new Map<number, string[]>();
  /** The online set as this instance alone sees it: used while Redis does not answer. */
  const local = new Map<number, { until: number; last?: number }>();
  const key = (userId: number) => sharedKey('conn', TAG, userId);
  const keys = (userId: number) => [key(userId), ONLINE, LAST];

  const cameOnline = (userId: number, at: number) => onChange({ userId, online: true, at });
  /** Local counterpart of ACQUIRE/RENEW: true when the user was not online. */
  const extendLocal = (userId: number) => {
    const was = local.get(userId);
    local.set(userId, { until: Math.max(was?.until ?? 0, Date.now() + leaseMs) });
    return was === undefined;
  };

  const sweep = async () => {
    const { at, due } = await store.attempt(
      async (run) => {
        const [now, ...flat] = (await run(SWEEP, [ONLINE, LAST], [SWEEP_BATCH, leaseMs])) as number[];
        return { at: now!, due: Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i]!, flat[2 * i + 1]!] as const) };
      },
      () => {
        const now = Date.now();
        const gone = [...local].filter(([, entry]) => entry.until <= now);
        for (const [userId] of gone) local.delete(userId);
        return { at: now, due: gone.map(([userId, entry]) => [userId, entry.last ?? entry.until - leaseMs] as const) };
      },
    );
    for (const [userId, lastActiveAt] of due) onChange({ userId, online: false, lastActiveAt, at });
  };
  // Sweeps when the grace periods of the last connections that closed here run out, in order; rounded up to a tenth
  // of a second, so that a burst of closes costs one sweep.
  const dues: number[] = [];
  let sweepTimer: NodeJS.Timeout | undefined;
  let closed = false;
  const scheduleSweep = () => {
    sweepTimer = setTimeout(
      () => {
        while (dues.length && dues[0]! <= Date.now()) dues.shift();
        void sweep();
        sweepTimer = undefined;
        if (dues.length) scheduleSweep();
      },
      Math.max(0, dues[0]! - Date.now()),
    ).unref();
  };
  const sweepAfterGrace = () => {
    if (closed) return;
    const due = Math.ceil((Date.now() + graceMs) / 100) * 100 + 10;
    if (dues.at(-1) !== due) dues.push(due);
    if (!sweepTimer) scheduleSweep();
  };

  /** Extends the leases of these users' open connections; announces those who were not online (Redis restarted). */
  const renew = async (users: [number, string[]][]) => {
    const { at, back } = await store.attempt(
      async (run) => {
        const args = [leaseMs, ...users.flatMap(([userId, ids]) => [userId, ids.length, ...ids])];
        const [now, ...back] = (await run(RENEW, [ONLINE, LAST, ...users.map(([userId]) => key(userId))], args)) as number[];
        return { at: now!, back };
      },
      () => ({ at: Date.now(), back: users.filter(([userId]) => extendLocal(userId)).map(([userId]) => userId) }),
    );
    for (const userId of back) cameOnline(userId, at);
  };

  const timers = [
    setInterval(() => {
      const users = [...open];
      for (let from = 0; from < users.length; from += RENEW_BATCH) void renew(users.slice(from, from + RENEW_BATCH));
    }, leaseMs / 3).unref(),
    // Users of a crashed instance: nobody released them, their score runs out.
    setInterval(() => void sweep(), Math.max(50, leaseMs / 6)).unref(),
  ];
  const gauge = () => metrics?.onlineUsers.set(open.size);

  return {
    /**
     * Counts a new connection of the user; throws RATE_LIMIT when the user already has `maxPerUser` open. Returns
     * the function that ends the count (idempotent): call it when the connection closes, however it closes.
     */
    async admit(userId: number): Promise<() => void> {
      const id = `${instance}:${++lastConnection}`;
      const here = open.get(userId)?.length ?? 0;
      const [admitted, at] = await store.attempt(
        async (run) => (await run(ACQUIRE, keys(userId), [maxPerUser, leaseMs, id, userId])) as [number, number],
        () => [maxPerUser > 0 && here >= maxPerUser ? 0 : extendLocal(userId) ? 2 : 1, Date.now()],
      );
      if (!admitted) throw new AppError('RATE_LIMIT', `Too many open connections: at most ${maxPerUser} per user`, RETRY_AFTER_MS);
      const ids = open.get(userId) ?? open.set(userId, []).get(userId)!;
      ids.push(id);
      gauge();
      if (admitted === 2) cameOnline(userId, at);
      return () => {
        const at = ids.indexOf(id);
        if (at < 0) return;
        ids.splice(at, 1);
        if (!ids.length && open.get(userId) === ids) open.delete(userId);
        gauge();
        void store
          .attempt(
            async (run) => (await run(RELEASE, keys(userId), [id, userId, graceMs])) === 1,
            () => {
              const entry = local.get(userId);
              if (open.has(userId) || !entry) return false;
              entry.until = Date.now() + graceMs;
              entry.last = Date.now();
              return true;
            },
          )
          .then((last) => last && sweepAfterGrace());
      };
    },

    /** For each user, whether they are online (announced online and not yet swept). */
    async online(userIds: number[]): Promise<boolean[]> {
      if (!userIds.length) return [];
      return store.attempt(
        async (run) => ((await run(STATE, [ONLINE], userIds)) as (string | null)[]).map((score) => score !== null),
        () => userIds.map((userId) => local.has(userId)),
      );
    },

    /** Stops renewing: this instance's connections stop counting once their leases run out. */
    close() {
      closed = true;
      for (const timer of timers) clearInterval(timer);
      clearTimeout(sweepTimer);
    },
  };
}
