// One stream per user. Local subscribers are served straight from memory, so delivery on this instance keeps
// working while Redis is down; with Redis every event is also relayed to the other instances, which drop nothing but
// their own echoes. One server: PUBLISH/SUBSCRIBE. A Redis Cluster: sharded pub/sub (SPUBLISH/SSUBSCRIBE), so each
// user's channel lives on the shard its name hashes to and no shard carries every message.
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { connectRedis, isCluster, type RedisTarget } from './redis.ts';
import type { StreamEntry } from './user-event.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';

export type StreamEntryListener = (entry: StreamEntry) => void;

/** What a channel is about: a user's own stream, or the presence of a watched user (ephemeral, no positions). */
export type Topic = 'user' | 'presence';

export interface Bus {
  /**
   * Publishes an entry of a user's stream. At most once: an entry lost on the way (Redis away) is found again by
   * position in the database (domain/stream-hub.ts).
   */
  publish(userId: number, entry: StreamEntry, topic?: Topic): void;
  /** Resolves once the listener receives entries published by any instance. */
  subscribe(userId: number, listener: StreamEntryListener, topic?: Topic): Promise<void>;
  /** Stops a listener that subscribe() added. */
  unsubscribe(userId: number, listener: StreamEntryListener, topic?: Topic): void;
  /**
   * Calls `listener` whenever a connection that receives other instances' entries is back after a loss (on a
   * cluster: whenever the subscriber connections to the shards were re-established, e.g. after a failover).
   */
  onReconnect(listener: () => void): void;
  /** True when cross-instance delivery works (always true without Redis). */
  healthy(): Promise<boolean>;
  close(): Promise<void>;
}

interface Relayed {
  origin: string;
  topic?: Topic;
  userId: number;
  entry: StreamEntry;
}

const channel = (userId: number, topic: Topic = 'user') => `${topic}:${userId}`;

/** The local half: listeners in this process, each user's on its own event name. */
function createLocal(logger: Logger) {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    emit(userId: number, entry: StreamEntry, topic?: Topic) {
      for (const listener of emitter.listeners(channel(userId, topic)) as StreamEntryListener[]) {
        try {
          listener(entry);
        } catch (err) {
          logger.error({ err, userId }, 'user event listener failed');
        }
      }
    },
    /** Adds the listener; returns how many the user now has here. */
    add(userId: number, listener: StreamEntryListener, topic?: Topic) {
      emitter.on(channel(userId, topic), listener);
      return emitter.listenerCount(channel(userId, topic));
    },
    /** Removes the listener; returns how many the user still has here. */
    remove(userId: number, listener: StreamEntryListener, topic?: Topic) {
      emitter.off(channel(userId, topic), listener);
      return emitter.listenerCount(channel(userId, topic));
    },
    clear: () => void emitter.removeAllListeners(),
  };
}

export function createBus(options: { redis?: RedisTarget; commandTimeoutMs?: number; logger: Logger; metrics: Metrics }): Bus {
  const { logger, metrics } = options;
  const local = createLocal(logger);
  if (!options.redis) {
    return {
      publish: local.emit,
      async subscribe(userId, listener, topic) {
        local.add(userId, listener, topic);
      },
      unsubscribe: (userId, listener, topic) => void local.remove(userId, listener, topic),
      onReconnect: () => undefined,
      healthy: async () => true,
      close: async () => local.clear(),
    };
  }
  const relay = createRelay(options.redis, options);
  const origin = randomUUID();
  const failedMessage = (err: Error) => logger.error({ err: err.message }, 'unreadable message on a user channel');
  relay.onMessage((message) => {
    let relayed: Relayed;
    try {
      relayed = JSON.parse(message) as Relayed;
    } catch (err) {
      return failedMessage(err as Error);
    }
    const { origin: from, topic, userId, entry } = relayed;
    if (from === origin) return;
    metrics.busReceived.inc();
    local.emit(userId, entry, topic);
  });
  let closed = false;

  return {
    publish(userId, entry, topic) {
      local.emit(userId, entry, topic);
      if (!relay.publishing()) {
        metrics.busErrors.inc();
        logger.warn({ userId, position: entry.position }, 'redis unavailable: entry delivered on this instance only');
        return;
      }
      relay.publish(channel(userId, topic), JSON.stringify({ origin, topic, userId, entry } satisfies Relayed));
      metrics.busPublished.inc();
    },
    async subscribe(userId, listener, topic) {
      // One Redis subscription per user and topic on this instance, however many connections the user has here.
      if (local.add(userId, listener, topic) === 1) await relay.subscribe(channel(userId, topic));
    },
    unsubscribe(userId, listener, topic) {
      if (local.remove(userId, listener, topic) === 0 && !closed) void relay.unsubscribe(channel(userId, topic));
    },
    onReconnect: relay.onReconnect,
    healthy: relay.healthy,
    async close() {
      closed = true;
      local.clear();
      await relay.close();
    },
  };
}

