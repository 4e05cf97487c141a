// One stream per user. Local subscribers are served straight from memory, so delivery on this instance keeps
// working while Redis is down; with REDIS_URL every event is also relayed through
// @graphql-yoga/redis-event-target to the other instances, which drop nothing but their own echoes.
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { Redis } from 'ioredis';
import type { StreamEntry } from './user-event.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';

export type StreamEntryListener = (entry: StreamEntry) => void;

export interface Bus {
  /**
   * Publishes an entry of a user's stream. At most once: an entry lost on the way (Redis away) is found again by
   * position in the database (domain/stream-hub.ts).
   */
  publish(userId: number, entry: StreamEntry): void;
  /** Resolves once the listener receives entries published by any instance; returns the unsubscribe function. */
  subscribe(userId: number, listener: StreamEntryListener): Promise<() => void>;
  /** Calls `listener` whenever the connection that receives other instances' entries is back after a loss. */
  onReconnect(listener: () => void): void;
  /** True when cross-instance delivery works (always true without Redis). */
  healthy(): Promise<boolean>;
  close(): Promise<void>;
}

interface Relayed {
  origin: string;
  userId: number;
  entry: StreamEntry;
}

const channel = (userId: number) => `user:${userId}`;

export function createBus(options: { redisUrl?: string; commandTimeoutMs?: number; logger: Logger; metrics: Metrics }): Bus {
  const { logger, metrics } = options;
  const local = new EventEmitter();
  local.setMaxListeners(0);
  const emitLocal = (userId: number, entry: StreamEntry) => {
    for (const listener of local.listeners(channel(userId)) as StreamEntryListener[]) {
      try {
        listener(entry);
      } catch (err) {
        logger.error({ err, userId }, 'user event listener failed');
      }
    }
  };
  if (!options.redisUrl) {
    return {
      publish: emitLocal,
      async subscribe(userId, listener) {
        local.on(channel(userId), listener);
        return () => local.off(channel(userId), listener);
      },
      onReconnect: () => undefined,
      healthy: async () => true,
      close: async () => void local.removeAllListeners(),
    };
  }

  const origin = randomUUID();
  let closed = false;
  // Publishing fails fast while Redis is away instead of queueing without bound; the subscriber connection
  // reconnects and re-subscribes on its own (ioredis autoResubscribe).
  // A Redis that hangs (stopped, not gone) must not hold up the sockets subscribing: every command has a timeout.
  const commandTimeout = options.commandTimeoutMs;
  const publishClient = new Redis(options.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout });
  const subscribeClient = new Redis(options.redisUrl, { maxRetriesPerRequest: null, commandTimeout });
  for (const [name, client] of [['publish', publishClient], ['subscribe', subscribeClient]] as const) {
    client.on('error', (err) => logger.warn({ err: err.message, client: name }, 'redis connection error'));
  }
  // The event target fires these calls and forgets them; a failure (Redis away, or closing) must be logged and
  // counted, not become an unhandled rejection.
  const failed = (what: string) => (err: Error) => {
    metrics.busErrors.inc();
    logger.warn({ err: err.message }, `redis ${what} failed`);
  };
  const target = createRedisEventTarget<CustomEvent<Relayed>>({
    publishClient: { publish: (name: string, message: string) => publishClient.publish(name, message).catch(failed('publish')) } as unknown as Redis,
    subscribeClient: {
      on: subscribeClient.on.bind(subscribeClient),
      subscribe: (name: string) => subscribeClient.subscribe(name).catch(failed('subscribe')),
      unsubscribe: (name: string) => subscribeClient.unsubscribe(name).catch(failed('unsubscribe')),
    } as unknown as Redis,
  });
  const relay = (event: CustomEvent<Relayed>) => {
    const { origin: from, userId, entry } = event.detail;
    if (from === origin) return;
    metrics.busReceived.inc();
    emitLocal(userId, entry);
  };
  // What was published while this connection was away never arrives: listeners look it up by position.
  const reconnectListeners: (() => void)[] = [];
  let lost = false;
  subscribeClient.on('close', () => (lost = true));
  subscribeClient.on('ready', () => {
    if (!lost) return;
    lost = false;
    for (const listener of reconnectListeners) listener();
  });

  return {
    publish(userId, entry) {
      emitLocal(userId, entry);
      if (publishClient.status !== 'ready') {
        metrics.busErrors.inc();
        logger.warn({ userId, position: entry.position }, 'redis unavailable: entry delivered on this instance only');
        return;
      }
      target.dispatchEvent(new CustomEvent(channel(userId), { detail: { origin, userId, entry } }));
      metrics.busPublished.inc();
    },
    async subscribe(userId, listener) {
      const name = channel(userId);
      local.on(name, listener);
      // One Redis subscription per user on this instance, however many connections the user has here.
      if (local.listenerCount(name) === 1) target.addEventListener(name, relay);
      const unsubscribe = () => {
        local.off(name, listener);
        if (local.listenerCount(name) === 0 && !closed) target.removeEventListener(name, relay);
      };
      // SUBSCRIBE is idempotent: awaiting our own confirms the target's (same connection, in order). While
      // Redis is away, ioredis re-subscribes on reconnect; waiting for that would stall the caller.
      if (subscribeClient.status === 'ready') await subscribeClient.subscribe(name).catch(failed('subscribe'));
      return unsubscribe;
    },
    onReconnect(listener) {
      reconnectListeners.push(listener);
    },
    async healthy() {
      if (publishClient.status !== 'ready' || subscribeClient.status !== 'ready') return false;
      // Connected is not enough: a Redis that hangs keeps its connections. It must answer within the timeout.
      return publishClient.ping().then(() => true, () => false);
    },
    async close() {
      local.removeAllListeners();
      closed = true;
      await Promise.allSettled([publishClient.quit(), subscribeClient.quit()]);
      publishClient.disconnect();
      subscribeClient.disconnect();
    },
  };
}
