// Server -> client frames of the legacy JSON socket (docs/protocol.md). A UserEvent becomes its frame in one
// pure function, so the wire format of every event kind is written down in exactly one place.
import type { ErrorCode } from '../../domain/errors.ts';
import type { MessageView, MessagesSeenView, NotificationView, NotificationsSeenView, PresenceView, TypingView, UserEvent } from '../../events/user-event.ts';
import type { StreamItem } from '../../domain/streams.ts';

export type EventFrame =
  | { type: 'message:new'; data: MessageView }
  | { type: 'message:seen'; data: MessagesSeenView }
  | { type: 'message:typing'; data: TypingView }
  | { type: 'message:unread_count'; data: { count: number } }
  | { type: 'notification:new'; data: NotificationView }
  | { type: 'notification:seen'; data: NotificationsSeenView }
  | { type: 'notification:unseen_count'; data: { count: number } }
  | { type: 'presence:update'; data: PresenceView };

// Typed as a record so that a frame type missing here fails the build.
const eventFrameTypes: Record<EventFrame['type'], true> = {
  'message:new': true,
  'message:seen': true,
  'message:typing': true,
  'message:unread_count': true,
  'notification:new': true,
  'notification:seen': true,
  'notification:unseen_count': true,
  'presence:update': true,
};
/** Every `type` of an event frame (the `type` label of rt_events_delivered_total). */
export const EVENT_FRAME_TYPES = Object.keys(eventFrameTypes) as EventFrame['type'][];

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
    case 'presence':
      return { type: 'presence:update', data: event.presence };
    default: {
      // A new event kind fails the build here until the legacy protocol says how it looks.
      const unhandled: never = event;
      throw new Error(`No JSON frame for event ${JSON.stringify(unhandled)}`);
    }
  }
}

/** A stream item ready for the wire: `cursor` beside `type` and `data` for events that have a position. */
export interface EncodedEvent {
  type: EventFrame['type'];
  json: string;
}

// The devices of one user share the stream's event objects: each is serialised once for all of them.
const encoded = new WeakMap<UserEvent, EncodedEvent>();

export function encode({ cursor, event }: StreamItem): EncodedEvent {
  let result = encoded.get(event);
  if (!result) {
    const frame = toFrame(event);
    result = { type: frame.type, json: JSON.stringify(cursor ? { ...frame, cursor } : frame) };
    encoded.set(event, result);
  }
  return result;
}

// The control frames: the connection's own business rather than events of the user's stream.
export const connectedFrame = (userId: number, resumed: boolean, cursor: string) =>
  ({ type: 'connected', userId, message: 'Connected successfully', resumed, cursor }) as const;

export const pingFrame = () => ({ type: 'ping', timestamp: new Date().toISOString() }) as const;

export const pongFrame = () => ({ type: 'pong', timestamp: new Date().toISOString() }) as const;

export const refreshedFrame = (expSeconds: number) => ({ type: 'auth:refreshed', data: { expiresAt: new Date(expSeconds * 1000).toISOString() } }) as const;

export const errorFrame = (code: ErrorCode, message: string, retryAfterMs?: number) =>
  ({ type: 'error', error: { code, message, timestamp: new Date().toISOString(), ...(retryAfterMs ? { retryAfterMs } : {}) } }) as const;
