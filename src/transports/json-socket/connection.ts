// One legacy JSON socket, from authentication to close (contract section 4). A thin adapter: reads the user's
// stream through the registry and calls the domain for client frames; no rule of its own beyond the protocol.
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocket, type RawData } from 'ws';
import { AppError, toAppError } from '../../domain/errors.ts';
import type { Domain } from '../../domain/index.ts';
import type { Session } from '../../domain/accounts.ts';
import { bearerToken } from '../../auth/tokens.ts';
import type { Logger } from '../../observability/logger.ts';
import type { Metrics } from '../../observability/metrics.ts';
import { clientIp } from '../http-util.ts';
import { parseClientFrame, type ClientFrame } from './client-frames.ts';
import { connectedFrame, encode, errorFrame, pingFrame, pongFrame, refreshedFrame } from './frames.ts';
import { Heartbeat, type Expiry, type HeartbeatOptions } from './heartbeat.ts';
import type { OpenStream, StreamItem } from '../../domain/streams.ts';

/** Close codes of this socket besides the standard ones ws sends itself (1009 frame too large). */
export const CloseCode = {
  idle: 4000,
  unauthorized: 4401,
  pongTimeout: 4408,
  internalError: 1011,
  /** The server shuts down (app.close): reconnect at once, to another instance. */
  restart: 1012,
  /** The client stopped reading and its unsent data passed WS_MAX_BUFFERED_BYTES: try again later. */
  slowConsumer: 1013,
  /** Over RATE_LIMIT_CONNECTIONS_PER_MIN or MAX_SOCKETS_PER_USER for this user: retry after the error's retryAfterMs. */
  tooManyConnections: 4429,
} as const;

const TRANSPORT = 'json-ws';
// Client frames waiting for the domain before the server stops reading the socket: TCP back-pressure instead of
// an unbounded backlog in memory.
const MAX_PENDING_FRAMES = 64;

const EXPIRIES: Record<Expiry, [code: number, reason: string]> = {
  idle: [CloseCode.idle, 'Idle timeout'],
  pong_timeout: [CloseCode.pongTimeout, 'No pong'],
  token_expired: [CloseCode.unauthorized, 'Token expired'],
};

export interface ConnectionDeps {
  domain: Domain;
  /** The open connections of this instance (shutdown). */
  connections: Set<Connection>;
  logger: Logger;
  metrics: Metrics;
  ws: HeartbeatOptions & { maxBufferedBytes: number };
}

let lastId = 0;

export class Connection {
  readonly id = ++lastId;
  /** 0 until authenticated. */
  userId = 0;
  private readonly openedAt = Date.now();
  private readonly heartbeat: Heartbeat;
  private stream?: OpenStream;
  /** The stream position written before the oldest unanswered ping: its pong proves the client read that far. */
  private pingMark?: number;
  /** Client frames are handled one after another, after the connection flow, in the order they arrived. */
  private work: Promise<void>;
  private pending = 0;
  private closedBy?: string;
  private corked = false;
  /** Gives back the user's open-connection slot; set once authenticated. */
  private release?: () => void;

  constructor(
    private readonly ws: WebSocket,
    req: IncomingMessage,
    private readonly deps: ConnectionDeps,
  ) {
    deps.connections.add(this);
    deps.metrics.activeConnections.inc({ transport: TRANSPORT });
    this.heartbeat = new Heartbeat(deps.ws, () => this.ping(), (why) => this.expired(why));
    ws.on('message', (data) => this.receive(data));
    ws.on('error', (err: Error & { code?: string }) => {
      const reason = err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 'frame_too_large' : 'protocol_error';
      this.closedBy ??= reason;
      deps.metrics.connectionErrors.inc({ transport: TRANSPORT, reason });
      deps.logger.info({ userId: this.userId, connection: this.id, reason }, 'json socket error');
    });
    ws.once('close', (code) => this.closed(code));
    const params = new URL(req.url ?? '/', 'http://localhost').searchParams;
    this.work = this.open(params.get('token') || bearerToken(req.headers.authorization), params.get('cursor'), clientIp(req));
  }

