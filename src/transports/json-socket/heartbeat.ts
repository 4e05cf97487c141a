// The timers of one connection: JSON ping/pong, idleness and token expiry. It only decides *when*; what a ping
// looks like and how a connection closes is the connection's business.
export type Expiry = 'pong_timeout' | 'idle' | 'token_expired';

export interface HeartbeatOptions {
  pingIntervalMs: number;
  pongTimeoutMs: number;
  /** 0 disables. */
  idleTimeoutMs: number;
}

// setTimeout fires at once for delays beyond 2^31-1 ms (~24.8 days); tokens may well live longer.
const MAX_DELAY_MS = 2 ** 31 - 1;

export class Heartbeat {
  private pingTimer?: NodeJS.Timeout;
  private pongTimer?: NodeJS.Timeout;
  private idleTimer?: NodeJS.Timeout;
  private expiryTimer?: NodeJS.Timeout;
  /** Idleness counts from the socket's opening, not from when the heartbeat starts. */
  private lastActivity = Date.now();
  private stopped = false;

  constructor(
    private readonly options: HeartbeatOptions,
    private readonly ping: () => void,
    private readonly expire: (why: Expiry) => void,
  ) {}

  /** Starts pinging and watching idleness and the token's `exp` (seconds since the epoch). */
  start(expSeconds: number) {
    if (this.stopped) return;
    this.pingTimer = setInterval(() => {
      this.ping();
      // An unanswered earlier ping keeps its deadline: a late pong must not buy a client more time.
      this.pongTimer ??= setTimeout(() => this.fire('pong_timeout'), this.options.pongTimeoutMs);
    }, this.options.pingIntervalMs);
    if (this.options.idleTimeoutMs > 0) this.watchIdle(this.lastActivity + this.options.idleTimeoutMs - Date.now());
    this.expireAt(expSeconds);
  }

  /** A JSON pong arrived. */
  pong() {
    clearTimeout(this.pongTimer);
    this.pongTimer = undefined;
  }

  /** Any client frame other than a pong, invalid ones included. Cheap: no timer is touched per frame. */
  activity() {
    this.lastActivity = Date.now();
  }

  /** (Re)schedules the token expiry, e.g. after auth:refresh. */
  expireAt(expSeconds: number) {
    clearTimeout(this.expiryTimer);
    const left = expSeconds * 1000 - Date.now();
    this.expiryTimer = setTimeout(
      () => (left > MAX_DELAY_MS ? this.expireAt(expSeconds) : this.fire('token_expired')),
      Math.max(0, Math.min(left, MAX_DELAY_MS)),
    );
  }

  stop() {
    this.stopped = true;
    clearInterval(this.pingTimer);
    for (const timer of [this.pongTimer, this.idleTimer, this.expiryTimer]) clearTimeout(timer);
  }

  private watchIdle(delayMs: number) {
    this.idleTimer = setTimeout(
      () => {
        const left = this.lastActivity + this.options.idleTimeoutMs - Date.now();
        if (left <= 0) this.fire('idle');
        else this.watchIdle(left);
      },
      Math.max(0, delayMs),
    );
  }

  private fire(why: Expiry) {
    if (this.stopped) return;
    this.stop();
    this.expire(why);
  }
}
