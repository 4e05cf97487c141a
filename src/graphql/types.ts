// Object types over the domain's views: the GraphQL layer never reads the database itself.
import { builder } from './builder.ts';
import type {
  MessageView,
  MessagesSeenView,
  NotificationTargetView,
  NotificationView,
  NotificationsSeenView,
  PresenceView,
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
      id: t.exposeInt('id', { description: 'The user id.' }),
      username: t.exposeString('username', { description: 'Unique, as registered.' }),
      avatarUrl: t.exposeString('avatarUrl', { nullable: true, description: 'An http(s) URL or a root-relative path; null when none was given.' }),
    }),
  });

export const User = userFields('User', 'A person using the app.');
export const Actor = userFields('Actor', 'The user whose action caused a notification.');

export const PresenceStatus = builder.enumType('PresenceStatus', {
  description: 'Whether a user is online, as you may see it.',
  values: {
    ONLINE: { value: 'online', description: 'At least one socket or event stream of the user is open.' },
    OFFLINE: { value: 'offline', description: 'Also users who hide their presence (then without lastActiveAt).' },
    UNKNOWN: { value: 'unknown', description: 'A user you neither follow nor have a conversation with (or no such user).' },
  } as const,
});

export const Presence = builder.objectRef<PresenceView>('Presence').implement({
  description: 'Whether a user is online now, or when they were last active.',
  fields: (t) => ({
    userId: t.exposeInt('userId', { description: 'The user asked about.' }),
    status: t.field({ type: PresenceStatus, description: 'Online, offline, or unknown to you.', resolve: (p) => p.status }),
    online: t.exposeBoolean('online', { description: 'True while the user has a socket or event stream open on any instance.' }),
    lastActiveAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When an offline user last closed their last connection; null while online, hidden or unknown.',
      resolve: (p) => p.lastActiveAt,
    }),
  }),
});

builder.objectField(User, 'presence', (t) =>
  t.field({
    type: Presence,
    nullable: true,
    description: 'The presence of this user as you may see it (UNKNOWN unless you follow them or have a conversation).',
    resolve: (user, _, ctx) => ctx.presence.load(user.id),
  }),
);

export const Video = builder.objectRef<VideoView>('Video').implement({
  description: 'A video that users like and comment on.',
  fields: (t) => ({
    id: t.exposeInt('id', { description: 'The video id.' }),
    title: t.exposeString('title', { description: 'Plain text.' }),
    thumbUrl: t.exposeString('thumbUrl', { nullable: true, description: 'The thumbnail: an http(s) URL or a root-relative path.' }),
    owner: t.field({ type: User, description: 'Who created it; likes and comments notify them.', resolve: (v) => v.owner }),
  }),
});

export const Comment = builder.objectRef<CommentView>('Comment').implement({
  description: 'A comment on a video, or a reply to one.',
  fields: (t) => ({
    id: t.exposeInt('id', { description: 'The comment id.' }),
    content: t.exposeString('content', { description: 'Plain text: markup is removed when it is stored.' }),
    author: t.field({ type: User, description: 'Who wrote it.', resolve: (c) => c.author }),
    video: t.field({ type: Video, description: 'The video commented on.', resolve: (c) => c.video }),
    parentId: t.exposeInt('parentId', { nullable: true, description: 'The comment this replies to; null for a top-level comment.' }),
    createdAt: t.field({ type: 'DateTime', description: 'When it was stored.', resolve: (c) => c.createdAt }),
  }),
});

export const Message = builder.objectRef<MessageView>('Message').implement({
  description: 'A direct message between two users.',
  fields: (t) => ({
    id: t.exposeInt('id', { description: 'The message id; ids grow with time.' }),
    senderId: t.exposeInt('senderId', { description: 'Who sent it.' }),
    receiverId: t.exposeInt('receiverId', { description: 'Whom it was sent to.' }),
    content: t.exposeString('content', { description: 'Plain text as written (markup removed); escape it on display.' }),
    createdAt: t.field({ type: 'DateTime', description: 'When it was stored.', resolve: (m) => m.createdAt }),
    seen: t.exposeBoolean('seen', { description: 'Whether the receiver marked it seen.' }),
    seenAt: t.field({ type: 'DateTime', nullable: true, description: 'When the receiver marked it seen; null until then.', resolve: (m) => m.seenAt }),
  }),
});

export const NotificationType = builder.enumType('NotificationType', {
  description: "What happened. One action notifies each person once: a comment that mentions the video's owner is their MENTION, not also a COMMENT.",
  values: {
    LIKE: { value: 'like', description: 'Someone liked your video (refId: the video).' },
    COMMENT: { value: 'comment', description: 'Someone commented on your video (refId: the comment).' },
    FOLLOW: { value: 'follow', description: 'Someone followed you (refId: the follower).' },
    MENTION: { value: 'mention', description: 'Someone mentioned you as @username in a comment (refId: the comment).' },
    REPLY: { value: 'reply', description: 'Someone replied to your comment (refId: the reply).' },
  } as const,
});

export const NotificationTarget = builder.objectRef<NotificationTargetView>('NotificationTarget').implement({
  description: 'What a notification is about: a video, or for follows the follower ("user").',
  fields: (t) => ({
    type: t.exposeString('type', { description: '"video" or "user".' }),
    id: t.exposeInt('id', { description: "The video id, or the follower's user id." }),
    title: t.exposeString('title', { nullable: true, description: "The video title, or the follower's username." }),
    thumbUrl: t.exposeString('thumbUrl', { nullable: true, description: "The video thumbnail, or the follower's avatar." }),
  }),
});

