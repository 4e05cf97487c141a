import { authed, builder, type GraphQLContext } from './builder.ts';
import { Conversation, Message, Notification, Presence, User } from './types.ts';
import { connectionArgs, connectionType, pageRequest, toConnection, type ConnectionArgs } from './pagination.ts';

/** A root field resolved once per operation for the same arguments, however many aliases repeat it. */
const once =
  <A extends object, R>(field: string, resolve: (parent: unknown, args: A, ctx: GraphQLContext) => Promise<R>) =>
  (parent: unknown, args: A, ctx: GraphQLContext) =>
    ctx.once(`${field}:${JSON.stringify(args)}`, () => resolve(parent, args, ctx));

const ConversationConnection = connectionType('Conversation', Conversation, 'your conversations');
const MessageConnection = connectionType('Message', Message, 'the messages of a conversation');
const NotificationConnection = connectionType('Notification', Notification, 'your notifications');

builder.queryType({
  description: 'What you can read. Every field needs `Authorization: Bearer <token>`.',
  fields: (t) => ({
    me: t.field({
      type: User,
      description: 'The user of the token.',
      resolve: once(
        'me',
        authed((userId, _, ctx) => ctx.domain.accounts.user(userId)),
      ),
    }),
    conversations: t.field({
      type: ConversationConnection,
      description: 'The inbox: one entry per conversation partner, most recently active first.',
      args: connectionArgs(t.arg),
      resolve: once(
        'conversations',
        authed(async (userId, args: ConnectionArgs, ctx) => {
          const page = await ctx.domain.messages.inbox(userId, pageRequest(args));
          return toConnection(page, (c) => c.lastMessage.id, args);
        }),
      ),
    }),
    messages: t.field({
      type: MessageConnection,
      description: 'Messages between you and another user, newest first.',
      args: { ...connectionArgs(t.arg), withUserId: t.arg.int({ required: true, description: 'The other user of the conversation.' }) },
      resolve: once(
        'messages',
        authed(async (userId, args: ConnectionArgs & { withUserId: number }, ctx) => {
          const page = await ctx.domain.messages.conversation(userId, args.withUserId, pageRequest(args));
          return toConnection(page, (m) => m.id, args);
        }),
      ),
    }),
    unreadMessageCount: t.int({
      description: 'How many messages to you are not yet marked seen.',
      resolve: once(
        'unreadMessageCount',
        authed((userId, _, ctx) => ctx.domain.messages.unreadCount(userId)),
      ),
    }),
    notifications: t.field({
      type: NotificationConnection,
      description: 'Your notifications, newest first.',
      args: { ...connectionArgs(t.arg), unseenOnly: t.arg.boolean({ description: 'Only those not yet marked seen (default false).' }) },
      resolve: once(
        'notifications',
        authed(async (userId, args: ConnectionArgs & { unseenOnly?: boolean | null }, ctx) => {
          const request = { ...pageRequest(args), unseenOnly: args.unseenOnly ?? false };
          const page = await ctx.domain.notifications.list(userId, request);
          return toConnection(page, (n) => n.id, args);
        }),
      ),
    }),
    presence: t.field({
      type: [Presence],
      description: 'The presence of up to 200 users, in the order asked (repeats once); UNKNOWN for users you may not see.',
      args: { userIds: t.arg.intList({ required: true, description: 'At most 200 user ids.' }) },
      resolve: once(
        'presence',
        authed((userId, args: { userIds: number[] }, ctx) => ctx.domain.presence.of(userId, args.userIds)),
      ),
    }),
    unseenNotificationCount: t.int({
      description: 'How many of your notifications are not yet marked seen.',
      resolve: once(
        'unseenNotificationCount',
        authed((userId, _, ctx) => ctx.domain.notifications.unseenCount(userId)),
      ),
    }),
  }),
});
