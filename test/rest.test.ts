// docs/protocol.md, "REST fallback": over real HTTP, on PostgreSQL when DATABASE_URL is set, else PGlite.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from './support/server.ts';
import { DATABASE_URL, announceSkip } from './support/env.ts';
import { connectGraphQLWs, gqlOk, mintToken, registerUser, type GraphQLSocket, type Operation, type TestUser } from './support/graphql.ts';
import * as op from './support/operations.ts';
import { ScratchDatabase } from './support/scratch-database.ts';

interface Reply {
  status: number;
  headers: Headers;
  body: any;
}

interface CallOptions {
  token?: string;
  /** Sent as JSON unless it is already a string or a stream. */
  body?: unknown;
  headers?: Record<string, string>;
}

async function call(base: string, method: string, path: string, options: CallOptions = {}): Promise<Reply> {
  const { token, body } = options;
  const raw = body === undefined || typeof body === 'string' || body instanceof ReadableStream;
  const res = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined && !raw ? { 'content-type': 'application/json' } : {}),
      ...options.headers,
    },
    body: raw ? (body as BodyInit | undefined) : JSON.stringify(body),
    ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
    signal: AbortSignal.timeout(15_000),
  } as RequestInit);
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

const ISO = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

function expectError(reply: Reply, status: number, code: string) {
  expect({ status: reply.status, body: reply.body }).toEqual({ status, body: { error: { code, message: expect.any(String), timestamp: ISO } } });
}

