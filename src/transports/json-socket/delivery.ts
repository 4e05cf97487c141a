// Writing to one JSON socket: items of the user's stream and control frames, with back-pressure. A client that
// stopped reading is reported (and closed by the connection) rather than buffered for without bound.
import { WebSocket } from 'ws';
import type { AppError } from '../../domain/errors.ts';
import type { StreamItem } from '../../domain/streams.ts';
import { observeDelivery, type Metrics } from '../../observability/metrics.ts';
import { encode, errorFrame } from './frames.ts';

export const TRANSPORT = 'json-ws';

export class Delivery {
  constructor(
    private readonly ws: WebSocket,
    private readonly metrics: Metrics,
    private readonly maxBufferedBytes: number,
    private readonly slowConsumer: () => void,
  ) {}

  /**
   * Writes an item of the user's stream. While a backlog is written, the result settles once the socket has drained
   * below half its limit, so that a long replay does not look like a slow consumer.
   */
  write(item: StreamItem): Promise<void> | undefined {
    if (!this.writable()) return;
    const { type, json } = encode(item);
    this.metrics.eventsDelivered.inc({ transport: TRANSPORT, type });
    observeDelivery(this.metrics, TRANSPORT, item);
    if (this.ws.bufferedAmount <= this.maxBufferedBytes / 2) return void this.ws.send(json);
    return new Promise((resolve) => this.ws.send(json, () => resolve()));
  }

  send(frame: object) {
    if (this.writable()) this.ws.send(JSON.stringify(frame));
  }

  sendError(error: AppError) {
    this.send(errorFrame(error.code, error.message, error.retryAfterMs));
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Open and keeping up. */
  private writable(): boolean {
    if (!this.isOpen) return false;
    if (this.ws.bufferedAmount <= this.maxBufferedBytes) return true;
    this.slowConsumer();
    return false;
  }
}