  /** Stops the timers and the stream; called on close, whatever kind, and on shutdown. */
  dispose(): void {
    this.heartbeat.stop();
    this.stream?.close();
    this.deps.connections.delete(this);
    this.release?.();
  }

  private async open(token: string | undefined, cursor: string | null, ip: string): Promise<void> {
    let session: Session & { release(): void };
    try {
      session = await this.deps.domain.accounts.authenticateSocket(token);
    } catch (err) {
      const error = toAppError(err);
      if (error.code === 'INTERNAL_ERROR') return this.fail(err);
      if (error.code === 'RATE_LIMIT') {
        this.sendError(error);
        return this.close(CloseCode.tooManyConnections, 'Too many connections', 'rate_limit');
      }
      // Whatever is wrong with a token (bad signature, unknown user, a bad claim) is UNAUTHORIZED to the client.
      return this.reject(error.message);
    }
    this.release = session.release;
    // Closed while authenticating: dispose() ran before there was a slot to give back.
    if (!this.isOpen) return this.dispose();
    this.userId = session.userId;
    try {
      // Live from here on: what is published while the backlog is read follows it, nothing twice.
      const stream = await this.deps.domain.streams.open(this.userId, { after: cursor, queue: !cursor }, (item) => this.write(item));
      this.stream = stream;
      if (!this.isOpen) return stream.close();
      this.send(connectedFrame(this.userId, stream.resumed, stream.cursor));
      this.heartbeat.start(session.exp);
      this.deps.logger.info({ userId: this.userId, ip, connection: this.id, resumed: stream.resumed }, 'json socket connected');
      await stream.start();
    } catch (err) {
      this.fail(err);
    }
  }

  private ping() {
    this.pingMark ??= this.stream?.position();
    this.send(pingFrame());
  }

  /** The pong to a ping: everything written before that ping has been read, and leaves the offline queue. */
  private pong() {
    this.heartbeat.pong();
    const mark = this.pingMark;
    this.pingMark = undefined;
    if (mark) this.deps.domain.streams.ack(this.userId, mark).catch((err: unknown) => this.deps.logger.warn({ err, userId: this.userId }, 'could not record what was read'));
  }

  private receive(data: RawData) {
    let frame: ClientFrame;
    try {
      // binaryType is ws' default 'nodebuffer': every frame, text or binary, arrives as one Buffer.
      frame = parseClientFrame((data as Buffer).toString('utf8'));
    } catch (err) {
      this.heartbeat.activity();
      return this.enqueue(() => Promise.reject(err));
    }
    // A pong is taken at once: it must never wait behind domain work or a long offline queue.
    if (frame.type === 'pong') return this.pong();
    this.heartbeat.activity();
    if (frame.type === 'ping') return this.send(pongFrame());
    this.enqueue(() => this.dispatch(frame));
  }

  /** Runs client work one frame after another, after the connection flow: answers keep the frames' order. */
  private enqueue(task: () => Promise<void>) {
    if (++this.pending === MAX_PENDING_FRAMES) this.ws.pause();
    this.work = this.work.then(async () => {
      try {
        if (this.isOpen) await task();
      } catch (err) {
        const error = toAppError(err);
        if (error.code === 'INTERNAL_ERROR') this.deps.logger.error({ err, userId: this.userId, connection: this.id }, 'json socket frame failed');
        this.sendError(error);
      } finally {
        if (--this.pending < MAX_PENDING_FRAMES && this.ws.isPaused) this.ws.resume();
      }
    });
  }

