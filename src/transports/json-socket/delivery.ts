// Writing to one JSON socket: items of the user's stream and control frames, with back-pressure. A client that
// stopped reading is reported (and closed by the connection) rather than buffered for without bound.
import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import type { AppError } from '../../domain/errors.ts';
import type { ItemSink, StreamItem } from '../../domain/streams.ts';
import { observeDelivery, type Metrics } from '../../observability/metrics.ts';
import { encode, errorFrame } from './frames.ts';

export const TRANSPORT = 'json-ws';

export class Delivery implements ItemSink {
  private corked = false;

  constructor(
    private readonly ws: WebSocket,
    private readonly metrics: Metrics,
    private readonly maxBufferedBytes: number,
    private readonly owner: { slowConsumer(): void },
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
    this.corkForThisTurn();
    if (this.ws.bufferedAmount <= this.maxBufferedBytes / 2) return void this.ws.send(json);
    return new Promise((resolve) => this.ws.send(json, () => resolve()));
  }

  /**
   * The frames written in one turn (a message and the count after it, or a burst) leave in one write: one syscall
   * per device and turn instead of one per frame. ws offers no cork of its own, hence its socket.
   */
  private corkForThisTurn() {
    if (this.corked) return;
    const socket = (this.ws as unknown as { _socket: Socket })._socket;
    socket.cork();
    this.corked = true;
    process.nextTick(() => {
      this.corked = false;
      socket.uncork();
    });
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
    this.owner.slowConsumer();
    return false;
  }
}
