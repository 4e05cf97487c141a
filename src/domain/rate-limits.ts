// Per-user (and per-IP, per-account) limits shared by every transport and, with Redis, by every instance. Each key
// keeps a log of its actions over the last window (a sorted set in Redis, scored by Redis' clock), so no window-long
// span ever holds more than the limit: a fixed window lets a client spend twice the limit across its edge. While
// Redis does not answer, each instance keeps the same log in its own memory.
import { AppError } from './errors.ts';
import { sharedKey, type Script, type SharedStore } from './shared-store.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';

export type LimitKind = 'message' | 'typing' | 'auth' | 'connection' | 'graphql' | 'login';

export interface Limit {
  /** Actions allowed within any span of windowMs; 0 disables the limit. */
  points: number;
  windowMs: number;
}

/** Takes a counted action back, so that it no longer uses up the quota. */
export type Refund = () => Promise<void>;

export interface RateLimits {
  /** Counts one action; throws RATE_LIMIT (with retryAfterMs) when the key already had its limit within the window. */
  consume(kind: LimitKind, key: string | number): Promise<Refund>;
  close(): Promise<void>;
}

// Returns 0 when the action is logged, else the milliseconds until the oldest logged action leaves the window.
const SLIDING_LOG: Script = {
  numberOfKeys: 1,
  lua: `
    local time = redis.call('TIME')
    local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
    local limit, window = tonumber(ARGV[1]), tonumber(ARGV[2])
    redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
    if redis.call('ZCARD', KEYS[1]) < limit then
      redis.call('ZADD', KEYS[1], now, ARGV[3])
      redis.call('PEXPIRE', KEYS[1], window)
      return 0
    end
    local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
    return math.max(1, tonumber(oldest[2]) + window - now)`,
};
const UNLOG: Script = { numberOfKeys: 1, lua: `return redis.call('ZREM', KEYS[1], ARGV[1])` };

/** The same log in this instance's memory: times of the actions within the window, oldest first. */
class LocalLog {
  private readonly logs = new Map<string, number[]>();

  /** 0 when logged, else the milliseconds until a slot frees. */
  take(key: string, { points, windowMs }: Limit, now = Date.now()): number {
    const log = this.prune(key, windowMs, now);
    if (log.length >= points) return Math.max(1, log[0]! + windowMs - now);
    log.push(now);
    this.logs.set(key, log);
    return 0;
  }

  give(key: string, at: number) {
    const log = this.logs.get(key);
    const index = log?.lastIndexOf(at) ?? -1;
    if (index >= 0) log!.splice(index, 1);
  }

  /** Drops the keys with nothing left in the window, so keys seen once do not stay forever. */
  sweep(windowMs: number, now = Date.now()) {
    for (const key of this.logs.keys()) if (!this.prune(key, windowMs, now).length) this.logs.delete(key);
  }

  private prune(key: string, windowMs: number, now: number): number[] {
    const log = this.logs.get(key) ?? [];
    let expired = 0;
    while (expired < log.length && log[expired]! <= now - windowMs) expired++;
    if (expired) log.splice(0, expired);
    return log;
  }
}

let lastEntry = 0;

export function createRateLimits(options: { limits: Record<LimitKind, Limit>; store: SharedStore; logger: Logger; metrics: Metrics }): RateLimits {
  const { store } = options;
  const locals = new Map<LimitKind, LocalLog>();
  for (const [kind, limit] of Object.entries(options.limits) as [LimitKind, Limit][]) if (limit.points > 0) locals.set(kind, new LocalLog());
  const sweeper = setInterval(() => {
    for (const [kind, log] of locals) log.sweep(options.limits[kind].windowMs);
  }, 60_000).unref();
  // Entries must be unique across instances: a refund removes its own entry, never another action's.
  const instance = `${process.pid}.${Math.random().toString(36).slice(2, 10)}`;

  return {
    async consume(kind, key) {
      const local = locals.get(kind);
      if (!local) return async () => undefined;
      const limit = options.limits[kind];
      const redisKey = sharedKey(`rlog:${kind}`, key);
      const entry = `${instance}:${++lastEntry}`;
      const localKey = String(key);
      let loggedAt = 0;
      const wait = await store.attempt(
        async (run) => ({ remote: true, ms: Number(await run(SLIDING_LOG, [redisKey], [limit.points, limit.windowMs, entry])) }),
        () => ({ remote: false, ms: local.take(localKey, limit, (loggedAt = Date.now())) }),
      );
      if (wait.ms > 0) {
        options.metrics.rateLimited.inc({ kind });
        options.logger.warn({ kind, key }, 'rate limit exceeded');
        throw new AppError('RATE_LIMIT', `Too many ${kind} requests; retry in ${Math.ceil(wait.ms / 1000)} s`, wait.ms);
      }
      if (!wait.remote) return async () => local.give(localKey, loggedAt);
      return async () => {
        await store.attempt(
          (run) => run(UNLOG, [redisKey], [entry]),
          () => undefined,
        );
      };
    },
    async close() {
      clearInterval(sweeper);
    },
  };
}