describe('REST /api/v1', () => {
  let server: TestServer;
  let url: string;
  const sockets: GraphQLSocket[] = [];
  const rest = (method: string, path: string, options?: CallOptions) => call(url, method, path, options);
  const subscribe = async <T, V>(user: TestUser, query: Operation<T, V>) => {
    const socket = await connectGraphQLWs(server.wsUrl, { token: user.token });
    sockets.push(socket);
    return socket.subscribe(query);
  };
  const send = async (from: TestUser, to: TestUser, content: string) => {
    const reply = await rest('POST', '/messages/', { token: from.token, body: { receiverId: to.id, content } });
    expect(reply.status).toBe(201);
    return reply.body;
  };

  beforeAll(async () => {
    server = await startServer();
    url = server.url;
  });
  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.close()));
    await server?.close();
  });

  describe('messages', () => {
    it('sends with 201 and delivers live to the receiver, not to the sender', async () => {
      const [alice, bob] = await Promise.all([registerUser(url), registerUser(url)]);
      const bobInbox = await subscribe(bob, op.SUB_MESSAGE_NEW);
      const aliceInbox = await subscribe(alice, op.SUB_MESSAGE_NEW);

      const sent = await send(alice, bob, '  Hello over <b>REST</b>  ');
      expect(sent).toEqual({
        id: expect.any(Number),
        senderId: alice.id,
        receiverId: bob.id,
        content: 'Hello over REST',
        createdAt: ISO,
        seen: false,
        seenAt: null,
      });
      expect((await bobInbox.next()).messageNew).toEqual(sent);
      // Sentinel: the next thing Alice receives is what Bob sent her afterwards, not her own message.
      const reply = await send(bob, alice, 'hi back');
      expect((await aliceInbox.next()).messageNew).toEqual(reply);
    });

    it('pages a conversation newest first until nextCursor is null', async () => {
      const [alice, bob, carol] = await Promise.all([registerUser(url), registerUser(url), registerUser(url)]);
      const sent = [];
      for (let i = 0; i < 5; i++) sent.push(i % 2 ? await send(bob, alice, `m${i}`) : await send(alice, bob, `m${i}`));

      const pages = [];
      let before: number | null | undefined;
      do {
        const reply = await rest('GET', `/messages/?with=${bob.id}&limit=2${before ? `&before=${before}` : ''}`, { token: alice.token });
        expect(reply.status).toBe(200);
        pages.push(reply.body);
        before = reply.body.nextCursor;
      } while (before);
      expect(pages.map((p) => p.messages.map((m: { content: string }) => m.content))).toEqual([['m4', 'm3'], ['m2', 'm1'], ['m0']]);
      expect(pages.map((p) => p.nextCursor)).toEqual([sent[3].id, sent[1].id, null]);
      expect(pages[0].messages[0]).toEqual(sent[4]);

      // Default limit (20) returns it all; a third party sees nothing of it.
      expect((await rest('GET', `/messages?with=${alice.id}`, { token: bob.token })).body).toEqual({ messages: [...sent].reverse(), nextCursor: null });
      expect((await rest('GET', `/messages?with=${bob.id}`, { token: carol.token })).body).toEqual({ messages: [], nextCursor: null });
    });

    it('answers the inbox with partner, last message and unread counts, paged', async () => {
      const [me, bob, carol, dave] = await Promise.all([registerUser(url, 'me'), registerUser(url, 'bob', '/a/bob.png'), registerUser(url), registerUser(url)]);
      await send(bob, me, 'b1');
      const b2 = await send(bob, me, 'b2');
      const c1 = await send(carol, me, 'c1');
      const d1 = await send(me, dave, 'to dave');

      const inbox = await rest('GET', '/messages/inbox', { token: me.token });
      expect(inbox.status).toBe(200);
      expect(inbox.body).toEqual({
        conversations: [
          { user: { id: dave.id, username: dave.username, avatarUrl: null }, lastMessage: d1, unreadCount: 0 },
          { user: { id: carol.id, username: carol.username, avatarUrl: null }, lastMessage: c1, unreadCount: 1 },
          { user: { id: bob.id, username: bob.username, avatarUrl: '/a/bob.png' }, lastMessage: b2, unreadCount: 2 },
        ],
        unreadCount: 3,
        nextCursor: null,
      });

      const partners: number[] = [];
      let before: number | null = null;
      for (let page = 0; page < 5; page++) {
        const reply: Reply = await rest('GET', `/messages/inbox/?limit=1${before ? `&before=${before}` : ''}`, { token: me.token });
        expect(reply.body.unreadCount).toBe(3);
        partners.push(...reply.body.conversations.map((c: { user: { id: number } }) => c.user.id));
        before = reply.body.nextCursor;
        if (before === null) break;
      }
      expect(partners).toEqual([dave.id, carol.id, bob.id]);
      expect(before).toBeNull();
    });

    it('marks seen, sends the receipt, and leaves other users’ ids out', async () => {
      const [alice, bob, carol] = await Promise.all([registerUser(url), registerUser(url), registerUser(url)]);
      const receipts = await subscribe(alice, op.SUB_MESSAGE_SEEN);
      const a1 = await send(alice, bob, 'one');
      const a2 = await send(alice, bob, 'two');
      const c1 = await send(carol, bob, 'from carol');

      const seen = await rest('POST', '/messages/seen', { token: bob.token, body: { conversationWith: alice.id, messageIds: [a1.id, c1.id] } });
      expect(seen.status).toBe(200);
      expect(seen.body).toEqual({ messageIds: [a1.id], seenBy: bob.id, seenAt: ISO });
      expect((await receipts.next()).messageSeen).toEqual(seen.body);

      // Alice cannot mark her own sent message; [] means none; no ids means all from that user.
      const mark = (user: TestUser, body: unknown) => rest('POST', '/messages/seen/', { token: user.token, body }).then((r) => r.body.messageIds);
      expect(await mark(alice, { conversationWith: bob.id, messageIds: [a2.id] })).toEqual([]);
      expect(await mark(bob, { conversationWith: alice.id, messageIds: [] })).toEqual([]);
      expect(await mark(bob, { conversationWith: alice.id, messageIds: null })).toEqual([a2.id]);
      expect((await rest('GET', '/messages/inbox', { token: bob.token })).body.unreadCount).toBe(1);
      expect(await mark(bob, { conversationWith: carol.id })).toEqual([c1.id]);
      const conversation = await rest('GET', `/messages?with=${alice.id}`, { token: bob.token });
      expect(conversation.body.messages.map((m: { seen: boolean; seenAt: string }) => [m.seen, m.seenAt])).toEqual([
        [true, ISO],
        [true, seen.body.seenAt],
      ]);
    });
  });

  describe('notifications', () => {
    it('lists with actor and target, pages to the end, filters unseen and marks seen (own ids only)', async () => {
      const [owner, fan, stranger] = await Promise.all([registerUser(url, 'owner'), registerUser(url, 'fan', '/a/fan.png'), registerUser(url)]);
      const video = (await gqlOk(url, op.CREATE_VIDEO, { t: 'Clip', th: '/thumbs/1.jpg' }, owner.token)).createVideo;
      await gqlOk(url, op.LIKE, { v: video.id }, fan.token);
      const comment = (await gqlOk(url, op.COMMENT, { v: video.id, c: 'nice' }, fan.token)).commentOnVideo;
      await gqlOk(url, op.FOLLOW, { u: owner.id }, fan.token);

      const all = await rest('GET', '/notifications/', { token: owner.token });
      expect(all.status).toBe(200);
      const actor = { id: fan.id, username: fan.username, avatarUrl: '/a/fan.png' };
      const videoTarget = { type: 'video', id: video.id, title: 'Clip', thumbUrl: '/thumbs/1.jpg' };
      const base = { id: expect.any(Number), userId: owner.id, createdAt: ISO, seen: false, actor };
      expect(all.body).toEqual({
        notifications: [
          { ...base, type: 'follow', refId: fan.id, target: { type: 'user', id: fan.id, title: fan.username, thumbUrl: '/a/fan.png' } },
          { ...base, type: 'comment', refId: comment.id, target: videoTarget },
          { ...base, type: 'like', refId: video.id, target: videoTarget },
        ],
        unseenCount: 3,
        nextCursor: null,
      });
      const [follow, commented, like] = all.body.notifications.map((n: { id: number }) => n.id);

      const first = await rest('GET', '/notifications?limit=2', { token: owner.token });
      expect(first.body.notifications.map((n: { id: number }) => n.id)).toEqual([follow, commented]);
      expect(first.body.nextCursor).toBe(commented);
      const second = await rest('GET', `/notifications?limit=2&before=${first.body.nextCursor}`, { token: owner.token });
      expect(second.body).toEqual({ notifications: [all.body.notifications[2]], unseenCount: 3, nextCursor: null });

      // A stranger learns nothing; the owner's answer leaves the stranger's ids out too.
      const foreign = await rest('POST', '/notifications/seen', { token: stranger.token, body: { notificationIds: [follow] } });
      expect(foreign.body).toEqual({ notificationIds: [], seenAt: ISO, unseenCount: 0 });
      const seen = await rest('POST', '/notifications/seen', { token: owner.token, body: { notificationIds: [follow, commented, 2_000_000_000] } });
      expect(seen.body).toEqual({ notificationIds: [commented, follow].sort((a, b) => a - b), seenAt: ISO, unseenCount: 1 });

      const unseen = await rest('GET', '/notifications?unseenOnly=true', { token: owner.token });
      expect(unseen.body).toEqual({ notifications: [all.body.notifications[2]], unseenCount: 1, nextCursor: null });
      expect(unseen.body.notifications[0].id).toBe(like);
      // No body at all means all of them.
      const remaining = await rest('POST', '/notifications/seen', { token: owner.token });
      expect(remaining.body).toEqual({ notificationIds: [like], seenAt: ISO, unseenCount: 0 });
    });
  });

  describe('errors', () => {
    let alice: TestUser;
    let bob: TestUser;
    beforeAll(async () => {
      [alice, bob] = await Promise.all([registerUser(url), registerUser(url)]);
    });

    const calls: [string, string, unknown?][] = [
      ['GET', '/messages/inbox'],
      ['GET', '/messages/?with=1'],
      ['POST', '/messages/', { receiverId: 1, content: 'x' }],
      ['POST', '/messages/seen', { conversationWith: 1 }],
      ['GET', '/notifications/'],
      ['POST', '/notifications/seen', {}],
    ];

    it('401 UNAUTHORIZED on every call without a valid token', async () => {
      const expired = await mintToken({ sub: String(alice.id) }, { expiresIn: Math.floor(Date.now() / 1000) - 10 });
      const foreign = await mintToken({ sub: String(alice.id) }, { secret: 'another-secret-another-secret-another-secret' });
      for (const [method, path, body] of calls) {
        for (const token of [undefined, 'not-a-jwt', expired, foreign]) {
          const reply = await rest(method, path, { token, body });
          expectError(reply, 401, 'UNAUTHORIZED');
          expect(reply.headers.get('www-authenticate')).toBe('Bearer');
        }
      }
      expectError(await rest('GET', '/messages/inbox', { headers: { authorization: `Basic ${alice.token}` } }), 401, 'UNAUTHORIZED');
    });

    it('400 INVALID_MESSAGE on bad JSON, bad fields and bad query parameters', async () => {
      const post = (path: string, body: unknown) => rest('POST', path, { token: alice.token, body, headers: { 'content-type': 'application/json' } });
      const get = (path: string) => rest('GET', path, { token: alice.token });
      // Other tests of this block send between the same two users: compare with what was there before.
      const storedBefore = (await get(`/messages?with=${bob.id}`)).body.messages;
      const bad: Promise<Reply>[] = [
        post('/messages', '{"receiverId": 1,'),
        post('/messages', []),
        post('/messages', null),
        post('/messages', { content: 'no receiver' }),
        post('/messages', { receiverId: String(bob.id), content: 'id as a string' }),
        post('/messages', { receiverId: 1.5, content: 'x' }),
        post('/messages', { receiverId: 2 ** 31, content: 'x' }),
        post('/messages', { receiverId: bob.id, content: 42 }),
        post('/messages', { receiverId: bob.id, content: '   ' }),
        post('/messages', { receiverId: bob.id, content: 'x'.repeat(5001) }),
        post('/messages', { receiverId: alice.id, content: 'to myself' }),
        post('/messages/seen', { messageIds: [1] }),
        post('/messages/seen', { conversationWith: bob.id, messageIds: 'all' }),
        post('/messages/seen', { conversationWith: bob.id, messageIds: [0] }),
        post('/notifications/seen', { notificationIds: [-1] }),
        post('/notifications/seen', { notificationIds: {} }),
      ];
      for (const query of ['limit=0', 'limit=101', 'limit=abc', 'limit=1.5', 'limit=1e1', 'limit=', 'before=-1', 'before=0', 'before=99999999999']) {
        bad.push(get(`/notifications?${query}`), get(`/messages/inbox?${query}`), get(`/messages?with=${bob.id}&${query}`));
      }
      bad.push(get('/messages'), get('/messages?with=abc'), get('/notifications?unseenOnly=maybe'));
      for (const reply of await Promise.all(bad)) expectError(reply, 400, 'INVALID_MESSAGE');

      // The message names the field; nothing was stored.
      expect((await post('/messages', { receiverId: 'x', content: 'x' })).body.error.message).toMatch(/receiverId/);
      expect((await get('/notifications?limit=500')).body.error.message).toMatch(/limit/);
      expect((await get(`/messages?with=${bob.id}`)).body.messages).toEqual(storedBefore);
      // Limits at the edges and extra parameters (cache busters) are fine.
      for (const query of ['limit=1', 'limit=100', 'unseenOnly=false', 'unseenOnly=1', '_=12345'])
        expect((await get(`/notifications?${query}`)).status).toBe(200);
    });

    it('404 NOT_FOUND for an unknown receiver and for unknown routes', async () => {
      expectError(await rest('POST', '/messages', { token: alice.token, body: { receiverId: 2_000_000_000, content: 'ghost' } }), 404, 'NOT_FOUND');
      for (const path of ['', '/', '/nope', '/messages/inbox/extra', '/messages//', '/notifications/seen/1']) {
        expectError(await rest('GET', path, { token: alice.token }), 404, 'NOT_FOUND');
      }
      // Unknown routes are 404 before any token check: the routes are public knowledge.
      expectError(await rest('GET', '/nope'), 404, 'NOT_FOUND');
    });

    it('answers CORS preflights and marks every answer as readable by any origin', async () => {
      const preflight = await fetch(`${url}/api/v1/messages/`, {
        method: 'OPTIONS',
        headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
        signal: AbortSignal.timeout(5000),
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-headers')).toContain('authorization');
      expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
      const unauthorized = await fetch(`${url}/api/v1/notifications/`, { headers: { origin: 'https://app.example' }, signal: AbortSignal.timeout(5000) });
      expect(unauthorized.status).toBe(401);
      expect(unauthorized.headers.get('access-control-allow-origin')).toBe('*');
    });

    it('405 for a wrong method on a known path, with Allow', async () => {
      const cases: [string, string, string][] = [
        ['DELETE', '/messages/', 'GET, HEAD, POST'],
        ['PUT', '/messages/inbox', 'GET, HEAD'],
        ['GET', '/messages/seen', 'POST'],
        ['POST', '/notifications', 'GET, HEAD'],
        ['PATCH', '/notifications/seen/', 'POST'],
      ];
      for (const [method, path, allow] of cases) {
        const reply = await rest(method, path, { token: alice.token, body: method === 'GET' ? undefined : {} });
        expectError(reply, 405, 'INVALID_MESSAGE');
        expect(reply.headers.get('allow')).toBe(allow);
      }
      // HEAD is GET without the body.
      expect(await rest('HEAD', '/messages/inbox', { token: alice.token })).toMatchObject({ status: 200, body: undefined });
    });

    it('413 for a body over 64 KiB, declared or streamed, storing nothing', async () => {
      const big = JSON.stringify({ receiverId: bob.id, content: 'x'.repeat(70 * 1024) });
      const storedBefore = (await rest('GET', `/messages?with=${bob.id}`, { token: alice.token })).body.messages;
      const declared = await rest('POST', '/messages', { token: alice.token, body: big, headers: { 'content-type': 'application/json' } });
      expectError(declared, 413, 'INVALID_MESSAGE');

      const chunk = new TextEncoder().encode('x'.repeat(8 * 1024));
      let sentChunks = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sentChunks++ < 10) controller.enqueue(chunk);
          else controller.close();
        },
      });
      const streamed = await rest('POST', '/messages', { token: alice.token, body: stream, headers: { 'content-type': 'application/json' } });
      expectError(streamed, 413, 'INVALID_MESSAGE');
      expect((await rest('GET', `/messages?with=${bob.id}`, { token: alice.token })).body.messages).toEqual(storedBefore);
    });

    it('415 for a POST whose body is not declared as JSON', async () => {
      const body = JSON.stringify({ receiverId: bob.id, content: 'hi' });
      const notJson: Record<string, string>[] = [{ 'content-type': 'text/plain' }, { 'content-type': 'application/x-www-form-urlencoded' }, {}];
      for (const headers of notJson) {
        expectError(await rest('POST', '/messages', { token: alice.token, body, headers }), 415, 'INVALID_MESSAGE');
      }
      // A charset parameter and +json types are JSON.
      const ok = await rest('POST', '/messages', { token: alice.token, body, headers: { 'content-type': 'application/json; charset=utf-8' } });
      expect(ok.status).toBe(201);
      expect(
        (await rest('POST', '/notifications/seen', { token: alice.token, body: '{}', headers: { 'content-type': 'application/merge-patch+json' } })).status,
      ).toBe(200);
    });
  });
});

