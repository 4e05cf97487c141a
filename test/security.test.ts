// Hardening: the JWT algorithm is pinned, issuer/audience are checked when configured, queries are bounded,
// and no error a client causes carries a stack trace or SQL.
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from './support/server.ts';
import { connectGraphQLWs, gql, gqlErrorCode, gqlOk, mintToken, registerUser, uniqueName, withTimeout } from './support/graphql.ts';
import * as op from './support/operations.ts';

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
    // The cost counts every aliased field and multiplies by the page size asked for.
    const costly = `{ ${Array.from({ length: 10 }, (_, i) => `a${i}: conversations(first: 100) { edges { node { with { id username avatarUrl } } } }`).join(' ')} }`;
    const result = await gql(server.url, costly, {}, alice.token);
    expect(result.data ?? null).toBeNull();
    expect(result.errors?.[0]?.message).toMatch(/cost limit/i);
    // A flood of aliases meets the token limit (security-graphql.test.ts) before anything else is counted.
    const flood = `{ ${Array.from({ length: 400 }, (_, i) => `a${i}: conversations { edges { node { with { id username avatarUrl } } } }`).join(' ')} }`;
    expect((await gql(server.url, flood, {}, alice.token)).errors?.[0]?.message).toMatch(/Token limit/);
  });

  // Internal errors (a database gone) are provoked in internal-errors.test.ts.
  it('answers client mistakes (an unknown receiver, an unknown field, an id beyond 32 bits) without stack traces or SQL', async () => {
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

describe('payload and socket admission limits', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ env: { WS_ALLOWED_ORIGINS: 'https://app.example', RATE_LIMIT_CONNECTIONS_PER_MIN: '3' } });
  });
  afterAll(async () => server?.close());

  it('refuses GraphQL bodies that are too large or of undeclared size', async () => {
    const big = JSON.stringify({ query: `{ me { id } }${' '.repeat(1024 * 1024)}` });
    const tooLarge = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: big,
      signal: AbortSignal.timeout(5000),
    });
    expect(tooLarge.status).toBe(413);
    const stream = new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode('{"query":"{ __typename }"}')), c.close()) });
    const chunked = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: stream,
      duplex: 'half',
      signal: AbortSignal.timeout(5000),
    } as RequestInit);
    expect(chunked.status).toBe(411);
  });

  it('refuses sockets from foreign browser origins and past the per-IP attempt limit', async () => {
    const user = await registerUser(server.url);
    const attempt = (headers: Record<string, string>) =>
      new Promise<number>((resolve, reject) => {
        const ws = new WebSocket(`${server.wsUrl}/api/v1/ws?token=${user.token}`, { headers, localAddress: '127.0.0.9' });
        ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.once('open', () => {
          ws.close();
          resolve(101);
        });
        ws.once('error', reject);
        setTimeout(() => reject(new Error('no answer within 5 s')), 5000).unref();
      });
    expect(await attempt({ origin: 'https://evil.example' })).toBe(403);
    expect(await attempt({ origin: 'https://app.example' })).toBe(101);
    expect(await attempt({})).toBe(101);
    expect(await attempt({})).toBe(101);
    expect(await attempt({})).toBe(429);
  });

  it('bounds connection attempts per user across addresses and transports (close 4429)', async () => {
    const user = await registerUser(server.url);
    // Each attempt from its own loopback address, so the per-IP limit is not what stops them.
    const json = (address: string) =>
      new Promise<number>((resolve, reject) => {
        const ws = new WebSocket(`${server.wsUrl}/api/v1/ws?token=${user.token}`, { localAddress: address });
        ws.on('message', (data) => {
          if (JSON.parse(String(data)).type === 'connected') ws.close(1000);
        });
        ws.once('close', (code) => resolve(code));
        ws.once('error', reject);
        setTimeout(() => reject(new Error('no close within 5 s')), 5000).unref();
      });
    expect(await json('127.0.0.2')).toBe(1000);
    expect(await json('127.0.0.3')).toBe(1000);
    const graphqlWs = await connectGraphQLWs(server.wsUrl, { token: user.token });
    await graphqlWs.close();
    expect(await json('127.0.0.5')).toBe(4429);
    const refused = await connectGraphQLWs(server.wsUrl, { token: user.token }).then(
      () => 'connected',
      (event: { code?: number }) => event.code,
    );
    expect(refused).toBe(4429);
  });
});

describe('client addresses behind a load balancer', () => {
  const register = (url: string, forwardedFor: string) =>
    gql(url, 'mutation($u: String!) { register(username: $u, password: "long enough") { token } }', { u: uniqueName() }, undefined, {
      'x-forwarded-for': forwardedFor,
    });

  it.each([
    [true, ['ok', 'ok', 'RATE_LIMIT', 'ok']],
    [false, ['ok', 'ok', 'RATE_LIMIT', 'RATE_LIMIT']],
  ])('TRUST_PROXY=%s: per-IP limits count the forwarded client (%j)', async (trustProxy, expected) => {
    const server = await startServer({ env: { TRUST_PROXY: String(trustProxy), RATE_LIMIT_AUTH_PER_MIN: '2' } });
    try {
      const codes = [];
      for (const client of ['127.0.0.41', '10.0.0.1, 127.0.0.41', '127.0.0.41', '127.0.0.42']) {
        const result = await register(server.url, client);
        codes.push(result.errors?.[0]?.extensions?.code ?? 'ok');
      }
      expect(codes).toEqual(expected);
    } finally {
      await server.close();
    }
  });
});

describe('GraphiQL', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => server?.close());

  // GraphiQL cannot put its Headers into graphql-ws connectionParams, so it subscribes over SSE on /graphql.
  it('subscribes over SSE with the Authorization header, as GraphiQL does', async () => {
    const [alice, bob] = await Promise.all([registerUser(server.url), registerUser(server.url)]);
    const abort = new AbortController();
    const res = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${bob.token}` },
      body: JSON.stringify({ query: 'subscription { unreadMessageCount }' }),
      signal: abort.signal,
    });
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    const counts: number[] = [];
    try {
      let buffer = '';
      while (counts.length < 2) {
        const { value, done } = await withTimeout(reader.read(), 5000, 'SSE event');
        if (done) break;
        buffer += value;
        for (const match of buffer.matchAll(/^data: (.+)$/gm)) counts.push(JSON.parse(match[1]!).data.unreadMessageCount);
        buffer = buffer.slice(buffer.lastIndexOf('\n') + 1);
        if (counts.length === 1) await gqlOk(server.url, op.SEND, { to: bob.id, c: 'hi over SSE' }, alice.token);
      }
    } finally {
      abort.abort();
    }
    expect(counts).toEqual([0, 1]);
  });

  it('is served whole by the server, with no script or style from another host (it works on closed networks)', async () => {
    const res = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html' }, signal: AbortSignal.timeout(10_000) });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('Realtime API');
    expect(html).not.toMatch(/<(script|link)[^>]+(src|href)=["']?https?:\/\//i);
  });
});
