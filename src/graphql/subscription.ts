// Every subscription reads the caller's own stream: there is no user argument to get wrong.
import { Repeater } from 'graphql-yoga';
import { builder, type GraphQLContext } from './builder.ts';
import { atExpiry } from '../auth/tokens.ts';
import { Message, MessagesSeen, Notification, NotificationsSeen, TypingEvent } from './types.ts';
import { userEvents } from '../events/user-stream.ts';
import type { UserEventKind, UserEventOf } from '../events/user-event.ts';

/** The stream, completed when the token expires: nothing reaches a client past its token's `exp`. */
async function* untilExpiry<T>(stream: AsyncIterableIterator<T>, expSeconds: number) {
  let cancel!: () => void;
  const expired = new Promise<void>((resolve) => (cancel = atExpiry(expSeconds, resolve)));
  try {
    yield* Repeater.race([stream, expired]);
  } finally {
    cancel();
  }
}

// Authenticates when the subscription starts, so a bad session fails the subscribe rather than the stream.
async function streamOf<K extends UserEventKind>(ctx: GraphQLContext, kind: K, current?: (userId: number) => Promise<UserEventOf<K>>) {
  const { userId, exp } = await ctx.session();
  const stream = userEvents(ctx.bus, userId, kind, { current: current && (() => current(userId)), onOverflow: ctx.slowConsumer });
  return ctx.streamsEndAtExpiry ? untilExpiry(stream, exp) : stream;
}

builder.subscriptionType({
  fields: (t) => ({
    messageNew: t.field({
      type: Message,
      description: 'Messages you receive.',
      subscribe: (_, __, ctx) => streamOf(ctx, 'messageNew'),
      resolve: (event, _, ctx) => {
        void ctx.domain.messages.markDelivered(event.message.id);
        return event.message;
      },
    }),
    messageSeen: t.field({
      type: MessagesSeen,
      description: 'Your sent messages that their receiver has read (only your message ids).',
      subscribe: (_, __, ctx) => streamOf(ctx, 'messageSeen'),
      resolve: (event) => event.receipt,
    }),
    typing: t.field({
      type: TypingEvent,
      description: 'Someone typing to you; isTyping false when they stop or after the typing timeout.',
      subscribe: (_, __, ctx) => streamOf(ctx, 'typing'),
      resolve: (event) => event.typing,
    }),
    unreadMessageCount: t.int({
      description: 'Your unread message count: the current value first, then every change.',
      subscribe: (_, __, ctx) =>
        streamOf(ctx, 'unreadMessageCount', async (userId) => ({ kind: 'unreadMessageCount', count: await ctx.domain.messages.unreadCount(userId) })),
      resolve: (event) => event.count,
    }),
    notificationNew: t.field({
      type: Notification,
      subscribe: (_, __, ctx) => streamOf(ctx, 'notificationNew'),
      resolve: (event) => event.notification,
    }),
    notificationSeen: t.field({
      type: NotificationsSeen,
      description: 'Notifications marked seen on any of your devices.',
      subscribe: (_, __, ctx) => streamOf(ctx, 'notificationSeen'),
      resolve: (event) => event.seen,
    }),
    unseenCount: t.int({
      description: 'Your unseen notification count: the current value first, then every change.',
      subscribe: (_, __, ctx) =>
        streamOf(ctx, 'unseenCount', async (userId) => ({ kind: 'unseenCount', count: await ctx.domain.notifications.unseenCount(userId) })),
      resolve: (event) => event.count,
    }),
  }),
});
