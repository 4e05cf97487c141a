// The schema (schema.graphql) and the shared rules (docs/decisions.md) through GraphQL over HTTP and graphql-ws, on
// PGlite and (when DATABASE_URL is set) on PostgreSQL: the same suite for both databases.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type Backend, type TestServer } from './support/server.ts';
import { DATABASE_URL, announceSkip } from './support/env.ts';
import { connectGraphQLWs, gql, gqlErrorCode, gqlOk, mintToken, registerUser, uniqueName, type GraphQLSocket, type TestUser } from './support/graphql.ts';
import * as op from './support/operations.ts';
import { eventually } from './support/eventually.ts';
import { connectJsonSocket } from './support/json-socket.ts';

const backends: Backend[] = ['pglite', 'postgres'];
if (!DATABASE_URL) announceSkip('GraphQL suite on PostgreSQL', 'DATABASE_URL');

// Both suites are always declared, so that without DATABASE_URL the PostgreSQL one is reported as skipped, by name,
// rather than missing from the counts.
const suite = (backend: Backend) => () => {
  let server: TestServer;
  let url: string;
  const sockets: GraphQLSocket[] = [];
  const connect = async (user: TestUser) => {
    const socket = await connectGraphQLWs(server.wsUrl, { authorization: `Bearer ${user.token}` });
    sockets.push(socket);
    return socket;
  };

  beforeAll(async () => {
    server = await startServer({ backend, env: { TYPING_TIMEOUT_MS: '300' } });
    url = server.url;
  });
  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.close()));
    await server?.close();
  });

  describe('identity', () => {
    it('registers, logs in case-insensitively and answers me', async () => {
      const alice = await registerUser(url, 'alice', '/avatars/a.jpg');
      const login = await gqlOk(url, 'mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token user { id username avatarUrl } } }', {
        u: alice.username.toUpperCase(),
        p: 'correct horse battery',
      });
      expect(login.login.user).toEqual({ id: alice.id, username: alice.username, avatarUrl: '/avatars/a.jpg' });
      const me = await gqlOk(url, '{ me { id username avatarUrl } }', {}, login.login.token);
      expect(me.me.id).toBe(alice.id);
    });

    it('refuses bad credentials and bad registrations with clear codes', async () => {
      const alice = await registerUser(url, 'alice');
      const login = 'mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }';
      expect(await gqlErrorCode(url, login, { u: alice.username, p: 'wrong password' })).toBe('UNAUTHORIZED');
      expect(await gqlErrorCode(url, login, { u: uniqueName('nobody'), p: 'whatever123' })).toBe('UNAUTHORIZED');
      const register = 'mutation($u: String!, $p: String!) { register(username: $u, password: $p) { token } }';
      expect(await gqlErrorCode(url, register, { u: alice.username.toUpperCase(), p: 'long enough' })).toBe('INVALID_MESSAGE');
      expect(await gqlErrorCode(url, register, { u: 'no spaces allowed', p: 'long enough' })).toBe('INVALID_MESSAGE');
      expect(await gqlErrorCode(url, register, { u: 'ab', p: 'long enough' })).toBe('INVALID_MESSAGE');
      expect(await gqlErrorCode(url, register, { u: uniqueName(), p: 'short' })).toBe('INVALID_MESSAGE');
    });

    it('rejects missing, invalid, expired and foreign-secret tokens', async () => {
      const alice = await registerUser(url);
      expect(await gqlErrorCode(url, '{ me { id } }')).toBe('UNAUTHORIZED');
      expect(await gqlErrorCode(url, '{ me { id } }', {}, 'not-a-jwt')).toBe('UNAUTHORIZED');
      const expired = await mintToken({ sub: String(alice.id) }, { expiresIn: Math.floor(Date.now() / 1000) - 10 });
      expect(await gqlErrorCode(url, '{ me { id } }', {}, expired)).toBe('UNAUTHORIZED');
      const foreign = await mintToken({ sub: String(alice.id) }, { secret: 'another-secret-another-secret-another-secret' });
      expect(await gqlErrorCode(url, '{ me { id } }', {}, foreign)).toBe('UNAUTHORIZED');
    });

    it('accepts tokens minted elsewhere, creating the user from its username claim', async () => {
      const id = 1_000_000 + Math.floor(Math.random() * 1_000_000_000);
      const username = uniqueName('ext');
      const token = await mintToken({ sub: String(id), username, avatarUrl: 'https://cdn.example/x.png' });
      expect((await gqlOk(url, '{ me { id username avatarUrl } }', {}, token)).me).toEqual({ id, username, avatarUrl: 'https://cdn.example/x.png' });
      // Registration still works after an explicit id moved past the sequence.
      expect((await registerUser(url)).id).toBeGreaterThan(0);
      // Several first requests at once (a user's devices connecting together) all get in, as one user.
      const id2 = id + 1_000_000_000 > 2 ** 31 - 1 ? id - 500_000 : id + 1_000_000_000;
      const first = await mintToken({ sub: String(id2), username: uniqueName('ext') });
      const answers = await Promise.all(Array.from({ length: 8 }, () => gql(url, '{ me { id } }', {}, first)));
      expect(answers.map((a) => a.data?.me?.id ?? a.errors?.[0]?.extensions?.code)).toEqual(Array(8).fill(id2));
      const unknown = await mintToken({ sub: '2000000000' });
      expect(await gqlErrorCode(url, '{ me { id } }', {}, unknown)).toBe('UNAUTHORIZED');
    });

    it('closes graphql-ws with 4403 on a missing, invalid or expired token', async () => {
      const alice = await registerUser(url);
      const expired = await mintToken({ sub: String(alice.id) }, { expiresIn: Math.floor(Date.now() / 1000) - 10 });
      for (const params of [{}, { token: 'garbage' }, { authorization: `Bearer ${expired}` }]) {
        const closed = await connectGraphQLWs(server.wsUrl, params).then(
          () => 'connected',
          (event: { code?: number }) => event.code,
        );
        expect(closed).toBe(4403);
      }
      for (const params of [{ token: alice.token }, { authorization: `Bearer ${alice.token}` }, { Authorization: `Bearer ${alice.token}` }]) {
        sockets.push(await connectGraphQLWs(server.wsUrl, params));
      }
    });
  });

  describe('transport', () => {
    it('answers PUT (graphql-sse single-connection reservations) with 405: only distinct connections are served', async () => {
      const res = await fetch(`${url}/graphql`, { method: 'PUT', headers: { accept: 'text/event-stream' } });
      expect(res.status).toBe(405);
    });

    it('refuses last/before as unknown arguments: connections page forward only', async () => {
      const alice = await registerUser(url);
      expect(await gqlErrorCode(url, '{ conversations(last: 2) { edges { cursor } } }', {}, alice.token)).toBe('GRAPHQL_VALIDATION_FAILED');
    });
  });

  describe('messages', () => {
    it('delivers to every device of the receiver, never to the sender or a third user', async () => {
      const [alice, bob, carol] = await Promise.all([registerUser(url), registerUser(url), registerUser(url)]);
      const bobPhone = await (await connect(bob)).subscribe(op.SUB_MESSAGE_NEW);
      const bobWeb = await (await connect(bob)).subscribe(op.SUB_MESSAGE_NEW);
      const aliceInbox = await (await connect(alice)).subscribe(op.SUB_MESSAGE_NEW);
      const carolInbox = await (await connect(carol)).subscribe(op.SUB_MESSAGE_NEW);

      const sent = (await gqlOk(url, op.SEND, { to: bob.id, c: '  Hello from GraphQL!  ' }, alice.token)).sendMessage;
      expect(sent).toMatchObject({ senderId: alice.id, receiverId: bob.id, content: 'Hello from GraphQL!', seen: false, seenAt: null });
      expect(new Date(sent.createdAt).toISOString()).toBe(sent.createdAt);
      expect((await bobPhone.next()).messageNew).toEqual(sent);
      expect((await bobWeb.next()).messageNew).toEqual(sent);

      // Sentinels: the next thing Alice and Carol receive is what was sent to them afterwards.
      const toAlice = (await gqlOk(url, op.SEND, { to: alice.id, c: 'reply' }, bob.token)).sendMessage;
      const toCarol = (await gqlOk(url, op.SEND, { to: carol.id, c: 'hi carol' }, bob.token)).sendMessage;
      expect((await aliceInbox.next()).messageNew.id).toBe(toAlice.id);
      expect((await carolInbox.next()).messageNew.id).toBe(toCarol.id);
    });

    it('keeps unread counts live and sends receipts with only the sender’s ids', async () => {
      const [alice, bob, carol] = await Promise.all([registerUser(url), registerUser(url), registerUser(url)]);
      const bobSocket = await connect(bob);
      const unread = await bobSocket.subscribe(op.SUB_UNREAD);
      expect((await unread.next()).unreadMessageCount).toBe(0);
      const aliceReceipts = await (await connect(alice)).subscribe(op.SUB_MESSAGE_SEEN);
      const carolReceipts = await (await connect(carol)).subscribe(op.SUB_MESSAGE_SEEN);

      const a1 = (await gqlOk(url, op.SEND, { to: bob.id, c: 'one' }, alice.token)).sendMessage;
      expect((await unread.next()).unreadMessageCount).toBe(1);
      const a2 = (await gqlOk(url, op.SEND, { to: bob.id, c: 'two' }, alice.token)).sendMessage;
      expect((await unread.next()).unreadMessageCount).toBe(2);
      const c1 = (await gqlOk(url, op.SEND, { to: bob.id, c: 'from carol' }, carol.token)).sendMessage;
      expect((await unread.next()).unreadMessageCount).toBe(3);
      expect((await gqlOk(url, '{ unreadMessageCount }', {}, bob.token)).unreadMessageCount).toBe(3);

      // Bob names Carol's message while reading Alice's conversation: it is not Alice's, so it is ignored.
      const seen = (await gqlOk(url, op.MARK_SEEN, { w: alice.id, ids: [a1.id, c1.id] }, bob.token)).markMessagesSeen;
      expect(seen.messageIds).toEqual([a1.id]);
      expect(seen.seenBy).toBe(bob.id);
      expect((await aliceReceipts.next()).messageSeen).toEqual(seen);
      expect((await unread.next()).unreadMessageCount).toBe(2);

      // Alice cannot mark her own sent message seen.
      expect((await gqlOk(url, op.MARK_SEEN, { w: bob.id, ids: [a2.id] }, alice.token)).markMessagesSeen.messageIds).toEqual([]);
      // [] means none; omitted means all from that user.
      expect((await gqlOk(url, op.MARK_SEEN, { w: alice.id, ids: [] }, bob.token)).markMessagesSeen.messageIds).toEqual([]);
      expect((await gqlOk(url, op.MARK_SEEN, { w: alice.id }, bob.token)).markMessagesSeen.messageIds).toEqual([a2.id]);
      expect((await aliceReceipts.next()).messageSeen.messageIds).toEqual([a2.id]);
      expect((await gqlOk(url, op.MARK_SEEN, { w: carol.id }, bob.token)).markMessagesSeen.messageIds).toEqual([c1.id]);
      expect((await carolReceipts.next()).messageSeen.messageIds).toEqual([c1.id]);

      const page = await gqlOk(url, `query($w: Int!) { messages(withUserId: $w, first: 5) { edges { node { id seen seenAt } } } }`, { w: alice.id }, bob.token);
      expect(page.messages.edges.map((e: any) => [e.node.id, e.node.seen])).toEqual([
        [a2.id, true],
        [a1.id, true],
      ]);
    });

    it('records a message read over graphql-ws once the socket answers a ping written after it: it leaves the offline queue', async () => {
      const [alice, bob] = await Promise.all([registerUser(url), registerUser(url)]);
      const socket = await connect(bob);
      const inbox = await socket.subscribe(op.SUB_MESSAGE_NEW);
      await gqlOk(url, op.SEND, { to: bob.id, c: 'read on graphql-ws' }, alice.token);
      await inbox.next();
      const { position } = await server.app.domain.streams.head(bob.id);
      expect((await server.app.domain.streams.head(bob.id)).acked).toBeLessThan(position);
      // The keep-alive's pongs, sent now rather than in 12 s: the second proves what was written before the first.
      socket.socket().pong();
      socket.socket().pong();
      await eventually('the message acknowledged', async () => (await server.app.domain.streams.head(bob.id)).acked >= position, 5000);
      const json = await connectJsonSocket(server.wsUrl, bob);
      try {
        expect(json.frames.pending.filter((frame) => frame.type === 'message:new')).toEqual([]);
      } finally {
        await json.close();
      }
    });

    it('pages a conversation and the inbox newest first', async () => {
      const [alice, bob, carol] = await Promise.all([registerUser(url), registerUser(url), registerUser(url)]);
      const ids: number[] = [];
      for (let i = 0; i < 5; i++) {
        const [from, to] = i % 2 ? [bob, alice] : [alice, bob];
        ids.push((await gqlOk(url, op.SEND, { to: to.id, c: `m${i}` }, from.token)).sendMessage.id);
      }
      const q = `query($w: Int!, $after: String) { messages(withUserId: $w, first: 2, after: $after) { edges { cursor node { id content } } pageInfo { hasNextPage endCursor } } }`;
      const seenIds: number[] = [];
      let after: string | null = null;
      for (let pageNo = 0; pageNo < 5; pageNo++) {
        const { messages }: any = await gqlOk(url, q, { w: bob.id, after }, alice.token);
        seenIds.push(...messages.edges.map((e: any) => e.node.id));
        if (!messages.pageInfo.hasNextPage) break;
        after = messages.pageInfo.endCursor;
      }
      expect(seenIds).toEqual([...ids].reverse());
      // A third user sees nothing of it.
      expect((await gqlOk(url, q, { w: bob.id, after: null }, carol.token)).messages.edges).toEqual([]);

      await gqlOk(url, op.SEND, { to: alice.id, c: 'carol here' }, carol.token);
      const inbox = await gqlOk(
        url,
        '{ conversations(first: 10) { edges { cursor node { with { id username } lastMessage { content } unreadCount } } pageInfo { hasNextPage } } }',
        {},
        alice.token,
      );
      expect(inbox.conversations.edges.map((e: any) => [e.node.with.id, e.node.lastMessage.content, e.node.unreadCount])).toEqual([
        [carol.id, 'carol here', 1],
        [bob.id, 'm4', 2],
      ]);
      expect(await gqlErrorCode(url, '{ conversations(first: 101) { edges { cursor } } }', {}, alice.token)).toBe('INVALID_MESSAGE');
      expect(await gqlErrorCode(url, '{ conversations(first: 1, after: "nope") { edges { cursor } } }', {}, alice.token)).toBe('INVALID_MESSAGE');
    });

    it('stores comments and video titles as plain text: markup is removed before storing, not only when shown', async () => {
      const [owner, fan] = await Promise.all([registerUser(url), registerUser(url)]);
      const video = (await gqlOk(url, op.CREATE_VIDEO, { t: '<i>My</i> video<script>x()</script>' }, owner.token)).createVideo;
      expect(video.title).toBe('My video');
      const comment = (await gqlOk(url, op.COMMENT, { v: video.id, c: '<b>nice</b> <img src=x onerror=alert(1)>one' }, fan.token)).commentOnVideo;
      // The answer is the row as inserted (RETURNING); the title is read back from the database by the notification.
      expect(comment.content).toBe('nice one');
      const listed = await gqlOk(url, '{ notifications(first: 1) { edges { node { type refId target { title } } } } }', {}, owner.token);
      expect(listed.notifications.edges[0].node).toEqual({ type: 'COMMENT', refId: comment.id, target: { title: 'My video' } });
    });

    it('applies the content rules and refuses bad sends without storing anything', async () => {
      const [alice, bob] = await Promise.all([registerUser(url), registerUser(url)]);
      const send = (c: string, to = bob.id) => gql(url, op.SEND, { to, c }, alice.token);
      const cleaned = (await send('<script>alert(1)</script>hi <b>there</b>\u0007\ttab\nline & 1 < 2')).data!.sendMessage;
      expect(cleaned.content).toBe('hi there\ttab\nline & 1 < 2');
      expect((await send('&lt;img src=x onerror=alert(1)&gt;ok')).data!.sendMessage.content).toBe('ok');
      const longest = '😀'.repeat(5000);
      expect((await send(longest)).data!.sendMessage.content).toBe(longest);
      expect((await send(longest + '!')).errors![0]!.extensions!.code).toBe('INVALID_MESSAGE');
      expect((await send('   ')).errors![0]!.extensions!.code).toBe('INVALID_MESSAGE');
      expect((await send('<p></p>')).errors![0]!.extensions!.code).toBe('INVALID_MESSAGE');
      expect((await send('me?', alice.id)).errors![0]!.extensions!.code).toBe('INVALID_MESSAGE');
      expect((await send('ghost', 2_000_000_000)).errors![0]!.extensions!.code).toBe('NOT_FOUND');
      const stored = await gqlOk(url, 'query($w: Int!) { messages(withUserId: $w) { edges { node { id } } } }', { w: bob.id }, alice.token);
      expect(stored.messages.edges).toHaveLength(3);
    });

    it('shows typing to the other party only, expiring on its own', async () => {
      const [alice, bob] = await Promise.all([registerUser(url), registerUser(url)]);
      const bobTyping = await (await connect(bob)).subscribe(op.SUB_TYPING);
      const aliceTyping = await (await connect(alice)).subscribe(op.SUB_TYPING);
      // Timed from before the request: the server's timer starts after it, however late the `true` arrives here.
      const started = Date.now();
      expect((await gqlOk(url, op.SET_TYPING, { w: bob.id, t: true }, alice.token)).setTyping).toBe(true);
      expect((await bobTyping.next()).typing).toEqual({ userId: alice.id, conversationWith: bob.id, isTyping: true });
      expect((await bobTyping.next(3000)).typing).toEqual({ userId: alice.id, conversationWith: bob.id, isTyping: false });
      expect(Date.now() - started).toBeGreaterThanOrEqual(300);
      // A stop ends an active start at once (one without a start is not relayed: test/security-limits.test.ts).
      await gqlOk(url, op.SET_TYPING, { w: alice.id, t: true }, bob.token);
      expect((await aliceTyping.next()).typing).toEqual({ userId: bob.id, conversationWith: alice.id, isTyping: true });
      await gqlOk(url, op.SET_TYPING, { w: alice.id, t: false }, bob.token);
      expect((await aliceTyping.next()).typing).toEqual({ userId: bob.id, conversationWith: alice.id, isTyping: false });
      expect(aliceTyping.pending).toHaveLength(0);
      expect(await gqlErrorCode(url, op.SET_TYPING, { w: alice.id, t: true }, alice.token)).toBe('INVALID_MESSAGE');
      expect(await gqlErrorCode(url, op.SET_TYPING, { w: 2_000_000_000, t: true }, alice.token)).toBe('NOT_FOUND');
    });
  });

  describe('notifications', () => {
    async function watch(user: TestUser) {
      const socket = await connect(user);
      const unseen = await socket.subscribe(op.SUB_UNSEEN);
      const initial = (await unseen.next()).unseenCount as number;
      const fresh = await socket.subscribe(op.SUB_NOTIFICATION_NEW);
      return { unseen, fresh, initial };
    }

    it('notifies likes once, with actor and target, and never for one’s own action', async () => {
      const [owner, fan] = await Promise.all([registerUser(url, 'owner'), registerUser(url, 'fan', '/avatars/fan.jpg')]);
      const video = (await gqlOk(url, op.CREATE_VIDEO, { t: 'My <i>awesome</i> video', th: '/thumbs/1.jpg' }, owner.token)).createVideo;
      expect(video).toMatchObject({ title: 'My awesome video', thumbUrl: '/thumbs/1.jpg', owner: { id: owner.id } });
      const { unseen, fresh, initial } = await watch(owner);
      expect(initial).toBe(0);

      await gqlOk(url, op.LIKE, { v: video.id }, owner.token); // own like: nothing
      await gqlOk(url, op.LIKE, { v: video.id }, fan.token);
      const like = (await fresh.next()).notificationNew;
      expect(like).toMatchObject({
        userId: owner.id,
        type: 'LIKE',
        refId: video.id,
        seen: false,
        actor: { id: fan.id, username: fan.username, avatarUrl: '/avatars/fan.jpg' },
        target: { type: 'video', id: video.id, title: 'My awesome video', thumbUrl: '/thumbs/1.jpg' },
      });
      expect((await unseen.next()).unseenCount).toBe(1);

      await gqlOk(url, op.UNLIKE, { v: video.id }, fan.token);
      await gqlOk(url, op.LIKE, { v: video.id }, fan.token);
      await gqlOk(url, op.FOLLOW, { u: owner.id }, fan.token); // sentinel
      expect((await fresh.next()).notificationNew.type).toBe('FOLLOW');
      expect((await gqlOk(url, '{ unseenNotificationCount }', {}, owner.token)).unseenNotificationCount).toBe(2);
      expect(await gqlErrorCode(url, op.LIKE, { v: 2_000_000_000 }, fan.token)).toBe('NOT_FOUND');
    });

    it('gives one notification per recipient per comment: reply > mention > comment', async () => {
      const [owner, fan, critic, friend] = await Promise.all([
        registerUser(url, 'owner'),
        registerUser(url, 'fan'),
        registerUser(url, 'critic'),
        registerUser(url, 'friend'),
      ]);
      const video = (await gqlOk(url, op.CREATE_VIDEO, { t: 'Clip' }, owner.token)).createVideo;
      const ownerWatch = await watch(owner);
      const fanWatch = await watch(fan);
      const friendWatch = await watch(friend);

      const top = (await gqlOk(url, op.COMMENT, { v: video.id, c: `nice! @${friend.username.toUpperCase()}.` }, fan.token)).commentOnVideo;
      expect(top).toMatchObject({ parentId: null, author: { id: fan.id }, video: { id: video.id } });
      expect((await ownerWatch.fresh.next()).notificationNew).toMatchObject({
        type: 'COMMENT',
        refId: top.id,
        actor: { id: fan.id },
        target: { type: 'video', id: video.id },
      });
      expect((await friendWatch.fresh.next()).notificationNew).toMatchObject({ type: 'MENTION', refId: top.id });

      // A reply to the fan's comment, mentioning the fan and the owner: the fan gets REPLY only, the owner MENTION.
      const reply = (await gqlOk(url, op.COMMENT, { v: video.id, c: `@${fan.username} agreed, @${owner.username}`, p: top.id }, critic.token)).commentOnVideo;
      expect((await fanWatch.fresh.next()).notificationNew).toMatchObject({ type: 'REPLY', refId: reply.id, actor: { id: critic.id } });
      expect((await ownerWatch.fresh.next()).notificationNew).toMatchObject({ type: 'MENTION', refId: reply.id });

      // A reply to someone else's comment on my video still gives me COMMENT; the author mentioning themselves gets nothing.
      const reply2 = (await gqlOk(url, op.COMMENT, { v: video.id, c: `me @${critic.username}`, p: top.id }, critic.token)).commentOnVideo;
      expect((await ownerWatch.fresh.next()).notificationNew).toMatchObject({ type: 'COMMENT', refId: reply2.id });
      expect((await fanWatch.fresh.next()).notificationNew).toMatchObject({ type: 'REPLY', refId: reply2.id });

      // The owner's own comment notifies no one but the mentioned.
      await gqlOk(url, op.COMMENT, { v: video.id, c: `thanks @${friend.username}` }, owner.token);
      expect((await friendWatch.fresh.next()).notificationNew).toMatchObject({ type: 'MENTION', actor: { id: owner.id } });
      expect(ownerWatch.fresh.pending).toHaveLength(0);

      expect(await gqlErrorCode(url, op.COMMENT, { v: video.id, c: 'x', p: 2_000_000_000 }, fan.token)).toBe('NOT_FOUND');
      expect(await gqlErrorCode(url, op.COMMENT, { v: video.id, c: '' }, fan.token)).toBe('INVALID_MESSAGE');
      const other = (await gqlOk(url, op.CREATE_VIDEO, { t: 'Other' }, owner.token)).createVideo;
      expect(await gqlErrorCode(url, op.COMMENT, { v: other.id, c: 'x', p: top.id }, fan.token)).toBe('INVALID_MESSAGE');
      expect(await gqlErrorCode(url, op.CREATE_VIDEO, { t: 'x'.repeat(201) }, fan.token)).toBe('INVALID_MESSAGE');
    });

    it('notifies follows once, about the follower', async () => {
      const [star, fan] = await Promise.all([registerUser(url, 'star'), registerUser(url, 'fan', '/a/fan.png')]);
      const { fresh } = await watch(star);
      expect((await gqlOk(url, op.FOLLOW, { u: star.id }, fan.token)).followUser).toEqual({ id: star.id, username: star.username });
      expect((await fresh.next()).notificationNew).toMatchObject({
        type: 'FOLLOW',
        refId: fan.id,
        target: { type: 'user', id: fan.id, title: fan.username },
      });
      await gqlOk(url, op.UNFOLLOW, { u: star.id }, fan.token);
      await gqlOk(url, op.FOLLOW, { u: star.id }, fan.token);
      const video = (await gqlOk(url, op.CREATE_VIDEO, { t: 'v' }, star.token)).createVideo;
      await gqlOk(url, op.LIKE, { v: video.id }, fan.token); // sentinel
      expect((await fresh.next()).notificationNew.type).toBe('LIKE');
      expect(await gqlErrorCode(url, op.FOLLOW, { u: fan.id }, fan.token)).toBe('INVALID_MESSAGE');
      expect(await gqlErrorCode(url, op.FOLLOW, { u: 2_000_000_000 }, fan.token)).toBe('NOT_FOUND');
    });

    it('marks seen (own ids only), syncs other devices and pages the list', async () => {
      const [owner, fan, stranger] = await Promise.all([registerUser(url), registerUser(url), registerUser(url)]);
      const video = (await gqlOk(url, op.CREATE_VIDEO, { t: 'v' }, owner.token)).createVideo;
      const { unseen } = await watch(owner);
      const otherDevice = await (await connect(owner)).subscribe(op.SUB_NOTIFICATION_SEEN);
      await gqlOk(url, op.LIKE, { v: video.id }, fan.token);
      await gqlOk(url, op.COMMENT, { v: video.id, c: 'one' }, fan.token);
      await gqlOk(url, op.FOLLOW, { u: owner.id }, fan.token);
      for (const n of [1, 2, 3]) expect((await unseen.next()).unseenCount).toBe(n);

      const list = await gqlOk(url, '{ notifications(first: 2) { edges { node { id type } } pageInfo { hasNextPage endCursor } } }', {}, owner.token);
      expect(list.notifications.edges.map((e: any) => e.node.type)).toEqual(['FOLLOW', 'COMMENT']);
      const [follow, comment] = list.notifications.edges.map((e: any) => e.node.id);
      const rest = await gqlOk(
        url,
        'query($a: String) { notifications(first: 2, after: $a) { edges { node { id type } } pageInfo { hasNextPage } } }',
        { a: list.notifications.pageInfo.endCursor },
        owner.token,
      );
      expect(rest.notifications.edges.map((e: any) => e.node.type)).toEqual(['LIKE']);
      expect(rest.notifications.pageInfo.hasNextPage).toBe(false);

      // A stranger cannot touch them, and learns nothing.
      expect((await gqlOk(url, op.MARK_NOTIFICATIONS_SEEN, { ids: [follow] }, stranger.token)).markNotificationsSeen.notificationIds).toEqual([]);
      const seen = (await gqlOk(url, op.MARK_NOTIFICATIONS_SEEN, { ids: [follow, comment] }, owner.token)).markNotificationsSeen;
      expect(seen.notificationIds).toEqual([comment, follow].sort((a, b) => a - b));
      expect((await otherDevice.next()).notificationSeen).toEqual(seen);
      expect((await unseen.next()).unseenCount).toBe(1);
      const unseenOnly = await gqlOk(url, '{ notifications(unseenOnly: true) { edges { node { type seen } } } }', {}, owner.token);
      expect(unseenOnly.notifications.edges).toEqual([{ node: { type: 'LIKE', seen: false } }]);
      expect((await gqlOk(url, op.MARK_NOTIFICATIONS_SEEN, {}, owner.token)).markNotificationsSeen.notificationIds).toHaveLength(1);
      expect((await unseen.next()).unseenCount).toBe(0);
    });
  });

  it('refuses operations without a token with UNAUTHORIZED', async () => {
    for (const query of ['{ unreadMessageCount }', '{ notifications { edges { cursor } } }', 'mutation { createVideo(title: "x") { id } }']) {
      expect(await gqlErrorCode(url, query)).toBe('UNAUTHORIZED');
    }
  });
};

for (const backend of backends) describe.skipIf(backend === 'postgres' && !DATABASE_URL)(`GraphQL on ${backend}`, suite(backend));
