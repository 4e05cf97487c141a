// Who may open a JSON socket: the token from `?token=` or `Authorization`, checked by the domain (signature,
// expiry, the user's connection-rate limit and open-connection cap). Decides only the outcome; the connection
// answers it.
import type { IncomingMessage } from 'node:http';
import { AppError, toAppError } from '../../domain/errors.ts';
import type { Accounts, Session } from '../../domain/accounts.ts';
import { bearerToken } from '../../auth/tokens.ts';
import { clientIp } from '../http-util.ts';

/** What the upgrade request asks for. */
export interface SocketRequest {
  token?: string;
  /** The cursor to resume from; null: the legacy offline queue. */
  cursor: string | null;
  ip: string;
}

export function socketRequest(req: IncomingMessage): SocketRequest {
  const params = new URL(req.url ?? '/', 'http://localhost').searchParams;
  return { token: params.get('token') || bearerToken(req.headers.authorization), cursor: params.get('cursor'), ip: clientIp(req) };
}

export type Admission =
  | { admitted: Session & { release(): void } }
  /** Over the connection limits: the error (with retryAfterMs), then close 4429. */
  | { refused: 'rate_limit'; error: AppError }
  /** Whatever is wrong with a token (bad signature, unknown user, a bad claim) is UNAUTHORIZED to the client. */
  | { refused: 'unauthorized'; error: AppError }
  | { failed: unknown };

export async function admit(accounts: Pick<Accounts, 'authenticateSocket'>, token: string | undefined): Promise<Admission> {
  try {
    return { admitted: await accounts.authenticateSocket(token) };
  } catch (err) {
    const error = toAppError(err);
    if (error.code === 'INTERNAL_ERROR') return { failed: err };
    if (error.code === 'RATE_LIMIT') return { refused: 'rate_limit', error };
    return { refused: 'unauthorized', error: new AppError('UNAUTHORIZED', error.message) };
  }
}
