// State the instances share through Redis (rate-limit logs, active typing starts, open connections), with a local
// answer whenever Redis gives none in time. A Redis that hangs costs a request at most one command timeout; after a
// failure the instance keeps to its own state for a moment instead of waiting on every call.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { connectRedis, type RedisTarget } from '../events/redis.ts';
import type { Logger } from '../observability/logger.ts';

/** How long an instance keeps to its own state after Redis failed to answer. */
const SUSPEND_MS = 1000;

/** A Lua script, run atomically by Redis; its clock (TIME) is the one every instance agrees on. */
export interface Script {
  /** Undefined: as many as each call passes. */
  readonly numberOfKeys?: number;
  readonly lua: string;
}

export interface SharedStore {
  /**
   * `remote` when Redis answers, else `local`: Redis is not configured (the instance runs alone), did not answer
   * within the command timeout, refused, or failed moments ago.
   */
  attempt<T>(remote: (run: RunScript) => Promise<T>, local: () => T): Promise<T>;
  /**
   * Settles once the connection to Redis is open, or after the command timeout if it does not open. Start-up waits
   * for it: commands sent while the connection is still opening fail at once, which would make a new instance keep
   * its limits to itself for its first moments.
   */
  ready(): Promise<void>;
  close(): Promise<void>;
}

export type RunScript = (script: Script, keys: string[], args: (string | number)[]) => Promise<unknown>;

/**
 * A key about `subject` (a user id, an address, an account): the subject is its hash tag, so on a Redis Cluster
 * every key about one subject is on one shard and a script may use several of them atomically.
 */
export const sharedKey = (kind: string, subject: string | number, ...rest: (string | number)[]) => [`${kind}:{${subject}}`, ...rest].join(':');

export function createSharedStore(options: { redis?: RedisTarget; commandTimeoutMs: number; logger: Logger }): SharedStore {
  const { logger } = options;
  if (!options.redis) return { attempt: async (_remote, local) => local(), ready: async () => undefined, close: async () => undefined };

  const redis = connectRedis(options.redis, { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: options.commandTimeoutMs });
  redis.on('error', (err) => logger.debug({ err: err.message }, 'shared store redis error'));
  const defined = new Map<Script, string>();
  const run: RunScript = (script, keys, args) => {
    let name = defined.get(script);
    if (!name) {
      name = `rt_${createHash('sha1').update(script.lua).digest('hex').slice(0, 12)}`;
      redis.defineCommand(name, { numberOfKeys: script.numberOfKeys, lua: script.lua });
      defined.set(script, name);
    }
    const commands = redis as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
    return script.numberOfKeys === undefined ? commands[name]!(keys.length, ...keys, ...args) : commands[name]!(...keys, ...args);
  };
  let suspendedUntil = 0;

  return {
    async attempt(remote, local) {
      if (Date.now() < suspendedUntil) return local();
      try {
        return await remote(run);
      } catch (err) {
        suspendedUntil = Date.now() + SUSPEND_MS;
        logger.warn({ err: (err as Error).message }, 'redis did not answer: keeping to this instance for a moment');
        return local();
      }
    },
    async ready() {
      if (redis.status === 'ready') return;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([once(redis, 'ready'), new Promise((resolve) => (timer = setTimeout(resolve, options.commandTimeoutMs)))]).finally(() =>
        clearTimeout(timer),
      );
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