export const Notification = builder.objectRef<NotificationView>('Notification').implement({
  description: 'Something another user did that concerns you.',
  fields: (t) => ({
    id: t.exposeInt('id', { description: 'The notification id.' }),
    userId: t.exposeInt('userId', { description: 'Whom it is for (you).' }),
    type: t.field({ type: NotificationType, description: 'What happened.', resolve: (n) => n.type }),
    refId: t.exposeInt('refId', { description: 'like: video id; comment, mention, reply: comment id; follow: actor id' }),
    createdAt: t.field({ type: 'DateTime', description: 'When it happened.', resolve: (n) => n.createdAt }),
    seen: t.exposeBoolean('seen', { description: 'Whether you marked it seen.' }),
    actor: t.field({ type: Actor, description: 'Who did it.', resolve: (n) => n.actor }),
    target: t.field({ type: NotificationTarget, description: 'What it is about.', resolve: (n) => n.target }),
  }),
});

export const Conversation = builder.objectRef<ConversationView>('Conversation').implement({
  description: 'Your messages with one other user, as the inbox shows them.',
  fields: (t) => ({
    with: t.field({ type: User, description: 'The other user.', resolve: (c) => c.with }),
    lastMessage: t.field({ type: Message, description: 'The newest message, sent or received.', resolve: (c) => c.lastMessage }),
    unreadCount: t.exposeInt('unreadCount', { description: 'Messages from them not yet marked seen.' }),
  }),
});

export const MessagesSeen = builder.objectRef<MessagesSeenView>('MessagesSeen').implement({
  description: 'A read receipt: messages that their receiver marked seen.',
  fields: (t) => ({
    messageIds: t.exposeIntList('messageIds', { description: 'The messages this mark changed (already seen ones are left out).' }),
    seenBy: t.exposeInt('seenBy', { description: 'The receiver who read them.' }),
    seenAt: t.field({ type: 'DateTime', description: 'When they were marked seen.', resolve: (s) => s.seenAt }),
  }),
});

export const NotificationsSeen = builder.objectRef<NotificationsSeenView>('NotificationsSeen').implement({
  description: 'Notifications marked seen.',
  fields: (t) => ({
    notificationIds: t.exposeIntList('notificationIds', { description: "The notifications this mark changed (already seen and others' ones are left out)." }),
    seenAt: t.field({ type: 'DateTime', description: 'When they were marked seen.', resolve: (s) => s.seenAt }),
  }),
});

export const TypingEvent = builder.objectRef<TypingView>('TypingEvent').implement({
  description: 'Someone started or stopped typing to you.',
  fields: (t) => ({
    userId: t.exposeInt('userId', { description: 'Who is typing' }),
    conversationWith: t.exposeInt('conversationWith', { description: 'Whom they are typing to (you)' }),
    isTyping: t.exposeBoolean('isTyping', { description: 'False when they stopped, or after the typing timeout.' }),
  }),
});

export const AuthPayloadType = builder.objectRef<AuthPayload>('AuthPayload').implement({
  description: 'A session: the token and whose it is.',
  fields: (t) => ({
    token: t.exposeString('token', { description: 'A JWT for `Authorization: Bearer`, graphql-ws connectionParams and the JSON socket' }),
    expiresAt: t.field({ type: 'DateTime', description: 'When the token expires: log in again before.', resolve: (p) => p.expiresAt }),
    user: t.field({ type: User, description: 'The user of the token.', resolve: (p) => p.user }),
  }),
});

// The stream of userEvents: one object type per event kind, in a union, each item with its cursor.
const countEvent = (name: string, description: string) =>
  builder
    .objectRef<{ kind: string; count: number }>(name)
    .implement({ description, fields: (t) => ({ count: t.exposeInt('count', { description: 'The count after this change.' }) }) });

const MessageNewEvent = builder.objectRef<UserEventOf<'messageNew'>>('MessageNew').implement({
  description: 'A message to you.',
  fields: (t) => ({ message: t.field({ type: Message, description: 'The message.', resolve: (e) => e.message }) }),
});
const MessageSeenEvent = builder.objectRef<UserEventOf<'messageSeen'>>('MessageSeen').implement({
  description: 'Messages of yours that their receiver has read.',
  fields: (t) => ({ receipt: t.field({ type: MessagesSeen, description: 'The read receipt.', resolve: (e) => e.receipt }) }),
});
const NotificationNewEvent = builder.objectRef<UserEventOf<'notificationNew'>>('NotificationNew').implement({
  description: 'A notification for you.',
  fields: (t) => ({ notification: t.field({ type: Notification, description: 'The notification.', resolve: (e) => e.notification }) }),
});
const NotificationSeenEvent = builder.objectRef<UserEventOf<'notificationSeen'>>('NotificationSeen').implement({
  description: 'Notifications marked seen on one of your devices.',
  fields: (t) => ({ seen: t.field({ type: NotificationsSeen, description: 'What was marked seen.', resolve: (e) => e.seen }) }),
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

const UserEventUnion = builder.unionType('UserEvent', {
  description: 'One event of your stream.',
  types: Object.values(byKind),
  resolveType: (event) => byKind[(event as { kind: keyof typeof byKind }).kind],
});

export const UserEventItem = builder.objectRef<SubscriptionItem>('UserEventItem').implement({
  description: 'An event of your stream and its cursor: pass the cursor of the last item you processed as `after` to resume.',
  fields: (t) => ({
    cursor: t.string({ description: 'Opaque: where this item lies in your stream.', resolve: (item) => item.cursor! }),
    event: t.field({ type: UserEventUnion, description: 'What happened.', resolve: (item) => item.event as never }),
  }),
});
