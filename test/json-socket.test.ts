// docs/protocol.md: the legacy JSON WebSocket at /api/v1/ws over real sockets, following the requirements'
// Testing Checklist, on PostgreSQL when DATABASE_URL is set, else PGlite. Messages are sent through GraphQL.
// One server for the file (PGlite starts slowly); the restart test replaces it, on the same data.
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, tempDir, type TestServer } from './support/server.ts';
import { scrape } from './support/metrics.ts';
import { gql, gqlOk, mintToken, registerUser, withTimeout, type TestUser } from './support/graphql.ts';
import { connectJsonSocket, openJsonSocket, receivedFrames, type ConnectOptions, type JsonSocket } from './support/json-socket.ts';
import { checkSchema, loadAsyncApi } from './support/json-schema.ts';
import * as op from './support/operations.ts';

const ENV = {
  WS_PING_INTERVAL_MS: '200',
  // Generous next to the interval: client and server share one event loop with the database in the tests.
  WS_PONG_TIMEOUT_MS: '1000',
  WS_IDLE_TIMEOUT_MS: '0',
  WS_MAX_BUFFERED_BYTES: '65536',
  WS_ALLOWED_ORIGINS: 'https://app.example',
  TYPING_TIMEOUT_MS: '300',
  RATE_LIMIT_TYPING_PER_MIN: '5',
};
const IDLE_MS = 800;
const ISO = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
const nowSeconds = () => Math.floor(Date.now() / 1000);
type Tuple<N extends number, T, R extends T[] = []> = R['length'] extends N ? R : Tuple<N, T, [T, ...R]>;

