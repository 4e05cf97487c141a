// WebSocket upgrades on the one port: routed by path, refused while draining, from a browser Origin that is not
// allowed, or past the per-IP connection-attempt limit, before any socket server sees them.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocketServer } from 'ws';
import { AppError } from '../domain/errors.ts';
import type { RateLimits } from '../domain/rate-limits.ts';
import type { Metrics } from '../observability/metrics.ts';
import { clientIp, pathnameOf } from './http-util.ts';

export interface UpgradeRoutes {
  [path: string]: { wss: WebSocketServer; transport: 'graphql-ws' | 'json-ws' };
}

// One shared function, not a closure per socket: a closure made inside the handler would share its scope, and keep
// the upgrade request (and its headers) alive as long as the socket lives.
function destroySelf(this: Duplex) {
  this.destroy();
}

function refuse(socket: Duplex, status: string, headers: Record<string, string> = {}) {
  const lines = Object.entries({ ...headers, Connection: 'close', 'Content-Length': '0' }).map(([k, v]) => `${k}: ${v}`);
  socket.end(`HTTP/1.1 ${status}\r\n${lines.join('\r\n')}\r\n\r\n`);
}

export function createUpgradeHandler(deps: {
  routes: UpgradeRoutes;
  draining(): boolean;
  limits: RateLimits;
  metrics: Metrics;
  /** Browser origins allowed to open sockets; undefined = any. */
  allowedOrigins?: string[];
}) {
  const allowed = deps.allowedOrigins?.length ? new Set(deps.allowedOrigins) : undefined;
  return async (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', destroySelf);
    const route = deps.routes[pathnameOf(req)];
    if (!route) return refuse(socket, '404 Not Found');
    if (deps.draining()) return refuse(socket, '503 Service Unavailable');
    // Browsers always send Origin, so a foreign page cannot open a socket with a user's token. Other clients
    // (mobile apps, servers) send none and are let through: their token is what authenticates them.
    const origin = req.headers.origin;
    if (allowed && origin && !allowed.has(origin)) {
      deps.metrics.connectionErrors.inc({ transport: route.transport, reason: 'origin' });
      return refuse(socket, '403 Forbidden');
    }
    try {
      await deps.limits.consume('connection', clientIp(req));
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'RATE_LIMIT') throw err;
      return refuse(socket, '429 Too Many Requests', { 'Retry-After': String(Math.ceil((err.retryAfterMs ?? 1000) / 1000)) });
    }
    route.wss.handleUpgrade(req, socket, head, (ws) => route.wss.emit('connection', ws, req));
  };
}
