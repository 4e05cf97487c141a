// Every subscription but presenceChanged reads the caller's own stream: there is no user argument to get wrong.
import { Repeater } from 'graphql-yoga';
import { builder } from './builder.ts';
import { Message, MessagesSeen, Notification, NotificationsSeen, Presence, TypingEvent, UserEventItem } from './types.ts';
import { MAX_UNREAD_ITEMS, subscribeToStream, type SubscriptionItem } from './stream.ts';
import { presenceIds } from '../domain/presence.ts';
import { atExpiry } from '../auth/tokens.ts';
import type { PresenceView, UserEventKind, UserEventOf } from '../events/user-event.ts';
import type { StreamItem } from '../domain/streams.ts';

/** One kind of the caller's events, live (counts: the current value first). */
const only = (kind: UserEventKind) => (item: StreamItem) => item.event.kind === kind;
const eventOf = <K extends UserEventKind>(item: SubscriptionItem, _kind: K) => item.event as UserEventOf<K>;

builder.subscriptionType({
  description: 'Your events as they happen, over graphql-ws or server-sent events; authenticated like queries.',
  fields: (t) => ({
    userEvents: t.field({
      type: UserEventItem,
      description:
        'Your whole stream of stateful events (typing excepted), each with its cursor. With `after` (the cursor of the ' +
        'last item you processed) it first replays everything after it, then goes on live, with no gap and no ' +
        'duplicate; a cursor that cannot be resumed (too old, malformed, not yours) yields one Resync first. Without ' +
        '`after` it starts with the current counts.',
      args: { after: t.arg.string({ description: 'The cursor of the last item you processed.' }) },
      subscribe: (_, args, ctx) => subscribeToStream(ctx, (item) => item.event.kind !== 'typing', args.after),
      resolve: (item) => item,
    }),
    messageNew: t.field({
      type: Message,
      description: 'Messages you receive.',
      subscribe: (_, __, ctx) => subscribeToStream(ctx, only('messageNew')),
      resolve: (item) => eventOf(item, 'messageNew').message,
    }),
    messageSeen: t.field({
      type: MessagesSeen,
      description: 'Your sent messages that their receiver has read (only your message ids).',
      subscribe: (_, __, ctx) => subscribeToStream(ctx, only('messageSeen')),
      resolve: (item) => eventOf(item, 'messageSeen').receipt,
    }),
    typing: t.field({
      type: TypingEvent,
      description: 'Someone typing to you; isTyping false when they stop or after the typing timeout.',
      subscribe: (_, __, ctx) => subscribeToStream(ctx, only('typing')),
      resolve: (item) => eventOf(item, 'typing').typing,
    }),
    unreadMessageCount: t.int({
      description: 'Your unread message count: the current value first, then every change.',
      subscribe: (_, __, ctx) => subscribeToStream(ctx, only('unreadMessageCount')),
      resolve: (item) => eventOf(item, 'unreadMessageCount').count,
    }),
    notificationNew: t.field({
      type: Notification,
      description: 'Notifications you receive.',
      subscribe: (_, __, ctx) => subscribeToStream(ctx, only('notificationNew')),
      resolve: (item) => eventOf(item, 'notificationNew').notification,
    }),
    notificationSeen: t.field({
      type: NotificationsSeen,
      description: 'Notifications marked seen on any of your devices.',
      subscribe: (_, __, ctx) => subscribeToStream(ctx, only('notificationSeen')),
      resolve: (item) => eventOf(item, 'notificationSeen').seen,
    }),
    unseenCount: t.int({
      description: 'Your unseen notification count: the current value first, then every change.',
      subscribe: (_, __, ctx) => subscribeToStream(ctx, only('unseenCount')),
      resolve: (item) => eventOf(item, 'unseenCount').count,
    }),
    presenceChanged: t.field({
      type: Presence,
      description:
        'The presence of up to 200 users: each one now, then every change (presence is ephemeral: no cursor). ' + 'Users you may not see come once as UNKNOWN.',
      args: { userIds: t.arg.intList({ required: true, description: 'At most 200 user ids.' }) },
      subscribe: async (_, args, ctx) => {
        const ids = presenceIds(args.userIds);
        const { userId, exp } = await ctx.session();
        return new Repeater<PresenceView>(async (push, stop) => {
          const cancelExpiry = ctx.streamsEndAtExpiry ? atExpiry(exp, () => stop()) : undefined;
          let unread = 0;
          try {
            const unwatch = await ctx.domain.presence.watch(userId, ids, (view) => {
              if (++unread > MAX_UNREAD_ITEMS) {
                ctx.slowConsumer?.();
                stop();
                return;
              }
              void push(view).then(() => void unread--);
            });
            await stop;
            unwatch();
          } finally {
            cancelExpiry?.();
          }
        });
      },
      resolve: (view) => view,
    }),
  }),
});
