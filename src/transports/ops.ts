// Operations endpoints: liveness, readiness (database, Redis, not draining) and Prometheus metrics.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { bearerToken } from '../auth/tokens.ts';

export interface Readiness {
  draining(): boolean;
  database(): Promise<void>;
  bus(): Promise<boolean>;
}

function json(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
}

const digest = (value: string) => createHash('sha256').update(value).digest();

export function createOpsHandler(deps: { readiness: Readiness; registry: Registry; metricsAccess: { served: boolean; token?: string } }) {
  const { served, token } = deps.metricsAccess;
  const expected = token === undefined ? undefined : digest(token);
  // Compared as digests: equal lengths for timingSafeEqual, and no timing hint about the token's length.
  const authorized = (req: IncomingMessage) => !expected || timingSafeEqual(digest(bearerToken(req.headers.authorization) ?? ''), expected);
  const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => Promise<void>> = {
    '/healthz': async (_req, res) => json(res, 200, { status: 'ok' }),
    '/readyz': async (_req, res) => {
      const [database, bus] = await Promise.all([
        deps.readiness.database().then(
          () => true,
          () => false,
        ),
        deps.readiness.bus().catch(() => false),
      ]);
      const draining = deps.readiness.draining();
      const ready = database && bus && !draining;
      json(res, ready ? 200 : 503, { status: ready ? 'ready' : 'unavailable', database, redis: bus, draining });
    },
    '/metrics': async (req, res) => {
      if (!authorized(req)) return void res.writeHead(401, { 'www-authenticate': 'Bearer' }).end();
      res.writeHead(200, { 'content-type': deps.registry.contentType }).end(await deps.registry.metrics());
    },
  };
  if (!served) delete routes['/metrics'];
  /** Answers and returns true when the path is an operations endpoint. */
  return (pathname: string, req: IncomingMessage, res: ServerResponse): boolean => {
    const route = routes[pathname];
    if (!route || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
    route(req, res).catch(() => json(res, 500, { status: 'error' }));
    return true;
  };
}
