// One legacy JSON socket, from authentication to close (docs/protocol.md): wires admission, frame dispatch,
// delivery and the heartbeat together, and owns how the socket ends. A thin adapter: reads the user's stream and
// calls the domain for client frames; no rule of its own beyond the protocol.
import type { IncomingMessage } from 'node:http';
import type { RawData, WebSocket } from 'ws';
import { AppError, invalid, toAppError } from '../../domain/errors.ts';
import { MAX_PRESENCE_IDS } from '../../domain/presence.ts';
import type { Domain } from '../../domain/index.ts';
import type { OpenStream } from '../../domain/streams.ts';
import type { Logger } from '../../observability/logger.ts';
import type { Metrics } from '../../observability/metrics.ts';
import { admit, socketRequest, type SocketRequest } from './admission.ts';
import { parseClientFrame, type ClientFrame } from './client-frames.ts';
import { CLOSE_REASONS, type CloseReason } from './close-reasons.ts';
import { Delivery, TRANSPORT } from './delivery.ts';
import { dispatch, FrameQueue, type DomainFrame } from './dispatch.ts';
import { connectedFrame, pingFrame, pongFrame, refreshedFrame } from './frames.ts';
import { Heartbeat, type Expiry, type HeartbeatOptions } from './heartbeat.ts';

export interface ConnectionDeps {
  domain: Domain;
  /** The open connections of this instance (shutdown). */
  connections: Set<Connection>;
  logger: Logger;
  metrics: Metrics;
  ws: HeartbeatOptions & { maxBufferedBytes: number };
}

let lastId = 0;

/**
 * The connection of each socket, for the socket's event handlers: shared functions rather than closures per
 * socket, since an instance holds tens of thousands of idle ones.
 */
const connectionOf = new WeakMap<WebSocket, Connection>();

export class Connection {
  readonly id = ++lastId;
  /** 0 until authenticated. */
  userId = 0;
  private readonly openedAt = Date.now();
  private readonly heartbeat: Heartbeat;
  private readonly delivery: Delivery;
  /** Client frames, handled one after another after the connection flow. */
  private readonly frames: FrameQueue;
  private stream?: OpenStream;
  /** The stream position written before the oldest unanswered ping: its pong proves the client read that far. */
  private pingMark?: number;
  private closedBy?: string;
  /** Gives back the user's open-connection slot; set once authenticated. */
  private release?: () => void;
  /** The users whose presence this socket watches, each with the function that stops watching; made on first use. */
  private watching?: Map<number, () => void>;

  constructor(
    private readonly ws: WebSocket,
    req: IncomingMessage,
    private readonly deps: ConnectionDeps,
  ) {
    deps.connections.add(this);
    deps.metrics.activeConnections.inc({ transport: TRANSPORT });
    this.delivery = new Delivery(ws, deps.metrics, deps.ws.maxBufferedBytes, this);
    this.heartbeat = new Heartbeat(deps.ws, this);
    connectionOf.set(ws, this);
    ws.on('message', Connection.onMessage);
    ws.on('error', Connection.onError);
    ws.on('close', Connection.onClose);
    this.frames = new FrameQueue(ws, this.open(socketRequest(req)), this);
  }

  private static onMessage(this: WebSocket, data: RawData) {
    connectionOf.get(this)?.receive(data);
  }

  private static onError(this: WebSocket, err: Error & { code?: string }) {
    const connection = connectionOf.get(this);
    if (!connection) return;
    const reason = err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 'frame_too_large' : 'protocol_error';
    connection.closedBy ??= reason;
    connection.deps.metrics.connectionErrors.inc({ transport: TRANSPORT, reason });
    connection.deps.logger.info({ userId: connection.userId, connection: connection.id, reason }, 'json socket error');
  }

  private static onClose(this: WebSocket, code: number) {
    connectionOf.get(this)?.closed(code);
    connectionOf.delete(this);
  }

  /** FrameQueue: whether frames still get handled. */
  get isOpen(): boolean {
    return this.delivery.isOpen;
  }

  /** FrameQueue: a frame failed; the client gets the error. */
  frameFailed(error: AppError, cause: unknown) {
    if (error.code === 'INTERNAL_ERROR') this.deps.logger.error({ err: cause, userId: this.userId, connection: this.id }, 'json socket frame failed');
    this.delivery.sendError(error);
  }

  /** Delivery: the client stopped reading. */
  slowConsumer() {
    this.close('slow_consumer');
  }

  /** Stops the timers and the stream; called on close, whatever kind, and on shutdown. */
  dispose(): void {
    this.heartbeat.stop();
    this.stream?.close();
    for (const stop of this.watching?.values() ?? []) stop();
    this.watching = undefined;
    this.deps.connections.delete(this);
    this.release?.();
  }

