import type { IncomingMessage } from 'node:http';

// The client's address, resolved once per request by app.ts (behind a trusted proxy, from X-Forwarded-For).
const forwarded = new WeakMap<IncomingMessage, string>();

/**
 * Behind a load balancer every connection comes from the balancer; with `trustProxy` the client is the last
 * address in X-Forwarded-For (the one the balancer itself saw), so per-IP limits apply per client.
 */
export function resolveClientIp(req: IncomingMessage, trustProxy: boolean): void {
  if (!trustProxy) return;
  const header = req.headers['x-forwarded-for'];
  const last = (Array.isArray(header) ? header.join(',') : header)?.split(',').at(-1)?.trim();
  if (last) forwarded.set(req, last);
}

export const clientIp = (req: IncomingMessage | undefined): string => (req && forwarded.get(req)) ?? req?.socket.remoteAddress ?? 'unknown';

export function pathnameOf(req: IncomingMessage): string {
  return new URL(req.url ?? '/', 'http://localhost').pathname;
}

export interface OriginPolicy {
  /** Browser origins allowed to call cross-origin; undefined = any outside production, none in it. */
  allowedOrigins?: string[];
  production: boolean;
}

/**
 * The Access-Control-Allow-Origin for a request's Origin, or undefined for none. Never paired with credentials:
 * tokens travel in the Authorization header, never in cookies.
 */
export function allowedOrigin(policy: OriginPolicy, origin: string | null | undefined): string | undefined {
  if (!origin) return undefined;
  if (policy.allowedOrigins?.length) return policy.allowedOrigins.includes(origin) ? origin : undefined;
  return policy.production ? undefined : '*';
}

/** A request for server-sent events: a GraphQL subscription (GraphiQL's) that stays open like a socket. */
export const isEventStream = (req: IncomingMessage): boolean => req.headers.accept?.includes('text/event-stream') ?? false;
