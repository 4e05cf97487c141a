import type { IncomingMessage } from 'node:http';

export const clientIp = (req: IncomingMessage | undefined): string => req?.socket.remoteAddress ?? 'unknown';

export function pathnameOf(req: IncomingMessage): string {
  return new URL(req.url ?? '/', 'http://localhost').pathname;
}
