// Server -> client frames of the legacy JSON socket (contract section 4). A UserEvent becomes its frame in one
// pure function, so the wire format of every event kind is written down in exactly one place.
import type { ErrorCode } from '../../domain/errors.ts';
import type {
  MessageView,
  MessagesSeenView,
  NotificationView,
  NotificationsSeenView,
  TypingView,
  UserEvent,
} from '../../events/user-event.ts';

export type EventFrame =
  | { type: 'message:new'; data: MessageView }
  | { type: 'message:seen'; data: MessagesSeenView }
  | { type: 'message:typing'; data: TypingView }
  | { type: 'message:unread_count'; data: { count: number } }
  | { type: 'notification:new'; data: NotificationView }
  | { type: 'notification:seen'; data: NotificationsSeenView }
  | { type: 'notification:unseen_count'; data: { count: number } };

export function toFrame(event: UserEvent): EventFrame {
  switch (event.kind) {
    case 'messageNew':
      return { type: 'message:new', data: event.message };
    case 'messageSeen':
      return { type: 'message:seen', data: event.receipt };
    case 'typing':
      return { type: 'message:typing', data: event.typing };
    case 'unreadMessageCount':
      return { type: 'message:unread_count', data: { count: event.count } };
    case 'notificationNew':
      return { type: 'notification:new', data: event.notification };
    case 'notificationSeen':
      return { type: 'notification:seen', data: event.seen };
    case 'unseenCount':
      return { type: 'notification:unseen_count', data: { count: event.count } };
    default: {
      // A new event kind fails the build here until the legacy protocol says how it looks.
      const unhandled: never = event;
      throw new Error(`No JSON frame for event ${JSON.stringify(unhandled)}`);
    }
  }
}

/** An event ready for the wire: serialised once, then written to every connection of its user as is. */
export interface EncodedEvent {
  event: UserEvent;
  type: EventFrame['type'];
  json: string;
}

export function encode(event: UserEvent): EncodedEvent {
  const frame = toFrame(event);
  return { event, type: frame.type, json: JSON.stringify(frame) };
}

// The control frames: the connection's own business rather than events of the user's stream.
export const connectedFrame = (userId: number) => ({ type: 'connected', userId, message: 'Connected successfully' }) as const;

export const pingFrame = () => ({ type: 'ping', timestamp: new Date().toISOString() }) as const;

export const refreshedFrame = (expSeconds: number) => ({ type: 'auth:refreshed', data: { expiresAt: new Date(expSeconds * 1000).toISOString() } }) as const;

export const errorFrame = (code: ErrorCode, message: string, retryAfterMs?: number) =>
  ({ type: 'error', error: { code, message, timestamp: new Date().toISOString(), ...(retryAfterMs ? { retryAfterMs } : {}) } }) as const;