  private async open({ token, cursor, ip }: SocketRequest): Promise<void> {
    const admission = await admit(this.deps.domain.accounts, token);
    if ('failed' in admission) return this.fail(admission.failed);
    if ('refused' in admission) {
      this.delivery.sendError(admission.error);
      return this.close(admission.refused);
    }
    const session = admission.admitted;
    this.release = session.release;
    // Closed while authenticating: dispose() ran before there was a slot to give back.
    if (!this.delivery.isOpen) return this.dispose();
    this.userId = session.userId;
    try {
      // Live from here on: what is published while the backlog is read follows it, nothing twice.
      const stream = await this.deps.domain.streams.open(this.userId, { after: cursor, queue: !cursor }, this.delivery);
      this.stream = stream;
      if (!this.delivery.isOpen) return stream.close();
      this.delivery.send(connectedFrame(this.userId, stream.resumed, stream.cursor));
      this.heartbeat.start(session.exp);
      this.deps.logger.info({ userId: this.userId, ip, connection: this.id, resumed: stream.resumed }, 'json socket connected');
      await stream.start();
    } catch (err) {
      this.fail(err);
    }
  }

  private receive(data: RawData) {
    let frame: ClientFrame;
    try {
      // binaryType is ws' default 'nodebuffer': every frame, text or binary, arrives as one Buffer.
      frame = parseClientFrame((data as Buffer).toString('utf8'));
    } catch (err) {
      this.heartbeat.activity();
      return this.frames.add(() => Promise.reject(err));
    }
    // A pong is taken at once: it must never wait behind domain work or a long offline queue.
    if (frame.type === 'pong') return this.pong();
    this.heartbeat.activity();
    if (frame.type === 'ping') return this.delivery.send(pongFrame());
    this.frames.add(() => this.handle(frame));
  }

  private async handle(frame: DomainFrame) {
    if (frame.type === 'presence:subscribe') return this.watch(frame.data.userIds);
    if (frame.type === 'presence:unsubscribe') return frame.data.userIds.forEach((id) => this.unwatch(id));
    const refreshed = await dispatch(this.deps.domain, this.userId, frame);
    if (!refreshed) return;
    this.heartbeat.expireAt(refreshed.exp);
    this.delivery.send(refreshedFrame(refreshed.exp));
  }

  /** presence:subscribe: a presence:update for each user now, then on every change, until unwatched or closed. */
  private async watch(userIds: number[]) {
    const ids = [...new Set(userIds)];
    const watching = (this.watching ??= new Map());
    const adding = ids.filter((id) => !watching.has(id)).length;
    if (watching.size + adding > MAX_PRESENCE_IDS) throw invalid(`A socket watches at most ${MAX_PRESENCE_IDS} users; unsubscribe some first`);
    // Watching again answers with the presence as it is now, as a first subscription does.
    for (const id of ids) this.unwatch(id);
    const stop = await this.deps.domain.presence.watch(this.userId, ids, (view) => void this.delivery.write({ event: { kind: 'presence', presence: view } }));
    if (!this.delivery.isOpen) return stop();
    for (const id of ids) watching.set(id, () => stop(id));
  }

  private unwatch(userId: number) {
    this.watching?.get(userId)?.();
    this.watching?.delete(userId);
  }

  /** Heartbeat: time for a ping. */
  ping() {
    this.pingMark ??= this.stream?.position();
    this.delivery.send(pingFrame());
  }

  /** The pong to a ping: everything written before that ping has been read, and leaves the offline queue. */
  private pong() {
    this.heartbeat.pong();
    const mark = this.pingMark;
    this.pingMark = undefined;
    if (mark)
      this.deps.domain.streams
        .ack(this.userId, mark)
        .catch((err: unknown) => this.deps.logger.warn({ err, userId: this.userId }, 'could not record what was read'));
  }

  /** Heartbeat: the pong, the idle time or the token ran out. */
  expired(why: Expiry) {
    if (why === 'token_expired') this.delivery.sendError(new AppError('UNAUTHORIZED', 'Token expired'));
    this.close(why);
  }

  private fail(err: unknown) {
    this.deps.logger.error({ err, userId: this.userId, connection: this.id }, 'json socket connection failed');
    this.delivery.sendError(toAppError(err));
    this.close('internal_error');
  }

  /** Closes from this side, counted under the reason in rt_connection_errors_total. */
  private close(reason: CloseReason) {
    if (!this.delivery.isOpen) return;
    this.closedBy = reason;
    this.deps.metrics.connectionErrors.inc({ transport: TRANSPORT, reason });
    this.ws.close(CLOSE_REASONS[reason].code, CLOSE_REASONS[reason].text);
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
