// Keeps one way of delivery going: the socket when it can be opened, polling after `pollAfterFailures` attempts
// that never got to `connected`, and back to the socket as soon as a retry succeeds. Reconnects back off with full
// jitter, except right after a 1012 (the server restarts: another instance is up now).
import { backoffDelay, type BackoffOptions } from './backoff.ts';
import type { Emits } from './emitter.ts';
import { Close, type ClientFrame } from './protocol.ts';
import { openSocket, type SocketHandle, type WebSocketConstructor } from './socket.ts';
import type { Stream } from './stream.ts';
import type { Tokens } from './token.ts';

/** `open`: the socket delivers; `polling`: REST does; `connecting`: neither yet; `offline`: nothing reaches the server. */
export type ConnectionState = 'connecting' | 'open' | 'polling' | 'offline';

export interface ConnectionOptions {
  url: string;
  WebSocket: WebSocketConstructor;
  tokens: Tokens;
  stream: Stream;
  backoff: BackoffOptions;
  pollAfterFailures: number;
  deadAfterMs: number;
  startPolling(): { stop(): void };
  emitter: Emits<{ state: ConnectionState }>;
}

export class Connection {
  state: ConnectionState = 'connecting';
  private socket: SocketHandle | undefined;
  /** Between open() and the socket's creation (waiting for the token). */
  private opening = false;
  private poller: { stop(): void } | undefined;
  private pollOk = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** Consecutive attempts that did not reach `connected`. */
  private failures = 0;
  private attempt = 0;
  /** Idle close (4000) or close(): no reconnect until `resume()` (after an idle close only). */
  private paused = false;
  private closedForGood = false;

  constructor(private readonly options: ConnectionOptions) {
    void this.open();
  }

  /** Sends over the socket; false when there is no open socket. */
  send(frame: ClientFrame): boolean {
    return this.socket?.send(frame) ?? false;
  }

  /**
   * Reconnects after an idle close (4000). A backoff in progress is left alone: user actions during an outage must
   * not turn into a reconnect storm.
   */
  resume(): void {
    if (!this.paused || this.closedForGood) return;
    this.paused = false;
    void this.open();
  }

  /** The poller's report: whether its last request reached the server. */
  pollHealth(ok: boolean): void {
    const cameBack = ok && !this.pollOk;
    this.pollOk = ok;
    if (!this.poller) return;
    this.setState(ok ? 'polling' : 'offline');
    // The server answers again (it restarted, the network returned): try the socket now rather than after a backoff
    // that grew while nothing answered.
    if (cameBack && !this.socket && !this.opening) {
      this.attempt = 0;
      clearTimeout(this.retryTimer);
      void this.open();
    }
  }

  close(): void {
    this.closedForGood = true;
    this.paused = true;
    clearTimeout(this.retryTimer);
    this.socket?.close();
    this.stopPolling();
    this.setState('offline');
  }

  private async open() {
    this.retryTimer = undefined;
    if (this.paused) return;
    if (!this.poller) this.setState('connecting');
    let token: string;
    this.opening = true;
    try {
      token = await this.options.tokens.get();
    } catch {
      return this.closed({ code: Close.unauthorized, connected: false });
    } finally {
      this.opening = false;
    }
    if (this.paused) return;
    const cursor = this.options.stream.cursor;
    this.socket = openSocket(
      { url: this.options.url, token, cursor, WebSocket: this.options.WebSocket, tokens: this.options.tokens, deadAfterMs: this.options.deadAfterMs },
      {
        connected: (frame) => {
          this.failures = 0;
          this.attempt = 0;
          this.stopPolling();
          if (frame.cursor !== undefined && !frame.resumed) this.options.stream.cursor = frame.cursor;
          this.options.stream.begin(frame.resumed, 'not-resumed', cursor !== undefined);
          this.setState('open');
        },
        event: (frame) => this.options.stream.deliver(frame),
        closed: (info) => {
          this.socket = undefined;
          if (info.code === Close.unauthorized) void this.options.tokens.refused(token);
          this.closed(info);
        },
      },
    );
  }

  private closed({ code, connected, retryAfterMs }: { code: number; connected: boolean; retryAfterMs?: number }) {
    if (this.paused) return;
    if (!connected) this.failures++;
    if (code === Close.idle) {
      // The server closed an idle socket on purpose: reconnect on the app's next action (resume()).
      this.paused = true;
      return this.setState('offline');
    }
    if (this.failures >= this.options.pollAfterFailures && !this.poller) {
      this.pollOk = false;
      this.poller = this.options.startPolling();
    }
    this.setState(this.poller ? (this.pollOk ? 'polling' : 'offline') : 'connecting');
    const delay = code === Close.restart && this.attempt === 0 ? 0 : (retryAfterMs ?? backoffDelay(this.attempt, this.options.backoff));
    this.attempt++;
    this.retryTimer = setTimeout(() => void this.open(), delay);
  }

  private stopPolling() {
    this.poller?.stop();
    this.poller = undefined;
  }

  private setState(state: ConnectionState) {
    if (state === this.state) return;
    this.state = state;
    this.options.emitter.emit('state', state);
  }
}