describe('REST rate limit', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ env: { RATE_LIMIT_MESSAGES_PER_MIN: '2' } });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('429 RATE_LIMIT with Retry-After in whole seconds, shared with GraphQL', async () => {
    const [alice, bob] = await Promise.all([registerUser(server.url), registerUser(server.url)]);
    const body = { receiverId: bob.id, content: 'spam' };
    expect((await call(server.url, 'POST', '/messages', { token: alice.token, body })).status).toBe(201);
    await gqlOk(server.url, op.SEND, { to: bob.id, c: 'spam' }, alice.token);
    const limited = await call(server.url, 'POST', '/messages', { token: alice.token, body });
    expectError(limited, 429, 'RATE_LIMIT');
    expect(limited.headers.get('retry-after')).toMatch(/^[1-9][0-9]*$/);
    expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    // Bob has his own budget.
    expect((await call(server.url, 'POST', '/messages', { token: bob.token, body: { receiverId: alice.id, content: 'hi' } })).status).toBe(201);
  });
});

// A real internal error needs a real fault: a database of its own that stops taking connections mid-test, so no
// other suite is disturbed. PGlite runs in-process and cannot be cut off, hence PostgreSQL only.
if (!DATABASE_URL) announceSkip('REST 500 path (database cut off)', 'DATABASE_URL');
describe.runIf(DATABASE_URL)('REST with the database gone', () => {
  let database: ScratchDatabase;
  let server: TestServer;
  beforeAll(async () => {
    database = await ScratchDatabase.create(DATABASE_URL!, 'rt_rest');
    server = await startServer({ env: { DATABASE_URL: database.url } });
  });
  afterAll(async () => {
    await server?.close();
    await database?.drop();
  });

  it('500 INTERNAL_ERROR without stack or SQL', async () => {
    const alice = await registerUser(server.url);
    await database.cutOff();
    const reply = await call(server.url, 'GET', '/messages/inbox', { token: alice.token });
    expectError(reply, 500, 'INTERNAL_ERROR');
    expect(reply.body.error.message).toBe('Internal server error');
    await database.restore();
  });
});