describe('JSON socket /api/v1/ws', () => {
  let dataDir: string;
  let server: TestServer;
  const sockets: JsonSocket[] = [];

  const connect = async (user: TestUser, options?: ConnectOptions) => {
    const socket = await connectJsonSocket(server.wsUrl, user, options);
    sockets.push(socket);
    return socket;
  };
  const open = async (token: string | undefined, options?: ConnectOptions) => {
    const socket = await openJsonSocket(server.wsUrl, token, options);
    sockets.push(socket);
    return socket;
  };
  const users = <N extends number>(n: N) => Promise.all(Array.from({ length: n }, () => registerUser(server.url))) as Promise<Tuple<N, TestUser>>;
  const send = async (from: TestUser, to: TestUser, content: string) => (await gqlOk(server.url, op.SEND, { to: to.id, c: content }, from.token)).sendMessage;
  /** The next frames of a socket that received a message: message:new, then the new unread count. */
  const expectMessage = async (socket: JsonSocket, message: { id: number }, unread: number) => {
    expect((await socket.next('message:new')).data).toEqual(message);
    expect(await socket.next('message:unread_count')).toEqual({ type: 'message:unread_count', data: { count: unread } });
  };
  const metric = async (name: string, labels: Record<string, string>) => (await scrape(server.url))(name, labels);

  beforeAll(async () => {
    dataDir = await tempDir();
    server = await startServer({ dataDir, env: ENV });
  });
  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.close().catch(() => undefined)));
    await server?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  describe('connection', () => {
    it('connects with a valid token in the query or the header: connected first, then both counts', async () => {
      const [alice] = await users(1);
      for (const via of ['query', 'header'] as const) {
        const socket = await open(alice.token, { via });
        expect(await socket.next()).toEqual({
          type: 'connected',
          userId: alice.id,
          message: 'Connected successfully',
          resumed: false,
          cursor: expect.any(String),
        });
        const counts = [await socket.next(), await socket.next()].sort((a, b) => a.type.localeCompare(b.type));
        expect(counts).toEqual([
          { type: 'message:unread_count', data: { count: 0 } },
          { type: 'notification:unseen_count', data: { count: 0 } },
        ]);
      }
    });

    it('refuses a missing, invalid, foreign, expired or unknown-user token: UNAUTHORIZED, then 4401', async () => {
      const [alice] = await users(1);
      const tokens = [
        undefined,
        'not-a-jwt',
        await mintToken({ sub: String(alice.id) }, { secret: 'another-secret-another-secret-another-secret' }),
        await mintToken({ sub: String(alice.id) }, { expiresIn: nowSeconds() - 10 }),
        await mintToken({ sub: '2000000000' }),
      ];
      for (const token of tokens) {
        const socket = await open(token);
        expect(await socket.next()).toEqual({ type: 'error', error: { code: 'UNAUTHORIZED', message: expect.any(String), timestamp: ISO } });
        expect(await socket.closeCode()).toBe(4401);
        expect(socket.frames.pending).toHaveLength(0);
      }
    });

    it('refuses browser origins that are not allowed; clients without Origin are let in', async () => {
      const [alice] = await users(1);
      await expect(open(alice.token, { origin: 'https://evil.example' })).rejects.toMatchObject({ status: 403 });
      await connect(alice, { origin: 'https://app.example' });
      await connect(alice);
    });

    it('gives every device of a user every event, and other users none of it', async () => {
      const [alice, bob, carol] = await users(3);
      const [phone, web, aliceSocket, carolSocket] = await Promise.all([connect(bob), connect(bob), connect(alice), connect(carol)]);
      const message = await send(alice, bob, 'to both devices');
      for (const device of [phone, web]) await expectMessage(device, message, 1);

      const video = (await gqlOk(server.url, op.CREATE_VIDEO, { t: 'clip' }, bob.token)).createVideo;
      await gqlOk(server.url, op.LIKE, { v: video.id }, alice.token);
      for (const device of [phone, web]) {
        expect((await device.next('notification:new')).data).toMatchObject({ type: 'like', actor: { id: alice.id } });
        expect((await device.next('notification:unseen_count')).data).toEqual({ count: 1 });
      }
      // Sentinels: the next thing Alice and Carol get is what was sent to them afterwards.
      await expectMessage(aliceSocket, await send(bob, alice, 'sentinel'), 1);
      await expectMessage(carolSocket, await send(bob, carol, 'sentinel'), 1);
    });

    it('reconnects after a disconnect and gets what was sent meanwhile', async () => {
      const [alice, bob] = await users(2);
      const first = await connect(bob);
      await first.close();
      const missed = await send(alice, bob, 'while you were away');
      const again = await connect(bob);
      expect(again.unreadCount).toBe(1);
      expect((await again.next('message:new')).data).toEqual(missed);
      await expectMessage(again, await send(alice, bob, 'welcome back'), 2);
    });
  });

  describe('messages', () => {
    it('delivers to an online receiver with the requirements’ shape, never to the sender', async () => {
      const [alice, bob] = await users(2);
      const [bobSocket, aliceSocket] = await Promise.all([connect(bob), connect(alice)]);
      const sent = await send(alice, bob, '  Hello from WebSocket!  ');
      expect(await bobSocket.next()).toEqual({
        type: 'message:new',
        data: { id: sent.id, senderId: alice.id, receiverId: bob.id, content: 'Hello from WebSocket!', createdAt: ISO, seen: false, seenAt: null },
      });
      expect(await bobSocket.next()).toEqual({ type: 'message:unread_count', data: { count: 1 } });
      await expectMessage(aliceSocket, await send(bob, alice, 'sentinel'), 1);
    });

    it('queues messages for an offline receiver: oldest first on connect, exactly once, never replayed', async () => {
      const [alice, bob] = await users(2);
      const queued = [];
      for (const text of ['one', 'two', 'three']) queued.push(await send(alice, bob, text));
      const socket = await connect(bob);
      expect(socket.unreadCount).toBe(3);
      for (const message of queued) expect((await socket.next('message:new')).data).toEqual(message);
      await expectMessage(socket, await send(alice, bob, 'live'), 4);
      await readPast(socket);
      await socket.close();

      const second = await connect(bob);
      expect(second.unreadCount).toBe(4);
      await expectMessage(second, await send(alice, bob, 'sentinel'), 5);
    });

    it('sends messages published while it connects exactly once: the queue first, live ones after', async () => {
      const [alice, bob] = await users(2);
      const before = await Promise.all(Array.from({ length: 5 }, (_, i) => send(alice, bob, `before ${i}`)));
      const [socket, during] = await Promise.all([open(bob.token), Promise.all(Array.from({ length: 20 }, (_, i) => send(alice, bob, `during ${i}`)))]);
      const received = await messageIds(socket, before.length + during.length);
      expect(new Set(received)).toEqual(new Set([...before, ...during].map((m) => m.id)));
      // The offline ones come first (in the order they were committed: concurrent sends commit in any id order).
      expect(new Set(received.slice(0, before.length))).toEqual(new Set(before.map((m) => m.id)));
      const sentinel = await send(alice, bob, 'sentinel');
      expect(await messageIds(socket, 1)).toEqual([sentinel.id]);
    });

    it('marks seen: the sender gets message:seen with only its ids, every device of the reader the new count', async () => {
      const [alice, bob, carol] = await users(3);
      const [phone, web, aliceSocket, carolSocket] = await Promise.all([connect(bob), connect(bob), connect(alice), connect(carol)]);
      const [a1, a2, c1] = [await send(alice, bob, 'a1'), await send(alice, bob, 'a2'), await send(carol, bob, 'c1')];
      for (const device of [phone, web]) for (const [i, message] of [a1, a2, c1].entries()) await expectMessage(device, message, i + 1);

      // Bob names Carol's message while reading Alice's conversation: it is not Alice's, so it is ignored.
      phone.send({ type: 'message:mark_seen', data: { conversationWith: alice.id, messageIds: [a1.id, c1.id] } });
      expect(await aliceSocket.next()).toEqual({ type: 'message:seen', data: { messageIds: [a1.id], seenBy: bob.id, seenAt: ISO } });
      for (const device of [phone, web]) expect((await device.next('message:unread_count')).data.count).toBe(2);

      // [] is none (the count is sent anyway); omitted is all from that user.
      phone.send({ type: 'message:mark_seen', data: { conversationWith: alice.id, messageIds: [] } });
      expect((await phone.next('message:unread_count')).data.count).toBe(2);
      phone.send({ type: 'message:mark_seen', data: { conversationWith: alice.id } });
      expect((await aliceSocket.next('message:seen')).data.messageIds).toEqual([a2.id]);
      expect((await phone.next('message:unread_count')).data.count).toBe(1);

      // Alice cannot mark her own sent message seen; Carol learns of nothing.
      aliceSocket.send({ type: 'message:mark_seen', data: { conversationWith: bob.id, messageIds: [a2.id, c1.id] } });
      expect((await aliceSocket.next('message:unread_count')).data.count).toBe(0);
      await expectMessage(carolSocket, await send(bob, carol, 'sentinel'), 1);
    });

    it('shows typing to the other party only, and expires it on its own', async () => {
      const [alice, bob] = await users(2);
      const [bobSocket, aliceSocket, aliceOther] = await Promise.all([connect(bob), connect(alice), connect(alice)]);
      // Timed from before the frame: the server's timer starts after it, however late the `true` arrives here.
      const started = Date.now();
      aliceSocket.send({ type: 'message:typing', data: { conversationWith: bob.id, isTyping: true } });
      expect(await bobSocket.next()).toEqual({ type: 'message:typing', data: { userId: alice.id, conversationWith: bob.id, isTyping: true } });
      expect((await bobSocket.next('message:typing')).data).toEqual({ userId: alice.id, conversationWith: bob.id, isTyping: false });
      expect(Date.now() - started).toBeGreaterThanOrEqual(300);

      // A stop ends an active start at once (one without a start is not relayed: test/security-limits.test.ts).
      for (const isTyping of [true, false]) {
        bobSocket.send({ type: 'message:typing', data: { conversationWith: alice.id, isTyping } });
        for (const device of [aliceSocket, aliceOther]) {
          expect((await device.next('message:typing')).data).toEqual({ userId: bob.id, conversationWith: alice.id, isTyping });
        }
      }
      // Nothing came back to the typists' own devices: their next frame is the sentinel.
      const sentinel = await send(bob, alice, 'sentinel');
      for (const device of [aliceSocket, aliceOther]) await expectMessage(device, sentinel, 1);
      await expectMessage(bobSocket, await send(alice, bob, 'sentinel'), 1);

      aliceSocket.send({ type: 'message:typing', data: { conversationWith: alice.id, isTyping: true } });
      expect((await aliceSocket.next('error')).error.code).toBe('INVALID_MESSAGE');
      aliceSocket.send({ type: 'message:typing', data: { conversationWith: 2_000_000_000, isTyping: true } });
      expect((await aliceSocket.next('error')).error.code).toBe('NOT_FOUND');
    });

    it('rate limits typing starts only (stops never count): RATE_LIMIT with retryAfterMs, the event dropped, the socket open', async () => {
      const [alice, bob] = await users(2);
      const [aliceSocket, bobSocket] = await Promise.all([connect(alice), connect(bob)]);
      const typing = (isTyping: boolean) => aliceSocket.send({ type: 'message:typing', data: { conversationWith: bob.id, isTyping } });
      // Stops between the starts do not count: four start/stop pairs, then the fifth start, all pass.
      for (let i = 0; i < 4; i++) {
        typing(true);
        expect((await bobSocket.next('message:typing')).data.isTyping).toBe(true);
        typing(false);
        expect((await bobSocket.next('message:typing')).data.isTyping).toBe(false);
      }
      typing(true);
      expect((await bobSocket.next('message:typing')).data.isTyping).toBe(true);
      typing(true);
      expect(await aliceSocket.next()).toEqual({
        type: 'error',
        error: { code: 'RATE_LIMIT', message: expect.any(String), timestamp: ISO, retryAfterMs: expect.any(Number) },
      });
      // Stopping is never limited, and is the next thing Bob sees.
      typing(false);
      expect((await bobSocket.next('message:typing')).data.isTyping).toBe(false);
    });

    it('delivers rapid sends in order, and a concurrent burst exactly once', async () => {
      const [alice, bob] = await users(2);
      const socket = await connect(bob);
      const sequential = [];
      for (let i = 0; i < 30; i++) sequential.push(await send(alice, bob, `rapid ${i}`));
      for (const [i, message] of sequential.entries()) await expectMessage(socket, message, i + 1);

      const burst = await Promise.all(Array.from({ length: 30 }, (_, i) => send(alice, bob, `burst ${i}`)));
      const received = await messageIds(socket, burst.length);
      expect(received.sort((a, b) => a - b)).toEqual(burst.map((m) => m.id).sort((a, b) => a - b));
    });

    it('delivers 5000 code points intact and refuses 5001 without delivering anything', async () => {
      const [alice, bob] = await users(2);
      const socket = await connect(bob);
      const longest = '😀'.repeat(5000);
      const sent = await send(alice, bob, longest);
      const frame = await socket.next('message:new');
      expect([...frame.data.content]).toHaveLength(5000);
      expect(frame.data).toEqual(sent);
      await socket.next('message:unread_count');
      const refused = await gql(server.url, op.SEND, { to: bob.id, c: `${longest}!` }, alice.token);
      expect(refused.errors?.[0]?.extensions?.code).toBe('INVALID_MESSAGE');
      await expectMessage(socket, await send(alice, bob, 'sentinel'), 2);
    });
  });

  describe('notifications', () => {
    it('sends like, comment and follow notifications with actor and target, each followed by the unseen count', async () => {
      const [owner, fan] = await Promise.all([registerUser(server.url, 'owner'), registerUser(server.url, 'fan', '/avatars/fan.jpg')]);
      const video = (await gqlOk(server.url, op.CREATE_VIDEO, { t: 'My awesome video', th: '/thumbs/1.jpg' }, owner.token)).createVideo;
      const socket = await connect(owner);
      const actor = { id: fan.id, username: fan.username, avatarUrl: '/avatars/fan.jpg' };
      const target = { type: 'video', id: video.id, title: 'My awesome video', thumbUrl: '/thumbs/1.jpg' };

      await gqlOk(server.url, op.LIKE, { v: video.id }, owner.token); // one's own action: nothing
      await gqlOk(server.url, op.LIKE, { v: video.id }, fan.token);
      expect(await socket.next()).toEqual({
        type: 'notification:new',
        data: { id: expect.any(Number), userId: owner.id, type: 'like', refId: video.id, createdAt: ISO, seen: false, actor, target },
      });
      expect(await socket.next()).toEqual({ type: 'notification:unseen_count', data: { count: 1 } });

      const comment = (await gqlOk(server.url, op.COMMENT, { v: video.id, c: 'great' }, fan.token)).commentOnVideo;
      expect((await socket.next('notification:new')).data).toMatchObject({ type: 'comment', refId: comment.id, actor, target });
      expect((await socket.next('notification:unseen_count')).data.count).toBe(2);

      await gqlOk(server.url, op.FOLLOW, { u: owner.id }, fan.token);
      expect((await socket.next('notification:new')).data).toMatchObject({
        type: 'follow',
        refId: fan.id,
        actor,
        target: { type: 'user', id: fan.id, title: fan.username, thumbUrl: '/avatars/fan.jpg' },
      });
      expect((await socket.next('notification:unseen_count')).data.count).toBe(3);
    });

    it("marks seen from the socket: every device, the asking one too, gets notification:seen and the count; another user's id is left out, not FORBIDDEN", async () => {
      const [owner, fan, stranger] = await users(3);
      const video = (await gqlOk(server.url, op.CREATE_VIDEO, { t: 'v' }, owner.token)).createVideo;
      await gqlOk(server.url, op.LIKE, { v: video.id }, fan.token);
      await gqlOk(server.url, op.FOLLOW, { u: owner.id }, fan.token);
      const list = await gqlOk(server.url, '{ notifications { edges { node { id } } } }', {}, owner.token);
      const [follow, like] = list.notifications.edges.map((e: any) => e.node.id);
      const [phone, web, strangerSocket] = await Promise.all([connect(owner), connect(owner), connect(stranger)]);
      expect(phone.unseenCount).toBe(2);

      strangerSocket.send({ type: 'notification:mark_seen', data: { notificationIds: [follow] } });
      expect((await strangerSocket.next('notification:seen')).data.notificationIds).toEqual([]);
      expect((await strangerSocket.next('notification:unseen_count')).data.count).toBe(0);

      phone.send({ type: 'notification:mark_seen', data: { notificationIds: [follow] } });
      for (const device of [phone, web]) {
        expect(await device.next()).toEqual({ type: 'notification:seen', data: { notificationIds: [follow], seenAt: ISO } });
        expect(await device.next()).toEqual({ type: 'notification:unseen_count', data: { count: 1 } });
      }
      web.send({ type: 'notification:mark_seen' });
      for (const device of [phone, web]) {
        expect((await device.next('notification:seen')).data.notificationIds).toEqual([like]);
        expect((await device.next('notification:unseen_count')).data.count).toBe(0);
      }
    });
  });

  describe('errors', () => {
    it('answers a client-sent ping with a pong (clients written from the requirements check the connection so)', async () => {
      const [alice] = await users(1);
      const socket = await connect(alice);
      socket.send({ type: 'ping' });
      expect(await socket.next('pong')).toEqual({ type: 'pong', timestamp: ISO });
    });

    it('answers non-JSON, unknown types and bad fields with INVALID_MESSAGE and stays open', async () => {
      const [alice, bob] = await users(2);
      const socket = await connect(alice);
      const bad = [
        'not json',
        '[1, 2]',
        JSON.stringify({ type: 'message:send', data: { receiverId: bob.id, content: 'hi' } }),
        JSON.stringify({ data: {} }),
        JSON.stringify({ type: 'message:typing', data: { conversationWith: String(bob.id), isTyping: true } }),
        JSON.stringify({ type: 'message:mark_seen', data: { conversationWith: bob.id, messageIds: [-1] } }),
        JSON.stringify({ type: 'notification:mark_seen', data: { notificationIds: 'all' } }),
        JSON.stringify({ type: 'auth:refresh', data: {} }),
        JSON.stringify({ type: 'message:typing', data: { conversationWith: 2 ** 31, isTyping: true } }),
      ];
      for (const text of bad) {
        socket.send(text);
        expect(await socket.next()).toEqual({ type: 'error', error: { code: 'INVALID_MESSAGE', message: expect.any(String), timestamp: ISO } });
      }
      socket.send({ type: 'message:mark_seen', data: { conversationWith: bob.id } });
      expect((await socket.next('message:unread_count')).data.count).toBe(0);
    });

    it('closes with 1009 on a frame over 64 KiB; 64 KiB itself is read', async () => {
      const [alice] = await users(1);
      const socket = await connect(alice);
      socket.send('x'.repeat(65536));
      expect((await socket.next('error')).error.code).toBe('INVALID_MESSAGE');
      socket.send('x'.repeat(65537));
      expect(await socket.closeCode()).toBe(1009);
    });

    it('pings with a timestamp and closes with 4408 when no JSON pong comes (protocol-level pongs do not count)', async () => {
      const [alice] = await users(1);
      const socket = await connect(alice, { autoPong: false });
      const ping = await socket.pings.next(2000);
      expect(ping).toEqual({ type: 'ping', timestamp: ISO });
      // From the server's own send time (same clock): the ping may reach this client late.
      const pinged = Date.parse(ping.timestamp);
      socket.ws.pong();
      expect(await socket.closeCode()).toBe(4408);
      expect(Date.now() - pinged).toBeGreaterThanOrEqual(1000);
    });

    it('stays open as long as JSON pongs come', async () => {
      const [alice, bob] = await users(2);
      const socket = await connect(alice);
      // Eight pings span more than an interval plus the pong timeout.
      for (let i = 0; i < 8; i++) await socket.pings.next(2000);
      expect(socket.ws.readyState).toBe(socket.ws.OPEN);
      await expectMessage(socket, await send(bob, alice, 'still here'), 1);
    });

    it('closes with UNAUTHORIZED and 4401 within 2 s of the token’s expiry', async () => {
      const [alice] = await users(1);
      const exp = nowSeconds() + 2;
      const socket = await connect({ ...alice, token: await mintToken({ sub: String(alice.id) }, { expiresIn: exp }) });
      expect((await socket.next('error', 5000)).error).toEqual({ code: 'UNAUTHORIZED', message: expect.any(String), timestamp: ISO });
      expect(await socket.closeCode()).toBe(4401);
      expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000 - 50);
      expect(Date.now()).toBeLessThan(exp * 1000 + 2000);
    });

    it('keeps a connection whose token was refreshed with auth:refresh', async () => {
      const [alice, bob] = await users(2);
      const exp = nowSeconds() + 2;
      const socket = await connect({ ...alice, token: await mintToken({ sub: String(alice.id) }, { expiresIn: exp }) });
      const laterExp = nowSeconds() + 3600;
      socket.send({ type: 'auth:refresh', data: { token: await mintToken({ sub: String(alice.id) }, { expiresIn: laterExp }) } });
      expect(await socket.next()).toEqual({ type: 'auth:refreshed', data: { expiresAt: new Date(laterExp * 1000).toISOString() } });
      while (Date.now() < exp * 1000 + 500) await socket.pings.next(2000);
      expect(socket.ws.readyState).toBe(socket.ws.OPEN);
      await expectMessage(socket, await send(bob, alice, 'still here'), 1);
    });

    it('answers auth:refresh with a bad, expired or foreign token with UNAUTHORIZED and stays open', async () => {
      const [alice, bob] = await users(2);
      const socket = await connect(alice);
      for (const token of ['garbage', await mintToken({ sub: String(alice.id) }, { expiresIn: nowSeconds() - 10 }), bob.token]) {
        socket.send({ type: 'auth:refresh', data: { token } });
        expect((await socket.next('error')).error.code).toBe('UNAUTHORIZED');
      }
      await expectMessage(socket, await send(bob, alice, 'still here'), 1);
    });
  });

  describe('edge cases', () => {
    it('a user offline then online gets the counts of what happened meanwhile and the queued messages', async () => {
      const [alice, bob] = await users(2);
      const video = (await gqlOk(server.url, op.CREATE_VIDEO, { t: 'v' }, bob.token)).createVideo;
      await gqlOk(server.url, op.LIKE, { v: video.id }, alice.token);
      const message = await send(alice, bob, 'hello offline');
      const socket = await connect(bob);
      expect([socket.unreadCount, socket.unseenCount]).toEqual([1, 1]);
      expect((await socket.next('message:new')).data).toEqual(message);
    });

    it('network interruption: an abruptly dropped socket leaves the server, the other devices keep receiving', async () => {
      const [alice, bob] = await users(2);
      const [phone, web] = await Promise.all([connect(bob), connect(bob)]);
      const active = () => metric('rt_active_connections', { transport: 'json-ws' });
      const before = await active();
      phone.ws.terminate(); // no close frame: the TCP connection just ends
      expect(await phone.closeCode()).toBe(1006);
      await withTimeout(
        (async () => {
          while ((await active()) !== before - 1) await new Promise((r) => setTimeout(r, 20));
        })(),
        5000,
        'the server noticing the dropped socket',
      );
      await expectMessage(web, await send(alice, bob, 'after the drop'), 1);
    });

    it('closes a consumer that stopped reading; the next connection gets every message it never showed it read', async () => {
      const [alice, bob] = await users(2);
      const closes = async () =>
        (await metric('rt_connection_errors_total', { transport: 'json-ws', reason: 'slow_consumer' })) +
        (await metric('rt_connection_errors_total', { transport: 'json-ws', reason: 'pong_timeout' }));
      const socket = await connect(bob);
      socket.ws.pause(); // stops reading (and so answering pings): the server's buffer for it fills up
      const big = '😀'.repeat(5000);
      const sent: number[] = [];
      const closesBefore = await closes();
      while ((await closes()) === closesBefore) {
        if (sent.length > 2000) throw new Error('the server never gave up on the stalled consumer');
        sent.push(...(await Promise.all(Array.from({ length: 20 }, () => send(alice, bob, big)))).map((m) => m.id));
      }
      socket.ws.resume();
      // Whichever comes first: the buffer over its limit (1013) or the unanswered pings (4408).
      expect([1013, 4408]).toContain(await socket.closeCode(10_000));
      const received = socket.frames.pending.filter((f) => f.type === 'message:new').map((f) => f.data.id);
      expect(received.length).toBeGreaterThan(0);

      // What it did not show it read (a pong to a ping written after it) comes again, once: nothing is lost.
      const again = await connect(bob);
      const queued = again.backlog.map((f) => f.data.id);
      expect(new Set(queued).size).toBe(queued.length);
      expect([...new Set([...received, ...queued])].sort((x, y) => x - y)).toEqual([...sent].sort((x, y) => x - y));
    });

    // Last but one: the server after the restart idles sockets out, which the idle test below relies on.
    it('server restart: sockets close with 1012; reconnecting gets what is undelivered, nothing twice', async () => {
      const [alice, bob, carol] = await users(3);
      const bobSocket = await connect(bob);
      await expectMessage(bobSocket, await send(alice, bob, 'delivered before the restart'), 1);
      await readPast(bobSocket);
      const pending = await send(alice, carol, 'waiting for carol');

      const closing = server.close();
      expect(await bobSocket.closeCode(10_000)).toBe(1012);
      await closing;
      server = await startServer({ dataDir, env: ENV });

      const carolSocket = await connect(carol);
      expect((await carolSocket.next('message:new')).data).toEqual(pending);
      await readPast(carolSocket);
      await carolSocket.close();
      const [bobAgain, carolAgain] = await Promise.all([connect(bob), connect(carol)]);
      expect([bobAgain.unreadCount, carolAgain.unreadCount]).toEqual([1, 1]);
      await expectMessage(bobAgain, await send(alice, bob, 'sentinel'), 2);
      await expectMessage(carolAgain, await send(alice, carol, 'sentinel'), 2);
    });

    it('closes with 4000 when idle: pongs do not count, any other frame (invalid ones too) does', async () => {
      // A server of its own with an idle timeout, so the test does not depend on what ran before it.
      const idle = await startServer({ env: { ...ENV, WS_IDLE_TIMEOUT_MS: String(IDLE_MS) } });
      try {
        await idleTimeout(idle);
      } finally {
        await idle.close();
      }
    });

    async function idleTimeout(idle: TestServer) {
      const alice = await registerUser(idle.url);
      const connect = async (user: TestUser) => {
        const socket = await connectJsonSocket(idle.wsUrl, user);
        sockets.push(socket);
        return socket;
      };
      const opened = Date.now();
      const quiet = await connect(alice);
      expect(await quiet.closeCode()).toBe(4000);
      expect(Date.now() - opened).toBeGreaterThanOrEqual(IDLE_MS - 50);
      expect(quiet.pings.pending.length).toBeGreaterThan(0); // and every ping was answered

      const chatty = await connect(alice);
      await chatty.pings.next(2000);
      await chatty.pings.next(2000);
      const spoke = Date.now();
      chatty.send('not json');
      expect((await chatty.next('error')).error.code).toBe('INVALID_MESSAGE');
      expect(await chatty.closeCode()).toBe(4000);
      expect(Date.now() - spoke).toBeGreaterThanOrEqual(IDLE_MS - 50);
    }
  });

  describe('presence', () => {
    it('answers presence:subscribe with each user now, then their changes, without cursors', async () => {
      const [watcher, user] = await users(2);
      await gqlOk(server.url, op.FOLLOW, { u: user.id }, watcher.token);
      const socket = await connect(watcher);
      socket.send({ type: 'presence:subscribe', data: { userIds: [user.id] } });
      // The follow's notification came first; the socket helper fails on any presence frame with a cursor.
      expect(await socket.next('presence:update')).toEqual({
        type: 'presence:update',
        data: { userId: user.id, status: 'offline', online: false, lastActiveAt: null },
      });
      await connect(user);
      expect(await socket.next('presence:update')).toEqual({
        type: 'presence:update',
        data: { userId: user.id, status: 'online', online: true, lastActiveAt: null },
      });
      socket.send({ type: 'presence:unsubscribe', data: { userIds: [user.id] } });
      socket.send({ type: 'presence:subscribe', data: { userIds: 'all' } });
      expect((await socket.next('error')).error).toMatchObject({ code: 'INVALID_MESSAGE', message: expect.stringMatching(/^data\.userIds/) });
    });
  });

  // Last: every frame the server sent in this file, against the published schemas. It provokes every kind of server
  // frame itself first, so it checks them all when run alone too.
  it('sent only frames that match docs/asyncapi.yaml, and every kind of server frame in it', async () => {
    const [alice, bob] = await users(2);
    const socket = await connect(alice);
    const message = await send(bob, alice, 'every frame');
    await expectMessage(socket, message, 1);
    await gqlOk(server.url, op.SET_TYPING, { w: alice.id, t: true }, bob.token);
    await socket.next('message:typing');
    await gqlOk(server.url, op.SET_TYPING, { w: alice.id, t: false }, bob.token);
    await socket.next('message:typing');
    const video = (await gqlOk(server.url, op.CREATE_VIDEO, { t: 'v' }, alice.token)).createVideo;
    await gqlOk(server.url, op.LIKE, { v: video.id }, bob.token);
    await socket.next('notification:new');
    await socket.next('notification:unseen_count');
    socket.send({ type: 'notification:mark_seen' });
    await socket.next('notification:seen');
    await socket.next('notification:unseen_count');
    await send(alice, bob, 'to be read');
    const reader = await connect(bob);
    reader.send({ type: 'message:mark_seen', data: { conversationWith: alice.id } });
    await socket.next('message:seen');
    socket.send({ type: 'ping' });
    await socket.next('pong');
    socket.send({ type: 'auth:refresh', data: { token: alice.token } });
    await socket.next('auth:refreshed');
    socket.send('not json');
    await socket.next('error');
    await socket.pings.next(2000);

    const spec = await loadAsyncApi();
    const schemas = spec.schemasOf('server');
    const seen = new Set<string>();
    for (const frame of receivedFrames) {
      const schema = schemas.get(frame.type);
      expect(schema, `no schema for ${frame.type}`).toBeDefined();
      expect(checkSchema(schema!, frame, spec.resolve), JSON.stringify(frame).slice(0, 300)).toEqual([]);
      seen.add(frame.type);
    }
    expect([...seen].sort()).toEqual([...schemas.keys()].sort());
  });
});

/** Waits until the client answered a ping sent after everything it has received: the server now knows it read them. */
async function readPast(socket: JsonSocket) {
  while (socket.pings.pending.length) await socket.pings.next();
  for (let i = 0; i < 3; i++) await socket.pings.next(2000);
}

/** The ids of the next `count` message:new frames, skipping the other frames in between. */
async function messageIds(socket: JsonSocket, count: number): Promise<number[]> {
  const ids: number[] = [];
  while (ids.length < count) {
    const frame = await socket.next();
    if (frame.type === 'message:new') ids.push(frame.data.id);
  }
  return ids;
}
