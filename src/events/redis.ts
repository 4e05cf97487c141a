// Where Redis is: one server (REDIS_URL) or a Redis Cluster (REDIS_CLUSTER_NODES). The bus and the shared store
// open their connections here, so that both speak to the same deployment with the same timeouts.
import { Cluster, Redis, type RedisOptions } from 'ioredis';

const SLOTS_REFRESH_MS = 5000;

export type RedisTarget = { url: string } | { clusterNodes: string[] };

export type RedisClient = Redis | Cluster;

/**
 * A client for the target. On a cluster, `options` apply to every node connection, and `sharded` opens one
 * subscriber connection per master for SSUBSCRIBE (ioredis' `shardedSubscribers`).
 */
export function connectRedis(target: RedisTarget, options: RedisOptions, sharded = false): RedisClient {
  if ('url' in target) return new Redis(target.url, options);
  // Credentials and TLS of the first seed apply to every node: the cluster reports the others by address only.
  const seeds = target.clusterNodes.map((node) => new URL(node.includes('://') ? node : `redis://${node}`));
  const first = seeds[0]!;
  // Node connections are opened lazily by the first command routed to them: they must queue it meanwhile. Failing
  // fast while the cluster is away is the cluster's own enableOfflineQueue.
  const { enableOfflineQueue, ...nodeOptions } = options;
  const redisOptions: RedisOptions = {
    ...nodeOptions,
    username: decodeURIComponent(first.username) || undefined,
    password: decodeURIComponent(first.password) || undefined,
    tls: first.protocol === 'rediss:' ? {} : undefined,
  };
  return new Cluster(
    seeds.map((seed) => ({ host: seed.hostname, port: Number(seed.port) || 6379 })),
    // A failover that no command of ours runs into (a master that hangs rather than closes) is still seen.
    { redisOptions, enableOfflineQueue, shardedSubscribers: sharded, slotsRefreshInterval: SLOTS_REFRESH_MS },
  );
}

export const isCluster = (client: RedisClient): client is Cluster => client instanceof Cluster;
