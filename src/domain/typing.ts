// Typing indicators: published to the other party only; a `true` expires on its own after the timeout.
// A stop is relayed only while a start is active for the pair: stops are not rate-limited (a client must always be
// able to say it stopped), so one without a start would let a client flood the other user for free. Active starts
// live in Redis (the start may have reached another instance than the stop), each with the id of its start; the
// expiry timer lives on the instance that received the start and relays its stop only if that start is still the
// active one. While Redis does not answer, an instance knows only its own starts.
import type { Bus } from '../events/bus.ts';
import type { Metrics } from '../observability/metrics.ts';
import { invalid } from './errors.ts';
import type { RateLimits } from './rate-limits.ts';
import type { Accounts } from './accounts.ts';
import { sharedKey, type Script, type SharedStore } from './shared-store.ts';

export type Typing = ReturnType<typeof createTyping>;

const START: Script = { numberOfKeys: 1, lua: `return redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])` };
const STOP: Script = { numberOfKeys: 1, lua: `return redis.call('DEL', KEYS[1])` };
/** Ends the start `ARGV[1]` if it is still the active one. */
const EXPIRE: Script = {
  numberOfKeys: 1,
  lua: `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`,
};

interface LocalStart {
  id: string;
  timer: NodeJS.Timeout;
  /** Recorded in Redis too; false when Redis did not answer, and then only this instance knows of it. */
  shared: boolean;
}

let lastStart = 0;

export function createTyping(deps: { bus: Bus; limits: RateLimits; accounts: Accounts; store: SharedStore; metrics: Metrics; timeoutMs: number }) {
  const { bus, limits, accounts, store, metrics } = deps;
  const starts = new Map<string, LocalStart>();
  const instance = `${process.pid}.${Math.random().toString(36).slice(2, 10)}`;
  // Outlives the local timer, so that the timer still finds its start; a crashed instance's start ends on its own.
  const sharedTtlMs = deps.timeoutMs + 10_000;

  const announce = (userId: number, conversationWith: number, isTyping: boolean) =>
    bus.publish(conversationWith, { events: [{ kind: 'typing', typing: { userId, conversationWith, isTyping } }] });

  /** Ends the local start for the pair, if any; returns it. */
  const endLocal = (pair: string) => {
    const start = starts.get(pair);
    clearTimeout(start?.timer);
    starts.delete(pair);
    return start;
  };

  async function expire(userId: number, conversationWith: number, pair: string, id: string) {
    const start = starts.get(pair);
    if (start?.id !== id) return;
    starts.delete(pair);
    const active = start.shared
      ? await store.attempt(
          async (run) => (await run(EXPIRE, [pair], [id])) === 1,
          () => true,
        )
      : true;
    if (active) announce(userId, conversationWith, false);
  }

  return {
    async set(userId: number, conversationWith: number, isTyping: boolean): Promise<boolean> {
      if (userId === conversationWith) throw invalid('conversationWith must be another user');
      await accounts.assertExists(conversationWith);
      // Only starts count: a client must always be able to say it stopped.
      if (isTyping) await limits.consume('typing', userId);
      const pair = sharedKey('typing', userId, conversationWith);
      const local = endLocal(pair);
      if (isTyping) {
        const id = `${instance}:${++lastStart}`;
        const timer = setTimeout(() => void expire(userId, conversationWith, pair, id), deps.timeoutMs).unref();
        const start: LocalStart = { id, timer, shared: false };
        starts.set(pair, start);
        start.shared = await store.attempt(
          async (run) => Boolean(await run(START, [pair], [id, sharedTtlMs])),
          () => false,
        );
        announce(userId, conversationWith, true);
        return true;
      }
      const active = await store.attempt(
        async (run) => (await run(STOP, [pair], [])) === 1 || (local !== undefined && !local.shared),
        () => local !== undefined,
      );
      if (active) announce(userId, conversationWith, false);
      else metrics.typingStopsDropped.inc();
      return false;
    },

    close() {
      for (const start of starts.values()) clearTimeout(start.timer);
      starts.clear();
    },
  };
}
