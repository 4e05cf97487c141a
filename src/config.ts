// Environment -> typed, validated configuration. Every default lives here, and this is the only module that
// reads process.env: everything else receives a Config.
import { z } from 'zod';
import type { RedisTarget } from './events/redis.ts';

const int = (fallback: number, min = 0) => z.coerce.number().int().min(min).default(fallback);
const url = (protocols: string[]) =>
  z
    .string()
    .trim()
    .refine(
      (value) => {
        try {
          return protocols.includes(new URL(value).protocol);
        } catch {
          return false;
        }
      },
      `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`,
    );

// Seed nodes of a Redis Cluster: `host:port` or `redis://[user:password@]host:port` (rediss:// for TLS), comma-separated.
const clusterNodes = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((node) => node.trim())
      .filter(Boolean),
  )
  .refine(
    (nodes) =>
      nodes.length > 0 &&
      nodes.every((node) => {
        try {
          const parsed = new URL(node.includes('://') ? node : `redis://${node}`);
          return ['redis:', 'rediss:'].includes(parsed.protocol) && parsed.hostname !== '' && parsed.port !== '';
        } catch {
          return false;
        }
      }),
    'must be host:port or redis://host:port entries, comma-separated',
  );

const flag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

// A secret an attacker could guess: whitespace (a pasted line break, padding) or few distinct characters
// ("aaaa…", "abababab…") however long.
const MIN_DISTINCT_SECRET_CHARS = 8;
const secret = z
  .string()
  .min(32, 'must be at least 32 characters')
  .refine((value) => !/\s/.test(value), 'must not contain whitespace')
  .refine((value) => new Set(value).size >= MIN_DISTINCT_SECRET_CHARS, `must contain at least ${MIN_DISTINCT_SECRET_CHARS} distinct characters`);

