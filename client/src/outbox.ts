// Messages go out over REST one after another, in the order the app sent them. Each carries a clientMessageId, so
// retrying after a timeout or a 5xx cannot store it twice (the server answers a repeat with the original). While
// the server cannot be reached the sends wait here, and go out as soon as the connection comes back.
import { backoffDelay, sleep, type BackoffOptions } from './backoff.ts';
import { retryable, type Http } from './http.ts';
import type { Message } from './protocol.ts';

interface Pending {
  receiverId: number;
  content: string;
  clientMessageId: string;
  resolve(message: Message): void;
  reject(err: unknown): void;
}

/** 128 random bits; getRandomValues works on plain-http pages too, where crypto.randomUUID does not exist. */
export function newClientMessageId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export class Outbox {
  private readonly queue: Pending[] = [];
  private flushing = false;
  private wake = new AbortController();

  constructor(
    private readonly http: Http,
    private readonly backoff: BackoffOptions,
  ) {}

  /** Sends waiting for the network. */
  get size(): number {
    return this.queue.length;
  }

  send(receiverId: number, content: string): Promise<Message> {
    return new Promise((resolve, reject) => {
      this.queue.push({ receiverId, content, clientMessageId: newClientMessageId(), resolve, reject });
      void this.flush();
    });
  }

  /** The connection is back: stop waiting out the current retry delay. */
  retryNow(): void {
    this.wake.abort();
    this.wake = new AbortController();
  }

  /** Rejects every waiting send (the client was closed). */
  discard(reason: Error): void {
    for (const item of this.queue.splice(0)) item.reject(reason);
  }

  private async flush() {
    if (this.flushing) return;
    this.flushing = true;
    try {
      for (let attempt = 0; this.queue.length > 0;) {
        const item = this.queue[0]!;
        try {
          const { receiverId, content, clientMessageId } = item;
          item.resolve(await this.http.request<Message>('POST', '/api/v1/messages/', { body: { receiverId, content, clientMessageId } }));
        } catch (err) {
          if (retryable(err) && this.queue[0] === item) {
            await sleep((err as { retryAfterMs?: number }).retryAfterMs ?? backoffDelay(attempt++, this.backoff), this.wake.signal);
            continue;
          }
          item.reject(err);
        }
        if (this.queue[0] === item) this.queue.shift();
        attempt = 0;
      }
    } finally {
      this.flushing = false;
    }
  }
}
