// Composes configuration, database, bus, domain and transports into one server value. Tests start several
// (port 0) in one process; main.ts starts one and drains it on SIGTERM.
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from './config.ts';
import { openDatabase } from './db/database.ts';
import { createBus } from './events/bus.ts';
import { createTokenService } from './auth/tokens.ts';
import { resolveJwtSecret } from './auth/secret.ts';
import { createRateLimits } from './domain/rate-limits.ts';
import { createSharedStore } from './domain/shared-store.ts';
import { createDomain, type Domain } from './domain/index.ts';
import { createLogger, type Logger } from './observability/logger.ts';
import { createMetrics } from './observability/metrics.ts';
import { createGraphQLTransport } from './transports/graphql.ts';
import { createJsonSocketTransport } from './transports/json-socket/index.ts';
import { createDemoHandler } from './transports/demo.ts';
import { createOpsHandler } from './transports/ops.ts';
import { createRestHandler } from './transports/rest.ts';
import { isEventStream, pathnameOf, resolveClientIp } from './transports/http-util.ts';
import { createUpgradeHandler } from './transports/upgrade.ts';

const MAX_FRAME_BYTES = 64 * 1024;

export interface App {
  server: Server;
  domain: Domain;
  logger: Logger;
  /** Starts listening; resolves to the base URL (http://host:port). */
  listen(port?: number, host?: string): Promise<string>;
  /** Stops accepting, closes sockets with 1012, finishes in-flight work, closes Redis and the database. */
  close(): Promise<void>;
}

