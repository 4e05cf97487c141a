// Rate limits are per user, shared by every instance through Redis: requests spread over three instances still
// stop at the limit, and nothing over it is stored or delivered.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from './support/server.ts';
import { DATABASE_URL, REDIS_URL, announceSkip } from './support/env.ts';
import { connectGraphQLWs, gql, gqlOk, registerUser, type GraphQLSocket } from './support/graphql.ts';
import * as op from './support/operations.ts';

const enabled = Boolean(DATABASE_URL && REDIS_URL);
if (!enabled) announceSkip('rate limits shared by three instances', 'DATABASE_URL and REDIS_URL');

describe.runIf(enabled)('rate limits across three instances', () => {
  let servers: TestServer[] = [];
  const sockets: GraphQLSocket[] = [];
  const env = { REDIS_URL: REDIS_URL!, RATE_LIMIT_MESSAGES_PER_MIN: '5', RATE_LIMIT_TYPING_PER_MIN: '3' };

  beforeAll(async () => {
    servers = await Promise.all([startServer({ env }), startServer({ env }), startServer({ env })]);
  });
  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.close()));
    await Promise.all(servers.map((s) => s.close()));
  });

  it('stops messages at the per-user limit wherever they are sent, storing and delivering none over it', async () => {
    const [alice, bob, carol] = await Promise.all([registerUser(servers[0]!.url), registerUser(servers[0]!.url), registerUser(servers[0]!.url)]);
    const bobSocket = await connectGraphQLWs(servers[1]!.wsUrl, { token: bob.token });
    sockets.push(bobSocket);
    const inbox = await bobSocket.subscribe(op.SUB_MESSAGE_NEW);

    const results = [];
    for (let i = 0; i < 8; i++) results.push(await gql(servers[i % 3]!.url, op.SEND, { to: bob.id, c: `m${i}` }, alice.token));
    const accepted = results.filter((r) => r.data?.sendMessage);
    const refused = results.filter((r) => r.errors);
    expect(accepted).toHaveLength(5);
    expect(refused).toHaveLength(3);
    for (const r of refused) {
      expect(r.errors![0]!.extensions!.code).toBe('RATE_LIMIT');
      expect(r.errors![0]!.extensions!.retryAfterMs).toBeGreaterThan(0);
      expect(r.errors![0]!.extensions!.retryAfterMs).toBeLessThanOrEqual(60_000);
    }
    for (let i = 0; i < 5; i++) expect((await inbox.next()).messageNew.content).toBe(`m${i}`);
    // The limit is Alice's alone: Carol still sends, and Bob's next message is hers (nothing over the limit came).
    await gqlOk(servers[2]!.url, op.SEND, { to: bob.id, c: 'from carol' }, carol.token);
    expect((await inbox.next()).messageNew.content).toBe('from carol');
    const stored = await gqlOk(
      servers[0]!.url,
      'query($w: Int!) { messages(withUserId: $w, first: 100) { edges { node { id } } } }',
      { w: alice.id },
      bob.token,
    );
    expect(stored.messages.edges).toHaveLength(5);
  });

  it('limits typing starts, but never a stop', async () => {
    const [alice, bob] = await Promise.all([registerUser(servers[0]!.url), registerUser(servers[0]!.url)]);
    const codes = [];
    for (let i = 0; i < 5; i++) {
      const r = await gql(servers[i % 3]!.url, op.SET_TYPING, { w: bob.id, t: true }, alice.token);
      codes.push(r.errors?.[0]?.extensions?.code ?? 'ok');
    }
    expect(codes).toEqual(['ok', 'ok', 'ok', 'RATE_LIMIT', 'RATE_LIMIT']);
    expect((await gql(servers[1]!.url, op.SET_TYPING, { w: bob.id, t: false }, alice.token)).data).toEqual({ setTyping: false });
  });
});
