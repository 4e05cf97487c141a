// HTTP plumbing for the REST fallback: bounded JSON bodies in, JSON bodies and the shared error shape out.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AppError, toAppError, type ErrorCode } from '../../domain/errors.ts';
import type { Logger } from '../../observability/logger.ts';

const STATUS: Record<ErrorCode, number> = {
  INVALID_MESSAGE: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  RATE_LIMIT: 429,
  INTERNAL_ERROR: 500,
};

/**
 * A request HTTP refuses before the domain sees it (405, 413, 415). The code stays in the shared vocabulary,
 * INVALID_MESSAGE, so clients that switch on `code` need no REST-only cases; the status says which refusal it was.
 */
export class HttpError extends AppError {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super('INVALID_MESSAGE', message);
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers }).end(JSON.stringify(body));
}

export function sendError(res: ServerResponse, err: unknown, logger: Logger) {
  const error = toAppError(err);
  // Only the log gets the cause; the client gets the code and a generic message.
  if (error.code === 'INTERNAL_ERROR') logger.error({ err }, 'rest request failed');
  const headers: Record<string, string> = error instanceof HttpError ? { ...error.headers } : {};
  if (error.retryAfterMs) headers['retry-after'] = String(Math.ceil(error.retryAfterMs / 1000));
  if (error.code === 'UNAUTHORIZED') headers['www-authenticate'] = 'Bearer';
  const status = error instanceof HttpError ? error.status : STATUS[error.code];
  sendJson(res, status, { error: { code: error.code, message: error.message, timestamp: new Date().toISOString() } }, headers);
}

const JSON_TYPE = /^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i;

/**
 * The request body parsed as JSON, refused with 413 as soon as it passes `maxBytes` (never buffered beyond that).
 * An empty body reads as `{}`, so a POST whose fields are all optional needs no body at all.
 */
export async function readJson(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const type = req.headers['content-type'];
  if (type !== undefined && !JSON_TYPE.test(type)) throw unsupportedType();
  const body = await readCapped(req, maxBytes);
  if (body.length === 0) return {};
  if (type === undefined) throw unsupportedType();
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpError(400, 'Request body is not valid JSON');
  }
}

const unsupportedType = () => new HttpError(415, 'Content-Type must be application/json');

function readCapped(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  // The rest of an oversized body is never read: the connection closes after the 413 instead.
  const tooLarge = () => new HttpError(413, `Request body is larger than ${maxBytes} bytes`, { connection: 'close' });
  if (Number(req.headers['content-length']) > maxBytes) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (outcome: () => void) => {
      req.off('data', onData).off('end', onEnd).off('error', onError);
      outcome();
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) chunks.push(chunk);
      else
        settle(() => {
          req.pause();
          reject(tooLarge());
        });
    };
    const onEnd = () => settle(() => resolve(Buffer.concat(chunks)));
    // The client went away mid-body: nobody reads the answer, and it is not a server fault worth an error log.
    const onError = () => settle(() => reject(new HttpError(400, 'Request body was interrupted')));
    req.on('data', onData).on('end', onEnd).on('error', onError);
  });
}