  private async dispatch(frame: Exclude<ClientFrame, { type: 'pong' | 'ping' }>): Promise<void> {
    const { messages, typing, notifications, accounts } = this.deps.domain;
    switch (frame.type) {
      case 'message:mark_seen':
        // The reader's connections get message:unread_count, the senders message:seen: both from the domain.
        await messages.markSeen(this.userId, frame.data.conversationWith, frame.data.messageIds);
        return;
      case 'message:typing':
        await typing.set(this.userId, frame.data.conversationWith, frame.data.isTyping);
        return;
      case 'notification:mark_seen':
        // Every connection of the user, this one too, gets notification:seen and the new count from the stream.
        await notifications.markSeen(this.userId, frame.data?.notificationIds);
        return;
      case 'auth:refresh': {
        const session = await accounts.authenticate(frame.data.token);
        if (session.userId !== this.userId) throw new AppError('UNAUTHORIZED', 'Token belongs to another user');
        this.heartbeat.expireAt(session.exp);
        this.send(refreshedFrame(session.exp));
        return;
      }
    }
  }

  /**
   * Writes an item of the user's stream. While a backlog is written, the result settles once the socket has drained
   * below half its limit, so that a long replay does not look like a slow consumer.
   */
  private write(item: StreamItem): Promise<void> | undefined {
    if (!this.writable()) return;
    const { type, json } = encode(item);
    const { event } = item;
    this.deps.metrics.eventsDelivered.inc({ transport: TRANSPORT, type });
    const createdAt = event.kind === 'messageNew' ? event.message.createdAt : event.kind === 'notificationNew' ? event.notification.createdAt : undefined;
    // Replayed events waited for their receiver, not for the server: they would only blur the latency.
    if (!item.replayed && createdAt) this.deps.metrics.deliveryLatency.observe({ transport: TRANSPORT }, Math.max(0, Date.now() - Date.parse(createdAt)) / 1000);
    this.corkForThisTurn();
    if (this.ws.bufferedAmount <= this.deps.ws.maxBufferedBytes / 2) return void this.ws.send(json);
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

  private send(frame: object) {
    if (this.writable()) this.ws.send(JSON.stringify(frame));
  }

  private sendError(error: AppError) {
    this.send(errorFrame(error.code, error.message, error.retryAfterMs));
  }

  /** Open and keeping up. A client that stopped reading is closed rather than buffered for without bound. */
  private writable(): boolean {
    if (!this.isOpen) return false;
    if (this.ws.bufferedAmount <= this.deps.ws.maxBufferedBytes) return true;
    this.close(CloseCode.slowConsumer, 'Slow consumer', 'slow_consumer');
    return false;
  }

  private get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  private reject(message: string) {
    this.sendError(new AppError('UNAUTHORIZED', message));
    this.close(CloseCode.unauthorized, 'Unauthorized', 'unauthorized');
  }

  private expired(why: Expiry) {
    if (why === 'token_expired') this.sendError(new AppError('UNAUTHORIZED', 'Token expired'));
    this.close(...EXPIRIES[why], why);
  }

  private fail(err: unknown) {
    this.deps.logger.error({ err, userId: this.userId, connection: this.id }, 'json socket connection failed');
    this.sendError(toAppError(err));
    this.close(CloseCode.internalError, 'Internal error', 'internal_error');
  }

  /** Closes from this side; `metric` names the reason in rt_connection_errors_total. */
  private close(code: number, reason: string, metric: string) {
    if (!this.isOpen) return;
    this.closedBy = metric;
    this.deps.metrics.connectionErrors.inc({ transport: TRANSPORT, reason: metric });
    this.ws.close(code, reason);
  }

  private closed(code: number) {
    this.dispose();
    const { metrics, logger } = this.deps;
    metrics.activeConnections.dec({ transport: TRANSPORT });
    // 1006: the peer vanished without a close frame (network interruption, killed app).
    if (code === 1006 && !this.closedBy) metrics.connectionErrors.inc({ transport: TRANSPORT, reason: 'abnormal' });
    if (this.userId) logger.info({ userId: this.userId, connection: this.id, code, durationMs: Date.now() - this.openedAt }, 'json socket disconnected');
  }
}
