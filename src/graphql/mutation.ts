import { builder } from './builder.ts';
import { invalid } from '../domain/errors.ts';
import { AuthPayloadType, Comment, Message, MessagesSeen, NotificationsSeen, User, Video } from './types.ts';

builder.mutationType({
  fields: (t) => ({
    register: t.field({
      type: AuthPayloadType,
      args: { username: t.arg.string({ required: true }), password: t.arg.string({ required: true }), avatarUrl: t.arg.string() },
      resolve: (_, args, ctx) => ctx.domain.accounts.register(args, ctx.clientIp),
    }),
    login: t.field({
      type: AuthPayloadType,
      args: { username: t.arg.string({ required: true }), password: t.arg.string({ required: true }) },
      resolve: (_, args, ctx) => ctx.domain.accounts.login(args, ctx.clientIp),
    }),
    refreshToken: t.field({
      type: 'DateTime',
      description:
        'On a graphql-ws socket: hands it a newer token of the same user before its current one expires, and answers the new expiry. A socket not refreshed is closed with 4401 at its token\'s expiry. Over HTTP every request carries its own token, so this is refused there.',
      args: { token: t.arg.string({ required: true }) },
      resolve: async (_, args, ctx) => {
        if (!ctx.renewSession) throw invalid('refreshToken works on a graphql-ws socket; over HTTP send the new token with the next request');
        return new Date((await ctx.renewSession(args.token)).exp * 1000);
      },
    }),
    sendMessage: t.field({
      type: Message,
      description: 'Sends a message. Give a clientMessageId to retry safely: a retry with the same id returns the message stored the first time and delivers nothing again.',
      args: {
        receiverId: t.arg.int({ required: true }),
        content: t.arg.string({ required: true }),
        clientMessageId: t.arg.string({ description: 'Chosen by your client, unique among your messages, at most 64 characters.' }),
      },
      resolve: async (_, args, ctx) => ctx.domain.messages.send((await ctx.session()).userId, args.receiverId, args.content, args.clientMessageId),
    }),
    markMessagesSeen: t.field({
      type: MessagesSeen,
      description: 'Marks messages from `conversationWith` to you as seen; omit messageIds for all of them.',
      args: { conversationWith: t.arg.int({ required: true }), messageIds: t.arg.intList() },
      resolve: async (_, args, ctx) => ctx.domain.messages.markSeen((await ctx.session()).userId, args.conversationWith, args.messageIds),
    }),
    setTyping: t.boolean({
      args: { conversationWith: t.arg.int({ required: true }), isTyping: t.arg.boolean({ required: true }) },
      resolve: async (_, args, ctx) => ctx.domain.typing.set((await ctx.session()).userId, args.conversationWith, args.isTyping),
    }),
    markNotificationsSeen: t.field({
      type: NotificationsSeen,
      description: 'Marks your notifications seen; omit notificationIds for all of them.',
      args: { notificationIds: t.arg.intList() },
      resolve: async (_, args, ctx) => ctx.domain.notifications.markSeen((await ctx.session()).userId, args.notificationIds),
    }),
    createVideo: t.field({
      type: Video,
      args: { title: t.arg.string({ required: true }), thumbUrl: t.arg.string() },
      resolve: async (_, args, ctx) => ctx.domain.social.createVideo((await ctx.session()).userId, args),
    }),
    likeVideo: t.field({
      type: Video,
      args: { videoId: t.arg.int({ required: true }) },
      resolve: async (_, args, ctx) => ctx.domain.social.likeVideo((await ctx.session()).userId, args.videoId),
    }),
    unlikeVideo: t.field({
      type: Video,
      args: { videoId: t.arg.int({ required: true }) },
      resolve: async (_, args, ctx) => ctx.domain.social.unlikeVideo((await ctx.session()).userId, args.videoId),
    }),
    commentOnVideo: t.field({
      type: Comment,
      description: 'Comments (or replies, with parentId); `@username` mentions notify those users.',
      args: { videoId: t.arg.int({ required: true }), content: t.arg.string({ required: true }), parentId: t.arg.int() },
      resolve: async (_, args, ctx) => ctx.domain.social.commentOnVideo((await ctx.session()).userId, args),
    }),
    followUser: t.field({
      type: User,
      args: { userId: t.arg.int({ required: true }) },
      resolve: async (_, args, ctx) => ctx.domain.social.followUser((await ctx.session()).userId, args.userId),
    }),
    unfollowUser: t.field({
      type: User,
      args: { userId: t.arg.int({ required: true }) },
      resolve: async (_, args, ctx) => ctx.domain.social.unfollowUser((await ctx.session()).userId, args.userId),
    }),
  }),
});
