import { Repeater } from 'graphql-yoga';
import type { Bus } from './bus.ts';
import type { UserEventKind, UserEventOf } from './user-event.ts';

/**
 * One kind of event from a user's stream as an async iterator (a Repeater: its return() ends it at once, even
 * while it waits for the next event). With `current`, its value is yielded first; events that arrive while it is
 * being read follow it, so no change is missed and none comes before the value it changes.
 */
export function userEvents<K extends UserEventKind>(
  bus: Bus,
  userId: number,
  kind: K,
  current?: () => Promise<UserEventOf<K>>,
): AsyncIterableIterator<UserEventOf<K>> {
  return new Repeater<UserEventOf<K>>(async (push, stop) => {
    let held: UserEventOf<K>[] | undefined = current ? [] : undefined;
    const unsubscribe = await bus.subscribe(userId, (event) => {
      if (event.kind !== kind) return;
      if (held) held.push(event as UserEventOf<K>);
      else void push(event as UserEventOf<K>);
    });
    try {
      if (current && held) {
        await push(await current());
        for (const event of held) void push(event);
        held = undefined;
      }
      await stop;
    } finally {
      unsubscribe();
    }
  });
}
