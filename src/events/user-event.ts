// The one vocabulary: everything that can happen to a user is one of these, published on that user's stream.
// Payloads are plain JSON (timestamps as ISO strings) because they cross instances through Redis unchanged.

export type NotificationKind = 'like' | 'comment' | 'follow' | 'mention' | 'reply';

export interface MessageView {
  id: number;
  senderId: number;
  receiverId: number;
  content: string;
  createdAt: string;
  seen: boolean;
  seenAt: string | null;
}

export interface UserView {
  id: number;
  username: string;
  avatarUrl: string | null;
}

export interface NotificationTargetView {
  type: 'video' | 'user';
  id: number;
  title: string | null;
  thumbUrl: string | null;
}

export interface NotificationView {
  id: number;
  userId: number;
  type: NotificationKind;
  refId: number;
  createdAt: string;
  seen: boolean;
  actor: UserView;
  target: NotificationTargetView;
}

export interface MessagesSeenView {
  messageIds: number[];
  seenBy: number;
  seenAt: string;
}

export interface NotificationsSeenView {
  notificationIds: number[];
  seenAt: string;
}

export interface TypingView {
  userId: number;
  conversationWith: number;
  isTyping: boolean;
}

export type UserEvent =
  | { kind: 'messageNew'; message: MessageView }
  | { kind: 'messageSeen'; receipt: MessagesSeenView }
  | { kind: 'typing'; typing: TypingView }
  | { kind: 'unreadMessageCount'; count: number }
  | { kind: 'notificationNew'; notification: NotificationView }
  | { kind: 'notificationSeen'; seen: NotificationsSeenView }
  | { kind: 'unseenCount'; count: number };

export type UserEventKind = UserEvent['kind'];
export type UserEventOf<K extends UserEventKind> = Extract<UserEvent, { kind: K }>;

/**
 * One change on a user's stream: the events it caused, in order, at one position. Positions are gap-free and in
 * commit order per user (docs/decisions.md, "Resumable streams"); typing is ephemeral and has none.
 */
export interface StreamEntry {
  position?: number;
  events: UserEvent[];
}
