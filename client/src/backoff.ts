// Reconnect and retry delays: exponential backoff with "full jitter" (a uniform delay between 0 and the capped
// exponential), so that clients cut off together by a restart do not come back together.
export interface BackoffOptions {
  /** The cap of the first delay (default 500 ms). */
  baseMs: number;
  /** The largest delay (default 30 s). */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 30_000 };

export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  return random() * Math.min(options.maxMs, options.baseMs * 2 ** attempt);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}