const EnvSchema = z.object({
  NODE_ENV: z
    .string()
    .transform((v) => v.toLowerCase())
    .pipe(z.enum(['development', 'test', 'production'], 'must be development, test or production'))
    .default('development'),
  HOST: z.string().default('0.0.0.0'),
  TRUST_PROXY: flag.default(false),
  PORT: int(4000).pipe(z.number().max(65535)),
  DATA_DIR: z.string().default('./data'),
  DATABASE_URL: url(['postgresql:', 'postgres:']).optional(),
  DATABASE_DIRECT_URL: url(['postgresql:', 'postgres:']).optional(),
  REDIS_URL: url(['redis:', 'rediss:']).optional(),
  REDIS_CLUSTER_NODES: clusterNodes.optional(),
  JWT_SECRET: secret.optional(),
  JWT_ISSUER: z.string().optional(),
  JWT_AUDIENCE: z.string().optional(),
  TOKEN_TTL_SECONDS: int(7 * 24 * 3600, 1),
  WS_PING_INTERVAL_MS: int(30_000, 1),
  WS_PONG_TIMEOUT_MS: int(10_000, 1),
  WS_IDLE_TIMEOUT_MS: int(300_000),
  WS_MAX_BUFFERED_BYTES: int(4 * 1024 * 1024, 1024),
  WS_ALLOWED_ORIGINS: z.string().optional(),
  TYPING_TIMEOUT_MS: int(3000, 1),
  RATE_LIMIT_MESSAGES_PER_MIN: int(100, 1),
  RATE_LIMIT_TYPING_PER_MIN: int(10, 1),
  RATE_LIMIT_AUTH_PER_MIN: int(300),
  RATE_LIMIT_CONNECTIONS_PER_MIN: int(120),
  RATE_LIMIT_GRAPHQL_PER_MIN: int(600),
  GRAPHQL_INTROSPECTION: flag.optional(),
  GRAPHIQL: flag.optional(),
  DEMO: flag.optional(),
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  RATE_LIMIT_WINDOW_MS: int(60_000, 1),
  LOGIN_FAILURES_PER_ACCOUNT: int(10),
  LOGIN_FAILURE_WINDOW_MS: int(15 * 60_000, 1),
  MAX_SOCKETS_PER_USER: int(20),
  PRESENCE_TTL_MS: int(60_000, 300),
  PRESENCE_GRACE_MS: int(5000),
  MAX_SUBSCRIPTIONS_PER_SOCKET: int(100, 1),
  REDIS_COMMAND_TIMEOUT_MS: int(500, 1),
  MESSAGE_MAX_LENGTH: int(5000, 1),
  EVENT_RETENTION_DAYS: int(30, 1),
  STREAM_REPAIR_INTERVAL_MS: int(10_000, 100),
  SHUTDOWN_TIMEOUT_MS: int(10_000, 1),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Env = Record<string, string | undefined>;

export interface Config {
  production: boolean;
  host: string;
  port: number;
  /** Behind a load balancer: take the client's address from X-Forwarded-For. */
  trustProxy: boolean;
  dataDir: string;
  databaseUrl?: string;
  /**
   * Where migrations connect (default databaseUrl): they hold a session advisory lock, which a pooler in transaction
   * mode (PgBouncer) would release on another server connection than it took it on.
   */
  databaseDirectUrl?: string;
  /** One Redis server (REDIS_URL) or a Redis Cluster (REDIS_CLUSTER_NODES); unset: the instance runs alone. */
  redis?: RedisTarget;
  /** A Redis command that has not answered within this fails, and the instance goes on without Redis. */
  redisCommandTimeoutMs: number;
  /** Unset outside production: the app generates one and keeps it in dataDir. */
  jwtSecret?: string;
  jwtIssuer?: string;
  jwtAudience?: string;
  tokenTtlSeconds: number;
  ws: {
    pingIntervalMs: number;
    pongTimeoutMs: number;
    idleTimeoutMs: number;
    maxBufferedBytes: number;
    /** Browser origins allowed to open sockets and to call /graphql (CORS); undefined = any (production: none for CORS). */
    allowedOrigins?: string[];
  };
  typingTimeoutMs: number;
  rateLimits: {
    messagesPerMin: number;
    typingPerMin: number;
    authPerMin: number;
    connectionsPerMin: number;
    graphqlPerMin: number;
    /** The sliding window of the per-minute limits: one minute, shorter only in tests. */
    windowMs: number;
    loginFailuresPerAccount: number;
    loginFailureWindowMs: number;
  };
  /** Open sockets and event streams per user, across instances; 0 = no cap. */
  maxSocketsPerUser: number;
  /** The lease of an open connection, renewed by its instance: a crashed instance's users go offline after it. */
  presenceTtlMs: number;
  /** A user whose last connection closed is announced offline only if none opens within this. */
  presenceGraceMs: number;
  maxSubscriptionsPerSocket: number;
  graphql: {
    /** Schema introspection (__schema, __type); off in production unless enabled. */
    introspection: boolean;
    /** The GraphiQL page on GET /graphql; off in production unless enabled. */
    graphiql: boolean;
  };
  /** The demo web app on GET /demo; off in production unless enabled. */
  demo: boolean;
  /** When set, GET /metrics requires `Authorization: Bearer <token>`; unset in production, /metrics is off. */
  metricsToken?: string;
  messageMaxLength: number;
  /** How long stream events are kept for resumption. */
  eventRetentionDays: number;
  /** How often each instance checks its users' streams for positions the bus did not bring. */
  streamRepairIntervalMs: number;
  shutdownTimeoutMs: number;
  logLevel: string;
}

export class ConfigError extends Error {}

/** Parses the environment; throws ConfigError with one line naming the first bad variable. */
export function loadConfig(env: Env = process.env): Config {
  // Empty strings mean "unset", as they do for most twelve-factor services.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`Invalid ${String(issue.path[0])}: ${issue.message}`);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  if (e.REDIS_URL && e.REDIS_CLUSTER_NODES) throw new ConfigError('Invalid REDIS_CLUSTER_NODES: set either REDIS_URL or REDIS_CLUSTER_NODES');
  if (production && !e.JWT_SECRET) throw new ConfigError('Invalid JWT_SECRET: required when NODE_ENV=production');
  return {
    production,
    host: e.HOST,
    port: e.PORT,
    trustProxy: e.TRUST_PROXY,
    dataDir: e.DATA_DIR,
    databaseUrl: e.DATABASE_URL,
    databaseDirectUrl: e.DATABASE_DIRECT_URL,
    redis: e.REDIS_CLUSTER_NODES ? { clusterNodes: e.REDIS_CLUSTER_NODES } : e.REDIS_URL ? { url: e.REDIS_URL } : undefined,
    redisCommandTimeoutMs: e.REDIS_COMMAND_TIMEOUT_MS,
    jwtSecret: e.JWT_SECRET,
    jwtIssuer: e.JWT_ISSUER,
    jwtAudience: e.JWT_AUDIENCE,
    tokenTtlSeconds: e.TOKEN_TTL_SECONDS,
    ws: {
      pingIntervalMs: e.WS_PING_INTERVAL_MS,
      pongTimeoutMs: e.WS_PONG_TIMEOUT_MS,
      idleTimeoutMs: e.WS_IDLE_TIMEOUT_MS,
      maxBufferedBytes: e.WS_MAX_BUFFERED_BYTES,
      allowedOrigins: e.WS_ALLOWED_ORIGINS?.split(',')
        .map((o) => o.trim())
        .filter(Boolean),
    },
    typingTimeoutMs: e.TYPING_TIMEOUT_MS,
    rateLimits: {
      messagesPerMin: e.RATE_LIMIT_MESSAGES_PER_MIN,
      typingPerMin: e.RATE_LIMIT_TYPING_PER_MIN,
      authPerMin: e.RATE_LIMIT_AUTH_PER_MIN,
      connectionsPerMin: e.RATE_LIMIT_CONNECTIONS_PER_MIN,
      graphqlPerMin: e.RATE_LIMIT_GRAPHQL_PER_MIN,
      windowMs: e.RATE_LIMIT_WINDOW_MS,
      loginFailuresPerAccount: e.LOGIN_FAILURES_PER_ACCOUNT,
      loginFailureWindowMs: e.LOGIN_FAILURE_WINDOW_MS,
    },
    graphql: {
      introspection: e.GRAPHQL_INTROSPECTION ?? !production,
      graphiql: e.GRAPHIQL ?? !production,
    },
    demo: e.DEMO ?? !production,
    metricsToken: e.METRICS_TOKEN,
    maxSocketsPerUser: e.MAX_SOCKETS_PER_USER,
    presenceTtlMs: e.PRESENCE_TTL_MS,
    presenceGraceMs: e.PRESENCE_GRACE_MS,
    maxSubscriptionsPerSocket: e.MAX_SUBSCRIPTIONS_PER_SOCKET,
    messageMaxLength: e.MESSAGE_MAX_LENGTH,
    eventRetentionDays: e.EVENT_RETENTION_DAYS,
    streamRepairIntervalMs: e.STREAM_REPAIR_INTERVAL_MS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    logLevel: e.LOG_LEVEL,
  };
}
