// Per-user (and per-IP) limits shared by every transport and, with Redis, by every instance. Fixed one-minute
// windows from rate-limiter-flexible; while Redis is unreachable each instance falls back to its own memory.
import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { AppError } from './errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';

export type LimitKind = 'message' | 'typing' | 'auth' | 'connection' | 'graphql';

export interface RateLimits {
  /** Counts one action; throws RATE_LIMIT (with retryAfterMs) when the key is over its limit. */
  consume(kind: LimitKind, key: string | number): Promise<void>;
  close(): Promise<void>;
}

export function createRateLimits(options: {
  perMinute: Record<LimitKind, number>;
  redisUrl?: string;
  logger: Logger;
  metrics: Metrics;
}): RateLimits {
  const redis = options.redisUrl ? new Redis(options.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 }) : undefined;
  redis?.on('error', (err) => options.logger.debug({ err: err.message }, 'rate limit redis error'));
  const limiters = new Map<LimitKind, RateLimiterAbstract>();
  for (const [kind, points] of Object.entries(options.perMinute) as [LimitKind, number][]) {
    if (points <= 0) continue; // 0 disables a limit
    const base = { points, duration: 60, keyPrefix: `rl:${kind}` };
    limiters.set(
      kind,
      redis
        ? new RateLimiterRedis({ ...base, storeClient: redis, rejectIfRedisNotReady: true, insuranceLimiter: new RateLimiterMemory(base) })
        : new RateLimiterMemory(base),
    );
  }
  return {
    async consume(kind, key) {
      const limiter = limiters.get(kind);
      if (!limiter) return;
      try {
        await limiter.consume(String(key));
      } catch (res) {
        if (!(res instanceof RateLimiterRes)) throw res;
        options.metrics.rateLimited.inc({ kind });
        options.logger.warn({ kind, key }, 'rate limit exceeded');
        const retryAfterMs = Math.max(1, res.msBeforeNext);
        throw new AppError('RATE_LIMIT', `Too many ${kind} requests; retry in ${Math.ceil(retryAfterMs / 1000)} s`, retryAfterMs);
      }
    },
    async close() {
      if (redis) await redis.quit().catch(() => redis.disconnect());
    },
  };
}
