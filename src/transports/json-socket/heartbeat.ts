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
  /** The token's `exp` (seconds since the epoch) that the expiry timer waits for. */
  private expSeconds = 0;

  constructor(
    private readonly options: HeartbeatOptions,
    private readonly owner: { ping(): void; expired(why: Expiry): void },
  ) {}

  // The timers call shared functions with the heartbeat as their argument: no closure per socket and timer.
  private static pingDue(heartbeat: Heartbeat) {
    heartbeat.owner.ping();
    // An unanswered earlier ping keeps its deadline: a late pong must not buy a client more time.
    heartbeat.pongTimer ??= setTimeout(Heartbeat.fire, heartbeat.options.pongTimeoutMs, heartbeat, 'pong_timeout');
  }

  private static expiryDue(heartbeat: Heartbeat) {
    if (heartbeat.expSeconds * 1000 - Date.now() > 0) heartbeat.expireAt(heartbeat.expSeconds);
    else Heartbeat.fire(heartbeat, 'token_expired');
  }

  private static idleDue(heartbeat: Heartbeat) {
    const left = heartbeat.lastActivity + heartbeat.options.idleTimeoutMs - Date.now();
    if (left <= 0) Heartbeat.fire(heartbeat, 'idle');
    else heartbeat.watchIdle(left);
  }

  private static fire(heartbeat: Heartbeat, why: Expiry) {
    if (heartbeat.stopped) return;
    heartbeat.stop();
    heartbeat.owner.expired(why);
  }

  /** Starts pinging and watching idleness and the token's `exp` (seconds since the epoch). */
  start(expSeconds: number) {
    if (this.stopped) return;
    this.pingTimer = setInterval(Heartbeat.pingDue, this.options.pingIntervalMs, this);
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
    this.expSeconds = expSeconds;
    const left = expSeconds * 1000 - Date.now();
    this.expiryTimer = setTimeout(Heartbeat.expiryDue, Math.max(0, Math.min(left, MAX_DELAY_MS)), this);
  }

  stop() {
    this.stopped = true;
    clearInterval(this.pingTimer);
    for (const timer of [this.pongTimer, this.idleTimer, this.expiryTimer]) clearTimeout(timer);
  }

  private watchIdle(delayMs: number) {
    this.idleTimer = setTimeout(Heartbeat.idleDue, Math.max(0, delayMs), this);
  }
}