/** The Redis half: the channels on one server or on a cluster's shards, and how a loss of them shows. */
function createRelay(target: RedisTarget, options: { commandTimeoutMs?: number; logger: Logger; metrics: Metrics }) {
  const { logger, metrics } = options;
  // Publishing fails fast while Redis is away instead of queueing without bound; the subscriber connections
  // reconnect and re-subscribe on their own (ioredis autoResubscribe; on a cluster its sharded subscriber group).
  // A Redis that hangs (stopped, not gone) must not hold up the sockets subscribing: every command has a timeout.
  const commandTimeout = options.commandTimeoutMs;
  const publisher = connectRedis(target, { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout });
  const subscriber = connectRedis(target, { maxRetriesPerRequest: null, commandTimeout }, true);
  for (const [name, client] of [
    ['publish', publisher],
    ['subscribe', subscriber],
  ] as const) {
    client.on('error', (err: Error) => logger.warn({ err: err.message, client: name }, 'redis connection error'));
  }
  // Commands are fired and forgotten (or awaited without failing the caller): a failure is logged and counted.
  const failed = (what: string) => (err: Error) => {
    metrics.busErrors.inc();
    logger.warn({ err: err.message }, `redis ${what} failed`);
  };

  // What was published while a subscriber connection was away never arrives: listeners look it up by position.
  const reconnectListeners: (() => void)[] = [];
  const reconnected = () => {
    metrics.busReconnects.inc();
    for (const listener of reconnectListeners) listener();
  };
  if (isCluster(subscriber)) {
    // ioredis rebuilds its per-master subscribers (and re-subscribes their channels) only when one of them ended or
    // the slots moved, and says so with `subscribersReady` afterwards: each such rebuild may have lost messages. A
    // rebuild against a master that is still down says so too, so every one of them counts, not only the first.
    let started = false;
    subscriber.on('subscribersReady', () => {
      if (started) reconnected();
      started = true;
    });
  } else {
    let lost = false;
    subscriber.on('close', () => (lost = true));
    subscriber.on('ready', () => {
      if (!lost) return;
      lost = false;
      reconnected();
    });
  }
  const subscribe = (name: string) => (isCluster(subscriber) ? subscriber.ssubscribe(name) : subscriber.subscribe(name));

  return {
    publishing: () => publisher.status === 'ready',
    publish(name: string, message: string) {
      const sent = isCluster(publisher) ? publisher.spublish(name, message) : publisher.publish(name, message);
      sent.catch(failed('publish'));
    },
    /**
     * Resolves once Redis confirmed the subscription, so nothing published afterwards is missed. While Redis is
     * away ioredis subscribes on reconnect; waiting for that would stall the caller.
     */
    async subscribe(name: string) {
      if (subscriber.status !== 'ready') return void subscribe(name).catch(failed('subscribe'));
      await subscribe(name).catch(failed('subscribe'));
    },
    unsubscribe: (name: string) => (isCluster(subscriber) ? subscriber.sunsubscribe(name) : subscriber.unsubscribe(name)).catch(failed('unsubscribe')),
    onMessage(listener: (message: string) => void) {
      if (isCluster(subscriber)) subscriber.on('smessage', (_channel: string, message: string) => listener(message));
      else subscriber.on('message', (_channel: string, message: string) => listener(message));
    },
    onReconnect(listener: () => void) {
      reconnectListeners.push(listener);
    },
    async healthy() {
      if (publisher.status !== 'ready' || subscriber.status !== 'ready') return false;
      // Connected is not enough: a Redis that hangs keeps its connections. It must answer within the timeout; a
      // cluster must also cover every slot (a master down and not yet replaced fails the channels on its shard).
      if (!isCluster(publisher))
        return publisher.ping().then(
          () => true,
          () => false,
        );
      return publisher.cluster('INFO').then(
        (info) => String(info).includes('cluster_state:ok'),
        () => false,
      );
    },
    async close() {
      await Promise.allSettled([publisher.quit(), subscriber.quit()]);
      publisher.disconnect();
      subscriber.disconnect();
    },
  };
}
