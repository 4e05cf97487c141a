import { builder, type GraphQLContext } from './builder.ts';
import { Conversation, Message, Notification, User } from './types.ts';
import { pageRequest, toConnection, type ConnectionArgs } from './pagination.ts';

/** A root field resolved once per operation for the same arguments, however many aliases repeat it. */
const once =
  <A extends object, R>(field: string, resolve: (args: A, ctx: GraphQLContext) => Promise<R>) =>
  (_: unknown, args: A, ctx: GraphQLContext) =>
    ctx.once(`${field}:${JSON.stringify(args)}`, () => resolve(args, ctx));

builder.queryType({
  fields: (t) => ({
    me: t.field({
      type: User,
      resolve: once('me', async (_, ctx) => ctx.domain.accounts.user((await ctx.session()).userId)),
    }),
    conversations: t.connection(
      {
        type: Conversation,
        description: 'The inbox: one entry per conversation partner, most recently active first.',
        resolve: once('conversations', async (args: ConnectionArgs, ctx) => {
          const page = await ctx.domain.messages.inbox((await ctx.session()).userId, pageRequest(args));
          return toConnection(page, (c) => c.lastMessage.id, args);
        }),
      },
      { name: 'ConversationConnection' },
      { name: 'ConversationEdge' },
    ),
    messages: t.connection(
      {
        type: Message,
        description: 'Messages between you and another user, newest first.',
        args: { withUserId: t.arg.int({ required: true }) },
        resolve: once('messages', async (args, ctx) => {
          const page = await ctx.domain.messages.conversation((await ctx.session()).userId, args.withUserId, pageRequest(args));
          return toConnection(page, (m) => m.id, args);
        }),
      },
      { name: 'MessageConnection' },
      { name: 'MessageEdge' },
    ),
    unreadMessageCount: t.int({
      resolve: once('unreadMessageCount', async (_, ctx) => ctx.domain.messages.unreadCount((await ctx.session()).userId)),
    }),
    notifications: t.connection(
      {
        type: Notification,
        args: { unseenOnly: t.arg.boolean() },
        resolve: once('notifications', async (args, ctx) => {
          const request = { ...pageRequest(args), unseenOnly: args.unseenOnly ?? false };
          const page = await ctx.domain.notifications.list((await ctx.session()).userId, request);
          return toConnection(page, (n) => n.id, args);
        }),
      },
      { name: 'NotificationConnection' },
      { name: 'NotificationEdge' },
    ),
    unseenNotificationCount: t.int({
      resolve: once('unseenNotificationCount', async (_, ctx) => ctx.domain.notifications.unseenCount((await ctx.session()).userId)),
    }),
  }),
});
