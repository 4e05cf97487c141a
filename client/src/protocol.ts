// The wire types of docs/protocol.md (JSON socket and REST fallback) and of the resumable-streams additions
// (`cursor` on stream frames, `resumed` on `connected`, GET /api/v1/events, `clientMessageId`).

export interface User {
  id: number;
  username: string;
  avatarUrl: string | null;
}

export interface Message {
  id: number;
  senderId: number;
  receiverId: number;
  content: string;
  createdAt: string;
  seen: boolean;
  seenAt: string | null;
}

export type NotificationType = 'like' | 'comment' | 'reply' | 'mention' | 'follow';

export interface Notification {
  id: number;
  userId: number;
  type: NotificationType;
  refId: number;
  createdAt: string;
  seen: boolean;
  actor: User;
  target: { type: 'video' | 'user'; id: number; title: string; thumbUrl: string | null };
}

export interface MessagesSeen {
  messageIds: number[];
  seenBy: number;
  seenAt: string;
}

export interface NotificationsSeen {
  notificationIds: number[];
  seenAt: string;
}

export interface Typing {
  userId: number;
  conversationWith: number;
  isTyping: boolean;
}

/** What the app can subscribe to with `client.on(type, …)`: the server's event frames, by their `type`. */
export interface StreamEvents {
  'message:new': Message;
  'message:seen': MessagesSeen;
  'message:typing': Typing;
  'message:unread_count': { count: number };
  'notification:new': Notification;
  'notification:seen': NotificationsSeen;
  'notification:unseen_count': { count: number };
}

export type StreamEventType = keyof StreamEvents;

export type EventFrame = { [K in StreamEventType]: { type: K; data: StreamEvents[K]; cursor?: string } }[StreamEventType];

export type ServerFrame =
  | EventFrame
  | { type: 'connected'; userId: number; message?: string; resumed?: boolean; cursor?: string }
  | { type: 'ping'; timestamp?: string }
  | { type: 'pong'; timestamp?: string }
  | { type: 'auth:refreshed'; data: { expiresAt: string } }
  | { type: 'error'; error: { code: string; message: string; retryAfterMs?: number } };

export type ClientFrame =
  | { type: 'pong'; timestamp?: string }
  | { type: 'auth:refresh'; data: { token: string } }
  | { type: 'message:typing'; data: { conversationWith: number; isTyping: boolean } };

/** GET /api/v1/events (long polling over the same frames as the socket). */
export interface EventsPage {
  resumed: boolean;
  events: EventFrame[];
  nextCursor: string;
}

export interface Inbox {
  conversations: { user: User; lastMessage: Message; unreadCount: number }[];
  unreadCount: number;
  nextCursor: number | null;
}

export interface MessagePage {
  messages: Message[];
  nextCursor: number | null;
}

export interface NotificationPage {
  notifications: Notification[];
  unseenCount: number;
  nextCursor: number | null;
}

export const STREAM_EVENT_TYPES: readonly StreamEventType[] = [
  'message:new',
  'message:seen',
  'message:typing',
  'message:unread_count',
  'notification:new',
  'notification:seen',
  'notification:unseen_count',
];

/** Close codes the client acts on (docs/protocol.md#close-codes). */
export const Close = {
  normal: 1000,
  restart: 1012,
  idle: 4000,
  unauthorized: 4401,
  tooManyConnections: 4429,
} as const;
