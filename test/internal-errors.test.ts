// Internal errors reach clients as INTERNAL_ERROR with a fixed message, never their cause (no stack, SQL or driver
// text), on every transport, and the cause is logged. A real internal error needs a real fault: a database of its
// own that stops taking connections mid-test. PGlite runs in-process and cannot be cut off, hence PostgreSQL only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_URL, announceSkip } from './support/env.ts';
import { ScratchDatabase } from './support/scratch-database.ts';
import { ERROR_LEVEL, captureLogs, startServer, type TestServer } from './support/server.ts';
import { connectGraphQLWs, gql, registerUser, withTimeout, type TestUser } from './support/graphql.ts';
import { connectJsonSocket } from './support/json-socket.ts';

const LEAKS = /stack|at .*\.ts|SELECT|INSERT|UPDATE|prisma|ECONNREFUSED|terminat|postgres/i;

if (!DATABASE_URL) announceSkip('internal errors (database cut off)', 'DATABASE_URL');
describe.runIf(DATABASE_URL)('internal errors with the database gone', () => {
  let database: ScratchDatabase;
  let server: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  const logs = captureLogs();

  beforeAll(async () => {
    database = await ScratchDatabase.create(DATABASE_URL!, 'rt_internal');
    server = await startServer({ env: { DATABASE_URL: database.url }, logger: logs.logger });
    [alice, bob] = await Promise.all([registerUser(server.url), registerUser(server.url)]);
  });
  afterAll(async () => {
    await server?.close();
    await database?.drop();
  });

  it('GraphQL over HTTP and graphql-ws, and the JSON socket, answer INTERNAL_ERROR without the cause, and log it', async () => {
    const graphqlWs = await connectGraphQLWs(server.wsUrl, { token: alice.token });
    const json = await connectJsonSocket(server.wsUrl, bob);
    try {
      await database.cutOff();

      const overHttp = await gql(server.url, '{ conversations { edges { cursor } } }', {}, alice.token);
      expect(overHttp.errors?.map((e) => [e.message, e.extensions?.code])).toEqual([['Internal server error', 'INTERNAL_ERROR']]);
      expect(JSON.stringify(overHttp)).not.toMatch(LEAKS);

      const overSocket = await withTimeout(
        new Promise<any>((resolve) => {
          const stop = graphqlWs.client.subscribe(
            { query: `mutation { sendMessage(receiverId: ${bob.id}, content: "x") { id } }` },
            { next: (value) => (stop(), resolve(value)), error: resolve, complete: () => undefined },
          );
        }),
        10_000,
        'graphql-ws answer',
      );
      expect(overSocket.errors?.map((e: any) => [e.message, e.extensions?.code])).toEqual([['Internal server error', 'INTERNAL_ERROR']]);
      expect(JSON.stringify(overSocket)).not.toMatch(LEAKS);

      json.send({ type: 'notification:mark_seen' });
      const frame = await json.next('error', 10_000);
      expect(frame.error).toMatchObject({ code: 'INTERNAL_ERROR', message: 'Internal server error' });
      expect(JSON.stringify(frame)).not.toMatch(LEAKS);
      expect(json.ws.readyState).toBe(json.ws.OPEN);

      const logged = logs.records.filter((r) => r.level >= ERROR_LEVEL).map((r) => r.msg);
      expect(logged).toEqual(expect.arrayContaining(['graphql resolver failed', 'json socket frame failed']));
    } finally {
      await database.restore();
      await Promise.all([graphqlWs.close(), json.close()]);
    }
  });
});
