// The heartbeat's clock, on fake timers: a token that outlives setTimeout's longest delay (2^31-1 ms, ~24.8 days)
// must not expire early, and must expire at its `exp`. Hours of JSON pings are stepped through in milliseconds.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Heartbeat, type Expiry } from '../src/transports/json-socket/heartbeat.ts';

describe('heartbeat', () => {
  beforeEach(() => void vi.useFakeTimers({ now: new Date('2026-12-03T00:00:00Z') }));
  afterEach(() => void vi.useRealTimers());

  const start = (expSeconds: number) => {
    const expired: Expiry[] = [];
    const heartbeat = new Heartbeat(
      { pingIntervalMs: 86_400_000, pongTimeoutMs: 10_000, idleTimeoutMs: 0 },
      { ping: () => void setTimeout(() => heartbeat.pong(), 0), expired: (why) => void expired.push(why) },
    );
    heartbeat.start(expSeconds);
    return { heartbeat, expired };
  };

  it('keeps a connection whose token expires beyond the longest timer delay, and closes it at the token’s exp', () => {
    const exp = Math.floor(Date.now() / 1000) + 40 * 86_400; // 40 days
    const { heartbeat, expired } = start(exp);
    vi.advanceTimersByTime(2 ** 31 - 1 + 1000); // past the first timer's longest delay
    expect(expired).toEqual([]);
    vi.setSystemTime(exp * 1000 - 1000);
    vi.advanceTimersByTime(0);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(40 * 86_400_000); // whatever is still scheduled
    expect(expired).toEqual(['token_expired']);
    heartbeat.stop();
  });

  it('closes at once for a token that is already expired, and only once', () => {
    const { expired } = start(Math.floor(Date.now() / 1000) - 1);
    vi.advanceTimersByTime(60_000);
    expect(expired).toEqual(['token_expired']);
  });

  it('closes with pong_timeout when a ping goes unanswered, however many pings follow', () => {
    const expired: Expiry[] = [];
    const heartbeat = new Heartbeat(
      { pingIntervalMs: 1000, pongTimeoutMs: 2500, idleTimeoutMs: 0 },
      { ping: () => undefined, expired: (why) => void expired.push(why) },
    );
    heartbeat.start(Math.floor(Date.now() / 1000) + 3600);
    vi.advanceTimersByTime(3400); // first ping at 1 s; its deadline at 3.5 s is not moved by the pings at 2 s and 3 s
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(200);
    expect(expired).toEqual(['pong_timeout']);
    vi.advanceTimersByTime(10_000);
    expect(expired).toEqual(['pong_timeout']);
  });
});
