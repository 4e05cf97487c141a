// A user of a token minted elsewhere is created on first use, also when several first uses race (a user's
// devices connecting together): the race is forced with a transaction that holds the row.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from './support/server.ts';
import { DATABASE_URL, announceSkip } from './support/env.ts';
import { mintToken, uniqueName } from './support/graphql.ts';

if (!DATABASE_URL) announceSkip('first-use race on PostgreSQL', 'DATABASE_URL');

/** Resolves once some session waits for a lock (the request reached the held row); bounded in time. */
async function waitForLockWaiter(client: pg.Client) {
  for (const started = Date.now(); Date.now() - started < 10_000;) {
    const { rows } = await client.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock'`);
    if (rows[0].n > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('no session waited for the held row within 10 s');
}

describe.runIf(DATABASE_URL)('first use of a token minted elsewhere', () => {
  let server: TestServer;
  const holder = new pg.Client({ connectionString: DATABASE_URL });
  // Activity views are frozen for the length of a transaction, so the holder cannot watch for the waiter itself.
  const observer = new pg.Client({ connectionString: DATABASE_URL });
  beforeAll(async () => {
    server = await startServer();
    await Promise.all([holder.connect(), observer.connect()]);
  });
  afterAll(async () => {
    await Promise.all([holder.end(), observer.end()]);
    await server?.close();
  });

  it('lets in the request that waited for a concurrent creation of the same user', async () => {
    const id = 1_500_000_000 + Math.floor(Math.random() * 400_000_000);
    const username = uniqueName('race');
    await holder.query('BEGIN');
    await holder.query('INSERT INTO "User" ("id", "username", "usernameKey") VALUES ($1, $2, $3)', [id, username, username.toLowerCase()]);
    // This first use blocks on the uncommitted row; once it commits, the insert does nothing and must still find it.
    const waiting = server.app.domain.accounts.authenticate(await mintToken({ sub: String(id), username }));
    try {
      await waitForLockWaiter(observer);
    } finally {
      await holder.query('COMMIT');
    }
    await expect(waiting).resolves.toMatchObject({ userId: id });
  });

  it('still refuses a username that belongs to another user', async () => {
    const taken = uniqueName('taken');
    await holder.query('INSERT INTO "User" ("id", "username", "usernameKey") VALUES ($1, $2, $3)', [
      1_000_000 + Math.floor(Math.random() * 400_000_000),
      taken,
      taken,
    ]);
    const token = await mintToken({ sub: String(1_950_000_000 + Math.floor(Math.random() * 1000)), username: taken });
    await expect(server.app.domain.accounts.authenticate(token)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });
});