export async function createApp(config: Config, options: { logger?: Logger } = {}): Promise<App> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const metrics = createMetrics();
  const secret = await resolveJwtSecret(config.jwtSecret, config.dataDir);
  const tokens = createTokenService({ secret, ttlSeconds: config.tokenTtlSeconds, issuer: config.jwtIssuer, audience: config.jwtAudience });
  const db = await openDatabase({ databaseUrl: config.databaseUrl, databaseDirectUrl: config.databaseDirectUrl, dataDir: config.dataDir, logger });
  const bus = createBus({ redis: config.redis, commandTimeoutMs: config.redisCommandTimeoutMs, logger, metrics });
  const store = createSharedStore({ redis: config.redis, commandTimeoutMs: config.redisCommandTimeoutMs, logger });
  await store.ready();
  const { windowMs } = config.rateLimits;
  const limits = createRateLimits({
    limits: {
      message: { points: config.rateLimits.messagesPerMin, windowMs },
      typing: { points: config.rateLimits.typingPerMin, windowMs },
      auth: { points: config.rateLimits.authPerMin, windowMs },
      connection: { points: config.rateLimits.connectionsPerMin, windowMs },
      graphql: { points: config.rateLimits.graphqlPerMin, windowMs },
      login: { points: config.rateLimits.loginFailuresPerAccount, windowMs: config.rateLimits.loginFailureWindowMs },
    },
    store,
    logger,
    metrics,
  });
  const domain = createDomain({
    prisma: db.prisma,
    bus,
    tokens,
    limits,
    store,
    metrics,
    logger,
    maxSocketsPerUser: config.maxSocketsPerUser,
    presenceTtlMs: config.presenceTtlMs,
    presenceGraceMs: config.presenceGraceMs,
    messageMaxLength: config.messageMaxLength,
    typingTimeoutMs: config.typingTimeoutMs,
    eventRetentionDays: config.eventRetentionDays,
  });
  // Safety nets of the streams: holes no later entry revealed (an instance that died between commit and publish, a
  // publish lost while another instance's Redis connection was away) are filled periodically; events past the
  // retention are dropped hourly.
  const timers = [
    setInterval(() => void domain.streams.hub.repairAll(), config.streamRepairIntervalMs).unref(),
    setInterval(() => void domain.streams.prune().catch((err: unknown) => logger.warn({ err }, 'stream pruning failed')), 3600_000).unref(),
  ];

  let draining = false;
  const origins = { allowedOrigins: config.ws.allowedOrigins, production: config.production };
  const graphql = createGraphQLTransport({
    domain,
    bus,
    limits,
    logger,
    metrics,
    options: { ...config.graphql, ...origins },
    maxSubscriptionsPerSocket: config.maxSubscriptionsPerSocket,
  });
  const jsonSocket = createJsonSocketTransport({ domain, logger, metrics, ws: config.ws, maxPayloadBytes: MAX_FRAME_BYTES });
  const ops = createOpsHandler({
    readiness: { draining: () => draining, database: db.ping, bus: bus.healthy },
    registry: metrics.registry,
    // Production serves metrics only behind a token: they name users' traffic patterns and the instance's state.
    metricsAccess: { served: config.metricsToken !== undefined || !config.production, token: config.metricsToken },
  });
  const rest = createRestHandler({ domain, logger, maxBodyBytes: MAX_FRAME_BYTES, origins });
  const demo = createDemoHandler({ logger });

  const server = createServer((req, res) => {
    resolveClientIp(req, config.trustProxy);
    const pathname = pathnameOf(req);
    if (ops(pathname, req, res)) return;
    if (rest(pathname, req, res)) return;
    if (config.demo && demo(pathname, req, res)) return;
    if (isEventStream(req)) {
      eventStreams.add(res);
      res.once('close', () => eventStreams.delete(res));
    }
    void graphql.handleRequest(req, res);
  });
  // Subscriptions over SSE (GraphiQL's) never finish on their own: shutdown ends them like the sockets.
  const eventStreams = new Set<ServerResponse>();
  const socketRoutes = {
    '/graphql': { wss: graphql.wss, transport: 'graphql-ws' },
    '/api/v1/ws': { wss: jsonSocket.wss, transport: 'json-ws' },
  } as const;
  const socketServers = Object.values(socketRoutes).map((route) => route.wss);
  const upgrade = createUpgradeHandler({
    routes: socketRoutes,
    draining: () => draining,
    limits,
    metrics,
    allowedOrigins: config.ws.allowedOrigins,
  });
  server.on('upgrade', (req, socket, head) => {
    resolveClientIp(req, config.trustProxy);
    upgrade(req, socket, head).catch((err) => {
      logger.error({ err }, 'upgrade failed');
      socket.destroy();
    });
  });

  return {
    server,
    domain,
    logger,
    listen(port = config.port, host = config.host) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          const { address, port: actual } = server.address() as AddressInfo;
          const shown = address.includes(':') ? `[${address}]` : address;
          resolve(`http://${shown === '0.0.0.0' || shown === '[::]' ? '127.0.0.1' : shown}:${actual}`);
        });
      });
    },
    async close() {
      draining = true;
      const requestsDone = new Promise<void>((resolve) => server.close(() => resolve()));
      // A socket's 'close' comes after the callbacks of everything written to it, deliveries included: waiting for
      // it lets those be recorded before the database closes.
      const socketsClosed = socketServers.flatMap((wss) =>
        [...wss.clients].map((ws) => {
          const gone = new Promise((resolve) => ws.once('close', resolve));
          ws.close(1012, 'Server restarting');
          return gone;
        }),
      );
      server.closeIdleConnections();
      for (const res of eventStreams) res.socket?.destroy();
      const timeout = new Promise<void>((resolve) => setTimeout(resolve, config.shutdownTimeoutMs).unref());
      await Promise.race([Promise.all([requestsDone, ...socketsClosed]), timeout]);
      server.closeAllConnections();
      for (const wss of socketServers) for (const ws of wss.clients) ws.terminate();
      for (const timer of timers) clearInterval(timer);
      jsonSocket.close();
      domain.typing.close();
      await domain.streams.flush();
      domain.connections.close();
      await Promise.allSettled([bus.close(), limits.close(), store.close()]);
      await db.close();
    },
  };
}
