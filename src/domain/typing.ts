// Typing indicators: published to the other party only; a `true` expires on its own after the timeout.
// The expiry timer lives on the instance that received the `true`; a later frame on any instance replaces it there.
import type { Bus } from '../events/bus.ts';
import { invalid } from './errors.ts';
import type { RateLimits } from './rate-limits.ts';
import type { Accounts } from './accounts.ts';

export type Typing = ReturnType<typeof createTyping>;

export function createTyping(deps: { bus: Bus; limits: RateLimits; accounts: Accounts; timeoutMs: number }) {
  const { bus, limits, accounts } = deps;
  const expiries = new Map<string, NodeJS.Timeout>();

  const announce = (userId: number, conversationWith: number, isTyping: boolean) =>
    bus.publish(conversationWith, { events: [{ kind: 'typing', typing: { userId, conversationWith, isTyping } }] });

  return {
    async set(userId: number, conversationWith: number, isTyping: boolean): Promise<boolean> {
      if (userId === conversationWith) throw invalid('conversationWith must be another user');
      // Only starts count: a client must always be able to say it stopped.
      if (isTyping) await limits.consume('typing', userId);
      await accounts.assertExists(conversationWith);
      const key = `${userId}:${conversationWith}`;
      clearTimeout(expiries.get(key));
      expiries.delete(key);
      if (isTyping) {
        expiries.set(
          key,
          setTimeout(() => {
            expiries.delete(key);
            announce(userId, conversationWith, false);
          }, deps.timeoutMs).unref(),
        );
      }
      announce(userId, conversationWith, isTyping);
      return isTyping;
    },

    close() {
      for (const timer of expiries.values()) clearTimeout(timer);
      expiries.clear();
    },
  };
}
