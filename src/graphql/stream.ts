import { Repeater } from 'graphql-yoga';
import type { GraphQLContext } from './builder.ts';
import type { StreamItem } from '../domain/streams.ts';
import { atExpiry } from '../auth/tokens.ts';

/** Items a subscriber may leave unread before its stream gives up on it (a client that stopped reading). */
export const MAX_UNREAD_ITEMS = 256;

/** A StreamItem, or the note that the cursor asked for could not be resumed (the client refetches its lists). */
export type SubscriptionItem = StreamItem | { cursor: string; event: { kind: 'resync' } };

/**
 * The caller's stream as an async iterator of the items `keep` selects: a Repeater, so return() ends it at once
 * even while it waits. With `after` it resumes from that cursor (or starts with a resync item); the backlog is paced
 * by the reader. A reader that falls MAX_UNREAD_ITEMS behind gets ctx.slowConsumer and the stream ends; over HTTP
 * (SSE) the stream ends at the token's expiry.
 */
export async function subscribeToStream(
  ctx: GraphQLContext,
  keep: (item: StreamItem) => boolean,
  after?: string | null,
): Promise<AsyncIterableIterator<SubscriptionItem>> {
  // Authenticates when the subscription starts, so a bad session fails the subscribe rather than the stream.
  const { userId, exp } = await ctx.session();
  return new Repeater<SubscriptionItem>(async (push, stop) => {
    // Nothing reaches a client past its token's `exp` (a graphql-ws socket is closed then instead).
    const cancelExpiry = ctx.streamsEndAtExpiry ? atExpiry(exp, () => stop()) : undefined;
    let unread = 0;
    const deliver = (item: SubscriptionItem): Promise<void> | undefined => {
      if ('position' in item) ctx.streamWritten?.(item);
      if (++unread > MAX_UNREAD_ITEMS) {
        ctx.slowConsumer?.();
        stop();
        return;
      }
      return push(item).then(() => void unread--);
    };
    const stream = await ctx.domain.streams.open(userId, { after }, { write: (item) => (keep(item) ? deliver(item) : undefined) });
    try {
      if (after && !stream.resumed) await deliver({ cursor: stream.cursor, event: { kind: 'resync' } });
      await stream.start();
      await stop;
    } finally {
      cancelExpiry?.();
      stream.close();
    }
  });
}
