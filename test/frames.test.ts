// The legacy JSON socket's wire format without a server: UserEvent -> frame for every event kind, and the examples
// of docs/asyncapi.yaml against its own schemas and against the server's client-frame parser.
import { describe, expect, it } from 'vitest';
import type { UserEvent, UserEventKind, UserEventOf } from '../src/events/user-event.ts';
import { encode, toFrame } from '../src/transports/json-socket/frames.ts';
import { parseClientFrame } from '../src/transports/json-socket/client-frames.ts';
import { checkSchema, loadAsyncApi } from './support/json-schema.ts';

const at = '2024-01-15T10:30:00.000Z';
const message = { id: 456, senderId: 123, receiverId: 789, content: 'Hello from WebSocket!', createdAt: at, seen: false, seenAt: null };
const notification = {
  id: 789,
  userId: 123,
  type: 'like' as const,
  refId: 456,
  createdAt: at,
  seen: false,
  actor: { id: 999, username: 'john_doe', avatarUrl: '/avatars/999.jpg' },
  target: { type: 'video' as const, id: 456, title: 'My awesome video', thumbUrl: '/thumbs/456.jpg' },
};

// Keyed by kind, so a new event kind fails to compile here until it has a row.
const table: { [K in UserEventKind]: [UserEventOf<K>, unknown] } = {
  messageNew: [
    { kind: 'messageNew', message },
    { type: 'message:new', data: message },
  ],
  messageSeen: [
    { kind: 'messageSeen', receipt: { messageIds: [456, 457], seenBy: 789, seenAt: at } },
    { type: 'message:seen', data: { messageIds: [456, 457], seenBy: 789, seenAt: at } },
  ],
  typing: [
    { kind: 'typing', typing: { userId: 123, conversationWith: 789, isTyping: true } },
    { type: 'message:typing', data: { userId: 123, conversationWith: 789, isTyping: true } },
  ],
  unreadMessageCount: [
    { kind: 'unreadMessageCount', count: 3 },
    { type: 'message:unread_count', data: { count: 3 } },
  ],
  notificationNew: [
    { kind: 'notificationNew', notification },
    { type: 'notification:new', data: notification },
  ],
  notificationSeen: [
    { kind: 'notificationSeen', seen: { notificationIds: [789, 790], seenAt: at } },
    { type: 'notification:seen', data: { notificationIds: [789, 790], seenAt: at } },
  ],
  unseenCount: [
    { kind: 'unseenCount', count: 5 },
    { type: 'notification:unseen_count', data: { count: 5 } },
  ],
  presence: [
    { kind: 'presence', presence: { userId: 123, status: 'offline', online: false, lastActiveAt: at } },
    { type: 'presence:update', data: { userId: 123, status: 'offline', online: false, lastActiveAt: at } },
  ],
};
/** Ephemeral events: their frames carry no cursor. */
const EPHEMERAL = new Set<UserEventKind>(['typing', 'presence']);

describe('toFrame', () => {
  it.each(Object.entries(table))('translates %s', (_, [event, frame]) => {
    expect(toFrame(event as UserEvent)).toEqual(frame);
    const encoded = encode({ event: { ...(event as UserEvent) }, cursor: 'MTox' });
    expect(JSON.parse(encoded.json)).toEqual({ ...(frame as object), cursor: 'MTox' });
    expect(encoded.type).toBe((frame as { type: string }).type);
  });

  it('produces frames that match their schema in docs/asyncapi.yaml', async () => {
    const spec = await loadAsyncApi();
    const schemas = spec.schemasOf('server');
    for (const [event] of Object.values(table)) {
      const frame = JSON.parse(encode({ event: { ...(event as UserEvent) }, cursor: EPHEMERAL.has(event.kind) ? undefined : 'MTox' }).json);
      expect(checkSchema(schemas.get(frame.type)!, frame, spec.resolve)).toEqual([]);
    }
  });
});

describe('docs/asyncapi.yaml', () => {
  it('has examples that match their own schemas; the client ones are accepted by the server as they are', async () => {
    const spec = await loadAsyncApi();
    for (const side of ['server', 'client'] as const) {
      for (const { type, schema, examples } of spec.framesOf(side)) {
        expect(examples.length, `examples of ${type}`).toBeGreaterThan(0);
        for (const example of examples) {
          expect(example.type).toBe(type);
          expect(checkSchema(schema, example, spec.resolve), JSON.stringify(example)).toEqual([]);
          if (side === 'client') expect(parseClientFrame(JSON.stringify(example))).toEqual(example);
        }
      }
    }
  });

  it('describes exactly the client frames the server parses', async () => {
    const spec = await loadAsyncApi();
    const documented = spec.framesOf('client').map((f) => f.type);
    expect(documented.sort()).toEqual([
      'auth:refresh',
      'message:mark_seen',
      'message:typing',
      'notification:mark_seen',
      'ping',
      'pong',
      'presence:subscribe',
      'presence:unsubscribe',
    ]);
    for (const type of documented) expect(() => parseClientFrame(JSON.stringify({ type }))).not.toThrow(/Unknown frame type/);
    expect(() => parseClientFrame(JSON.stringify({ type: 'message:send' }))).toThrow(/Unknown frame type/);
  });
});
