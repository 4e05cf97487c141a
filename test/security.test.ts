// Hardening: the JWT algorithm is pinned, issuer/audience are checked when configured, queries are bounded,
// and no error carries a stack trace or SQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from './support/server.ts';
import { gql, gqlErrorCode, gqlOk, mintToken, registerUser } from './support/graphql.ts';

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('security', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ env: { JWT_ISSUER: 'https://auth.example', JWT_AUDIENCE: 'realtime' } });
  });
  afterAll(async () => server?.close());

  it('accepts its own tokens and pins HS256 with issuer and audience', async () => {
    const alice = await registerUser(server.url);
    expect((await gqlOk(server.url, '{ me { id } }', {}, alice.token)).me.id).toBe(alice.id);
    const claims = { sub: String(alice.id), iss: 'https://auth.example', aud: 'realtime' };
    expect((await gqlOk(server.url, '{ me { id } }', {}, await mintToken(claims))).me.id).toBe(alice.id);

    const rejected = [
      await mintToken(claims, { alg: 'HS512' }),
      await mintToken({ ...claims, iss: 'https://evil.example' }),
      await mintToken({ ...claims, aud: 'other' }),
      await mintToken({ sub: String(alice.id) }),
      `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claims, exp: Math.floor(Date.now() / 1000) + 600 })}.`,
      await mintToken({ ...claims, sub: 'abc' }),
      await mintToken({ ...claims, sub: '-1' }),
    ];
    for (const token of rejected) expect(await gqlErrorCode(server.url, '{ me { id } }', {}, token), token).toBe('UNAUTHORIZED');
  });

  it('refuses queries that cost too much, such as a flood of aliases', async () => {
    const alice = await registerUser(server.url);
    const fine = '{ conversations { edges { node { lastMessage { id content } with { id username } unreadCount } } pageInfo { hasNextPage } } }';
    expect((await gql(server.url, fine, {}, alice.token)).errors).toBeUndefined();
    const flood = `{ ${Array.from({ length: 400 }, (_, i) => `a${i}: conversations { edges { node { with { id username avatarUrl } } } }`).join(' ')} }`;
    const result = await gql(server.url, flood, {}, alice.token);
    expect(result.data ?? null).toBeNull();
    expect(result.errors?.[0]?.message).toMatch(/cost/i);
  });

  it('never returns stack traces or SQL in errors', async () => {
    const alice = await registerUser(server.url);
    const results = [
      await gql(server.url, 'mutation { sendMessage(receiverId: 2000000000, content: "x") { id } }', {}, alice.token),
      await gql(server.url, '{ nope }', {}, alice.token),
      await gql(server.url, 'mutation { markMessagesSeen(conversationWith: 1, messageIds: [99999999999]) { messageIds } }', {}, alice.token),
    ];
    for (const result of results) {
      const text = JSON.stringify(result.errors);
      expect(text).not.toMatch(/stack|at .*\.ts|SELECT|INSERT|prisma/i);
    }
  });
});
