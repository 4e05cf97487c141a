import { builder } from './builder.ts';
import { Conversation, Message, Notification, User } from './types.ts';
import { pageRequest, toConnection } from './pagination.ts';

builder.queryType({
  fields: (t) => ({
    me: t.field({
      type: User,
      resolve: async (_, __, ctx) => ctx.domain.accounts.user((await ctx.session()).userId),
    }),
    conversations: t.connection(
      {
        type: Conversation,
        description: 'The inbox: one entry per conversation partner, most recently active first.',
        resolve: async (_, args, ctx) => {
          const page = await ctx.domain.messages.inbox((await ctx.session()).userId, pageRequest(args));
          return toConnection(page, (c) => c.lastMessage.id, args);
        },
      },
      { name: 'ConversationConnection' },
      { name: 'ConversationEdge' },
    ),
    messages: t.connection(
      {
        type: Message,
        description: 'Messages between you and another user, newest first.',
        args: { withUserId: t.arg.int({ required: true }) },
        resolve: async (_, args, ctx) => {
          const page = await ctx.domain.messages.conversation((await ctx.session()).userId, args.withUserId, pageRequest(args));
          return toConnection(page, (m) => m.id, args);
        },
      },
      { name: 'MessageConnection' },
      { name: 'MessageEdge' },
    ),
    unreadMessageCount: t.int({
      resolve: async (_, __, ctx) => ctx.domain.messages.unreadCount((await ctx.session()).userId),
    }),
    notifications: t.connection(
      {
        type: Notification,
        args: { unseenOnly: t.arg.boolean() },
        resolve: async (_, args, ctx) => {
          const request = { ...pageRequest(args), unseenOnly: args.unseenOnly ?? false };
          const page = await ctx.domain.notifications.list((await ctx.session()).userId, request);
          return toConnection(page, (n) => n.id, args);
        },
      },
      { name: 'NotificationConnection' },
      { name: 'NotificationEdge' },
    ),
    unseenNotificationCount: t.int({
      resolve: async (_, __, ctx) => ctx.domain.notifications.unseenCount((await ctx.session()).userId),
    }),
  }),
});
