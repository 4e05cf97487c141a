// Authenticated JSON over fetch with a timeout. A 401 asks the app for a new token and tries once more; whether a
// failure is worth retrying is decided by `retryable`, so every caller retries the same way.
import type { Tokens } from './token.ts';

export type Fetch = typeof globalThis.fetch;

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** Timeouts, network errors, 5xx and 429 may succeed later; 4xx never will. */
export function retryable(err: unknown): boolean {
  if (err instanceof HttpError) return err.status >= 500 || err.status === 429;
  return !(err instanceof Error && err.name === 'AbortError');
}

export interface RequestOptions {
  body?: unknown;
  timeoutMs?: number;
  /** Aborts the request (the promise rejects with an AbortError). */
  signal?: AbortSignal;
}

export class Http {
  constructor(
    private readonly baseUrl: string,
    private readonly tokens: Tokens,
    private readonly fetch: Fetch,
    private readonly timeoutMs: number,
  ) {}

  async request<T>(method: 'GET' | 'POST', path: string, options: RequestOptions = {}): Promise<T> {
    const token = await this.tokens.get();
    try {
      return await this.once<T>(method, path, token, options);
    } catch (err) {
      if (!(err instanceof HttpError && err.status === 401)) throw err;
      await this.tokens.refused(token);
      return this.once<T>(method, path, await this.tokens.get(), options);
    }
  }

  private async once<T>(method: string, path: string, token: string, options: RequestOptions): Promise<T> {
    const timeout = AbortSignal.timeout(options.timeoutMs ?? this.timeoutMs);
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const res = await this.fetch(`${this.baseUrl}${path}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal ? AbortSignal.any([options.signal, timeout]) : timeout,
    });
    const body = await res.json().catch(() => undefined);
    if (res.ok) return body as T;
    const error = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
    const retryAfter = Number(res.headers.get('retry-after'));
    throw new HttpError(res.status, error?.code ?? 'HTTP_ERROR', error?.message ?? `HTTP ${res.status}`, retryAfter > 0 ? retryAfter * 1000 : undefined);
  }
}
