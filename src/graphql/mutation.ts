import { authed, builder } from './builder.ts';
import { invalid } from '../domain/errors.ts';
import { AuthPayloadType, Comment, Message, MessagesSeen, NotificationsSeen, User, Video } from './types.ts';

builder.mutationType({
  description: 'What you can do. Every field but register and login needs `Authorization: Bearer <token>`.',
  fields: (t) => ({
    register: t.field({
      type: AuthPayloadType,
      description: 'Creates a user and answers its first session.',
      args: {
        username: t.arg.string({ required: true, description: 'Unique (case-insensitively): 3 to 30 letters, digits, underscores or dots.' }),
        password: t.arg.string({ required: true, description: '8 to 1024 characters.' }),
        avatarUrl: t.arg.string({ description: 'An absolute http(s) URL or a root-relative path.' }),
      },
      resolve: (_, args, ctx) => ctx.domain.accounts.register(args, ctx.clientIp),
    }),
    login: t.field({
      type: AuthPayloadType,
      description: 'Answers a new session for a registered user.',
      args: {
        username: t.arg.string({ required: true, description: 'As registered.' }),
        password: t.arg.string({ required: true, description: 'As registered.' }),
      },
      resolve: (_, args, ctx) => ctx.domain.accounts.login(args, ctx.clientIp),
    }),
    refreshToken: t.field({
      type: 'DateTime',
      description:
        "On a graphql-ws socket: hands it a newer token of the same user before its current one expires, and answers the new expiry. A socket not refreshed is closed with 4401 at its token's expiry. Over HTTP every request carries its own token, so this is refused there.",
      args: { token: t.arg.string({ required: true, description: 'A newer token of the same user.' }) },
      resolve: async (_, args, ctx) => {
        if (!ctx.renewSession) throw invalid('refreshToken works on a graphql-ws socket; over HTTP send the new token with the next request');
        return new Date((await ctx.renewSession(args.token)).exp * 1000);
      },
    }),
    sendMessage: t.field({
      type: Message,
      description:
        'Sends a message. Give a clientMessageId to retry safely: a retry with the same id returns the message stored the first time and delivers nothing again.',
      args: {
        receiverId: t.arg.int({ required: true, description: 'Whom to send it to.' }),
        content: t.arg.string({ required: true, description: 'The text; markup is removed.' }),
        clientMessageId: t.arg.string({ description: 'Chosen by your client, unique among your messages, at most 64 characters.' }),
      },
      resolve: authed((userId, args, ctx) => ctx.domain.messages.send(userId, args.receiverId, args.content, args.clientMessageId)),
    }),
    markMessagesSeen: t.field({
      type: MessagesSeen,
      description: 'Marks messages from `conversationWith` to you as seen; omit messageIds for all of them.',
      args: {
        conversationWith: t.arg.int({ required: true, description: 'The sender whose messages you read.' }),
        messageIds: t.arg.intList({ description: 'Only these messages; omit for all of them.' }),
      },
      resolve: authed((userId, args, ctx) => ctx.domain.messages.markSeen(userId, args.conversationWith, args.messageIds)),
    }),
    setTyping: t.boolean({
      description:
        'Tells another user that you started (true) or stopped (false) typing to them; a start ends by itself after the typing timeout. Answers true.',
      args: {
        conversationWith: t.arg.int({ required: true, description: 'Whom you are typing to.' }),
        isTyping: t.arg.boolean({ required: true, description: 'true when you start, false when you stop.' }),
      },
      resolve: authed((userId, args, ctx) => ctx.domain.typing.set(userId, args.conversationWith, args.isTyping)),
    }),
    markNotificationsSeen: t.field({
      type: NotificationsSeen,
      description: 'Marks your notifications seen; omit notificationIds for all of them.',
      args: { notificationIds: t.arg.intList({ description: 'Only these notifications; omit for all of them.' }) },
      resolve: authed((userId, args, ctx) => ctx.domain.notifications.markSeen(userId, args.notificationIds)),
    }),
    setPresenceVisible: t.boolean({
      description: 'false hides your presence: everyone else then sees you OFFLINE without lastActiveAt. Answers the new setting.',
      args: { visible: t.arg.boolean({ required: true, description: 'false to hide your presence, true to show it again.' }) },
      resolve: async (_, args, ctx) => ctx.domain.presence.setVisible((await ctx.session()).userId, args.visible),
    }),
    createVideo: t.field({
      type: Video,
      description: 'Creates a video of yours.',
      args: {
        title: t.arg.string({ required: true, description: 'Plain text; markup is removed.' }),
        thumbUrl: t.arg.string({ description: 'An absolute http(s) URL or a root-relative path.' }),
      },
      resolve: authed((userId, args, ctx) => ctx.domain.social.createVideo(userId, args)),
    }),
    likeVideo: t.field({
      type: Video,
      description: 'Likes a video; its owner is notified once, however often you like it again.',
      args: { videoId: t.arg.int({ required: true, description: 'The video to like.' }) },
      resolve: authed((userId, args, ctx) => ctx.domain.social.likeVideo(userId, args.videoId)),
    }),
    unlikeVideo: t.field({
      type: Video,
      description: 'Takes back your like of a video.',
      args: { videoId: t.arg.int({ required: true, description: 'The video to unlike.' }) },
      resolve: authed((userId, args, ctx) => ctx.domain.social.unlikeVideo(userId, args.videoId)),
    }),
    commentOnVideo: t.field({
      type: Comment,
      description: 'Comments (or replies, with parentId); `@username` mentions notify those users.',
      args: {
        videoId: t.arg.int({ required: true, description: 'The video to comment on.' }),
        content: t.arg.string({ required: true, description: 'The text; markup is removed.' }),
        parentId: t.arg.int({ description: 'The comment (on the same video) this replies to.' }),
      },
      resolve: authed((userId, args, ctx) => ctx.domain.social.commentOnVideo(userId, args)),
    }),
    followUser: t.field({
      type: User,
      description: 'Follows a user and answers them; they are notified once.',
      args: { userId: t.arg.int({ required: true, description: 'The user to follow.' }) },
      resolve: authed((userId, args, ctx) => ctx.domain.social.followUser(userId, args.userId)),
    }),
    unfollowUser: t.field({
      type: User,
      description: 'Stops following a user and answers them.',
      args: { userId: t.arg.int({ required: true, description: 'The user to unfollow.' }) },
      resolve: authed((userId, args, ctx) => ctx.domain.social.unfollowUser(userId, args.userId)),
    }),
  }),
});
