// Two instances sharing PostgreSQL and Redis: events cross from one to the other, and data outlives an instance.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { captureLogs, ERROR_LEVEL, startServer, type TestServer } from './support/server.ts';
import { DATABASE_URL, REDIS_URL, announceSkip } from './support/env.ts';
import { connectGraphQLWs, gqlOk, registerUser, type GraphQLSocket } from './support/graphql.ts';
import * as op from './support/operations.ts';

const enabled = Boolean(DATABASE_URL && REDIS_URL);
if (!enabled) announceSkip('two-instance scale-out suite', 'DATABASE_URL and REDIS_URL');

describe.runIf(enabled)('two instances on PostgreSQL + Redis', () => {
  let one: TestServer;
  let two: TestServer;
  const sockets: GraphQLSocket[] = [];
  const env = { REDIS_URL: REDIS_URL!, TYPING_TIMEOUT_MS: '300' };

  beforeAll(async () => {
    [one, two] = await Promise.all([startServer({ env }), startServer({ env })]);
  });
  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.close()));
    await Promise.all([one?.close(), two?.close()]);
  });

  const connect = async (server: TestServer, token: string) => {
    const socket = await connectGraphQLWs(server.wsUrl, { token });
    sockets.push(socket);
    return socket;
  };

  it('delivers messages, counts, receipts and typing caused on instance 1 to a subscriber on instance 2', async () => {
    const [alice, bob] = await Promise.all([registerUser(one.url), registerUser(one.url)]);
    const bobOnTwo = await connect(two, bob.token);
    const messages = await bobOnTwo.subscribe(op.SUB_MESSAGE_NEW);
    const unread = await bobOnTwo.subscribe(op.SUB_UNREAD);
    expect((await unread.next()).unreadMessageCount).toBe(0);
    const typing = await bobOnTwo.subscribe(op.SUB_TYPING);
    const receipts = await (await connect(one, alice.token)).subscribe(op.SUB_MESSAGE_SEEN);

    const sent = (await gqlOk(one.url, op.SEND, { to: bob.id, c: 'across instances' }, alice.token)).sendMessage;
    expect((await messages.next()).messageNew).toEqual(sent);
    expect((await unread.next()).unreadMessageCount).toBe(1);

    await gqlOk(one.url, op.SET_TYPING, { w: bob.id, t: true }, alice.token);
    expect((await typing.next()).typing).toEqual({ userId: alice.id, conversationWith: bob.id, isTyping: true });
    expect((await typing.next()).typing.isTyping).toBe(false);

    // Bob reads on instance 2; Alice's receipt arrives on instance 1.
    await gqlOk(two.url, op.MARK_SEEN, { w: alice.id }, bob.token);
    expect((await receipts.next()).messageSeen.messageIds).toEqual([sent.id]);
    expect((await unread.next()).unreadMessageCount).toBe(0);
  });

  it('delivers notifications caused on instance 1 to every device of the recipient on both instances', async () => {
    const [owner, fan] = await Promise.all([registerUser(one.url), registerUser(two.url)]);
    const video = (await gqlOk(two.url, op.CREATE_VIDEO, { t: 'cross' }, owner.token)).createVideo;
    const onTwo = await (await connect(two, owner.token)).subscribe(op.SUB_NOTIFICATION_NEW);
    const onOne = await (await connect(one, owner.token)).subscribe(op.SUB_NOTIFICATION_NEW);
    const unseen = await (await connect(two, owner.token)).subscribe(op.SUB_UNSEEN);
    expect((await unseen.next()).unseenCount).toBe(0);

    await gqlOk(one.url, op.LIKE, { v: video.id }, fan.token);
    for (const inbox of [onTwo, onOne]) {
      expect((await inbox.next()).notificationNew).toMatchObject({
        type: 'LIKE',
        refId: video.id,
        actor: { id: fan.id },
        target: { id: video.id, title: 'cross' },
      });
    }
    expect((await unseen.next()).unseenCount).toBe(1);
    // Exactly once each, despite the relay through Redis: the next event is the next action.
    await gqlOk(one.url, op.FOLLOW, { u: owner.id }, fan.token);
    for (const inbox of [onTwo, onOne]) expect((await inbox.next()).notificationNew.type).toBe('FOLLOW');
  });

  it('keeps everything when an instance is replaced', async () => {
    const [alice, bob] = await Promise.all([registerUser(two.url), registerUser(two.url)]);
    await gqlOk(two.url, op.SEND, { to: bob.id, c: 'before restart' }, alice.token);
    await two.close();
    two = await startServer({ env });
    const page = await gqlOk(two.url, 'query($w: Int!) { messages(withUserId: $w) { edges { node { content } } } }', { w: alice.id }, bob.token);
    expect(page.messages.edges.map((e: any) => e.node.content)).toEqual(['before restart']);
    expect((await gqlOk(two.url, '{ unreadMessageCount }', {}, bob.token)).unreadMessageCount).toBe(1);
  });

  it('logs and drops a message on a user channel that is not a relay, and goes on delivering', async () => {
    const { logger, records } = captureLogs();
    const three = await startServer({ env, logger });
    const redis = new Redis(REDIS_URL!);
    try {
      const [alice, bob] = await Promise.all([registerUser(one.url), registerUser(one.url)]);
      const messages = await (await connect(three, bob.token)).subscribe(op.SUB_MESSAGE_NEW);
      expect(await redis.publish(`user:${bob.id}`, 'not a relay {')).toBe(1);
      const sent = (await gqlOk(one.url, op.SEND, { to: bob.id, c: 'after the noise' }, alice.token)).sendMessage;
      expect((await messages.next()).messageNew).toEqual(sent);
      expect(records.filter((r) => r.level >= ERROR_LEVEL).map((r) => r.msg)).toEqual(['unreadable message on a user channel']);
    } finally {
      redis.disconnect();
      await three.close();
    }
  });
});
