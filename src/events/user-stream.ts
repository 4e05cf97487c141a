import { Repeater } from 'graphql-yoga';
import type { Bus } from './bus.ts';
import type { UserEventKind, UserEventOf } from './user-event.ts';

/** Events a consumer may leave unread before its stream gives up on it (a client that stopped reading). */
export const MAX_UNREAD_EVENTS = 256;

/**
 * One kind of event from a user's stream as an async iterator (a Repeater: its return() ends it at once, even
 * while it waits for the next event). With `current`, its value is yielded first; events that arrive while it is
 * being read follow it, so no change is missed and none comes before the value it changes. A consumer that falls
 * MAX_UNREAD_EVENTS behind gets `onOverflow` and the stream ends, instead of the events piling up in memory.
 */
export function userEvents<K extends UserEventKind>(
  bus: Bus,
  userId: number,
  kind: K,
  options: { current?: () => Promise<UserEventOf<K>>; onOverflow?: () => void } = {},
): AsyncIterableIterator<UserEventOf<K>> {
  const { current, onOverflow } = options;
  return new Repeater<UserEventOf<K>>(async (push, stop) => {
    let unread = 0;
    const deliver = (event: UserEventOf<K>) => {
      if (++unread > MAX_UNREAD_EVENTS) {
        onOverflow?.();
        stop();
        return;
      }
      void push(event).then(() => unread--);
    };
    let held: UserEventOf<K>[] | undefined = current ? [] : undefined;
    const unsubscribe = await bus.subscribe(userId, (event) => {
      if (event.kind !== kind) return;
      if (held) held.push(event as UserEventOf<K>);
      else deliver(event as UserEventOf<K>);
    });
    try {
      if (current && held) {
        deliver(await current());
        for (const event of held) deliver(event);
        held = undefined;
      }
      await stop;
    } finally {
      unsubscribe();
    }
  });
}
