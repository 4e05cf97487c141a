// Object types over the domain's views: the GraphQL layer never reads the database itself.
import { builder } from './builder.ts';
import type {
  MessageView,
  MessagesSeenView,
  NotificationTargetView,
  NotificationView,
  NotificationsSeenView,
  TypingView,
  UserEventOf,
  UserView,
} from '../events/user-event.ts';
import type { SubscriptionItem } from './stream.ts';
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

// The stream of userEvents: one object type per event kind, in a union, each item with its cursor.
const countEvent = (name: string, description: string) =>
  builder.objectRef<{ kind: string; count: number }>(name).implement({ description, fields: (t) => ({ count: t.exposeInt('count') }) });

const MessageNewEvent = builder.objectRef<UserEventOf<'messageNew'>>('MessageNew').implement({
  description: 'A message to you.',
  fields: (t) => ({ message: t.field({ type: Message, resolve: (e) => e.message }) }),
});
const MessageSeenEvent = builder.objectRef<UserEventOf<'messageSeen'>>('MessageSeen').implement({
  description: 'Messages of yours that their receiver has read.',
  fields: (t) => ({ receipt: t.field({ type: MessagesSeen, resolve: (e) => e.receipt }) }),
});
const NotificationNewEvent = builder.objectRef<UserEventOf<'notificationNew'>>('NotificationNew').implement({
  description: 'A notification for you.',
  fields: (t) => ({ notification: t.field({ type: Notification, resolve: (e) => e.notification }) }),
});
const NotificationSeenEvent = builder.objectRef<UserEventOf<'notificationSeen'>>('NotificationSeen').implement({
  description: 'Notifications marked seen on one of your devices.',
  fields: (t) => ({ seen: t.field({ type: NotificationsSeen, resolve: (e) => e.seen }) }),
});
const UnreadMessageCountEvent = countEvent('UnreadMessageCount', 'Your unread message count after the change at this cursor.');
const UnseenCountEvent = countEvent('UnseenCount', 'Your unseen notification count after the change at this cursor.');
const ResyncEvent = builder.objectRef<{ kind: 'resync' }>('Resync').implement({
  description: 'The cursor given could not be resumed (too old, malformed or not yours): refetch your lists; the stream goes on from here.',
  fields: (t) => ({ refetch: t.boolean({ description: 'Always true.', resolve: () => true }) }),
});

const byKind = {
  messageNew: MessageNewEvent,
  messageSeen: MessageSeenEvent,
  notificationNew: NotificationNewEvent,
  notificationSeen: NotificationSeenEvent,
  unreadMessageCount: UnreadMessageCountEvent,
  unseenCount: UnseenCountEvent,
  resync: ResyncEvent,
} as const;

export const UserEventUnion = builder.unionType('UserEvent', {
  description: 'One event of your stream.',
  types: Object.values(byKind),
  resolveType: (event) => byKind[(event as { kind: keyof typeof byKind }).kind],
});

export const UserEventItem = builder.objectRef<SubscriptionItem>('UserEventItem').implement({
  description: 'An event of your stream and its cursor: pass the cursor of the last item you processed as `after` to resume.',
  fields: (t) => ({
    cursor: t.string({ resolve: (item) => item.cursor! }),
    event: t.field({ type: UserEventUnion, resolve: (item) => item.event as never }),
  }),
});
