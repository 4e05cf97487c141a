// Operations endpoints: liveness, readiness (database, Redis, not draining) and Prometheus metrics.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';

export interface Readiness {
  draining(): boolean;
  database(): Promise<void>;
  bus(): Promise<boolean>;
}

function json(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
}

export function createOpsHandler(deps: { readiness: Readiness; registry: Registry }) {
  const routes: Record<string, (res: ServerResponse) => Promise<void>> = {
    '/healthz': async (res) => json(res, 200, { status: 'ok' }),
    '/readyz': async (res) => {
      const [database, bus] = await Promise.all([
        deps.readiness.database().then(() => true, () => false),
        deps.readiness.bus().catch(() => false),
      ]);
      const draining = deps.readiness.draining();
      const ready = database && bus && !draining;
      json(res, ready ? 200 : 503, { status: ready ? 'ready' : 'unavailable', database, redis: bus, draining });
    },
    '/metrics': async (res) => {
      res.writeHead(200, { 'content-type': deps.registry.contentType }).end(await deps.registry.metrics());
    },
  };
  /** Answers and returns true when the path is an operations endpoint. */
  return (pathname: string, req: IncomingMessage, res: ServerResponse): boolean => {
    const route = routes[pathname];
    if (!route || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
    route(res).catch(() => json(res, 500, { status: 'error' }));
    return true;
  };
}
