// Object types over the domain's views: the GraphQL layer never reads the database itself.
import { builder } from './builder.ts';
import type {
  MessageView,
  MessagesSeenView,
  NotificationTargetView,
  NotificationView,
  NotificationsSeenView,
  TypingView,
  UserView,
} from '../events/user-event.ts';
import type { CommentView, VideoView } from '../domain/views.ts';
import type { ConversationView } from '../domain/messages.ts';
import type { AuthPayload } from '../domain/accounts.ts';

const userFields = (name: 'User' | 'Actor', description: string) =>
  builder.objectRef<UserView>(name).implement({
    description,
    fields: (t) => ({
      id: t.exposeInt('id'),
      username: t.exposeString('username'),
      avatarUrl: t.exposeString('avatarUrl', { nullable: true }),
    }),
  });

export const User = userFields('User', 'A person using the app.');
export const Actor = userFields('Actor', 'The user whose action caused a notification.');

export const Video = builder.objectRef<VideoView>('Video').implement({
  fields: (t) => ({
    id: t.exposeInt('id'),
    title: t.exposeString('title'),
    thumbUrl: t.exposeString('thumbUrl', { nullable: true }),
    owner: t.field({ type: User, resolve: (v) => v.owner }),
  }),
});

export const Comment = builder.objectRef<CommentView>('Comment').implement({
  fields: (t) => ({
    id: t.exposeInt('id'),
    content: t.exposeString('content'),
    author: t.field({ type: User, resolve: (c) => c.author }),
    video: t.field({ type: Video, resolve: (c) => c.video }),
    parentId: t.exposeInt('parentId', { nullable: true }),
    createdAt: t.field({ type: 'DateTime', resolve: (c) => c.createdAt }),
  }),
});

export const Message = builder.objectRef<MessageView>('Message').implement({
  fields: (t) => ({
    id: t.exposeInt('id'),
    senderId: t.exposeInt('senderId'),
    receiverId: t.exposeInt('receiverId'),
    content: t.exposeString('content'),
    createdAt: t.field({ type: 'DateTime', resolve: (m) => m.createdAt }),
    seen: t.exposeBoolean('seen'),
    seenAt: t.field({ type: 'DateTime', nullable: true, resolve: (m) => m.seenAt }),
  }),
});

export const NotificationType = builder.enumType('NotificationType', {
  values: { LIKE: { value: 'like' }, COMMENT: { value: 'comment' }, FOLLOW: { value: 'follow' }, MENTION: { value: 'mention' }, REPLY: { value: 'reply' } } as const,
});

export const NotificationTarget = builder.objectRef<NotificationTargetView>('NotificationTarget').implement({
  description: 'What a notification is about: a video, or for follows the follower ("user").',
  fields: (t) => ({
    type: t.exposeString('type'),
    id: t.exposeInt('id'),
    title: t.exposeString('title', { nullable: true }),
    thumbUrl: t.exposeString('thumbUrl', { nullable: true }),
  }),
});

export const Notification = builder.objectRef<NotificationView>('Notification').implement({
  fields: (t) => ({
    id: t.exposeInt('id'),
    userId: t.exposeInt('userId'),
    type: t.field({ type: NotificationType, resolve: (n) => n.type }),
    refId: t.exposeInt('refId', { description: 'like: video id; comment, mention, reply: comment id; follow: actor id' }),
    createdAt: t.field({ type: 'DateTime', resolve: (n) => n.createdAt }),
    seen: t.exposeBoolean('seen'),
    actor: t.field({ type: Actor, resolve: (n) => n.actor }),
    target: t.field({ type: NotificationTarget, resolve: (n) => n.target }),
  }),
});

export const Conversation = builder.objectRef<ConversationView>('Conversation').implement({
  fields: (t) => ({
    with: t.field({ type: User, resolve: (c) => c.with }),
    lastMessage: t.field({ type: Message, resolve: (c) => c.lastMessage }),
    unreadCount: t.exposeInt('unreadCount'),
  }),
});

export const MessagesSeen = builder.objectRef<MessagesSeenView>('MessagesSeen').implement({
  fields: (t) => ({
    messageIds: t.exposeIntList('messageIds'),
    seenBy: t.exposeInt('seenBy'),
    seenAt: t.field({ type: 'DateTime', resolve: (s) => s.seenAt }),
  }),
});

export const NotificationsSeen = builder.objectRef<NotificationsSeenView>('NotificationsSeen').implement({
  fields: (t) => ({
    notificationIds: t.exposeIntList('notificationIds'),
    seenAt: t.field({ type: 'DateTime', resolve: (s) => s.seenAt }),
  }),
});

export const TypingEvent = builder.objectRef<TypingView>('TypingEvent').implement({
  fields: (t) => ({
    userId: t.exposeInt('userId', { description: 'Who is typing' }),
    conversationWith: t.exposeInt('conversationWith', { description: 'Whom they are typing to (you)' }),
    isTyping: t.exposeBoolean('isTyping'),
  }),
});

export const AuthPayloadType = builder.objectRef<AuthPayload>('AuthPayload').implement({
  fields: (t) => ({
    token: t.exposeString('token', { description: 'A JWT for `Authorization: Bearer`, graphql-ws connectionParams and the JSON socket' }),
    expiresAt: t.field({ type: 'DateTime', resolve: (p) => p.expiresAt }),
    user: t.field({ type: User, resolve: (p) => p.user }),
  }),
});
