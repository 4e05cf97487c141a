// The service behind PgBouncer in transaction mode, as docs/operations.md deploys it for many instances: every
// statement may run on another server connection, so nothing may rely on session state (named prepared statements,
// session advisory locks, SET). Few server connections for many clients make the reassignment happen.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startServer, type TestServer } from './support/server.ts';
import { DATABASE_URL, announceSkip } from './support/env.ts';
import { freePort } from './support/redis-server.ts';
import { gqlOk, registerUser } from './support/graphql.ts';
import { connectJsonSocket, STATEFUL } from './support/json-socket.ts';
import { eventually } from './support/eventually.ts';
import * as op from './support/operations.ts';

const pgbouncer = await promisify(execFile)('pgbouncer', ['--version']).then(
  () => true,
  () => false,
);
if (!pgbouncer) console.warn('\n*** SKIPPED: PgBouncer suite — pgbouncer is not installed (apt-get install pgbouncer); CI installs it. ***\n');
if (!DATABASE_URL) announceSkip('PgBouncer suite', 'DATABASE_URL');

describe.runIf(pgbouncer && DATABASE_URL)('behind PgBouncer in transaction mode', { timeout: 60_000 }, () => {
  let dir: string;
  let bouncer: ChildProcess;
  let pooledUrl: string;
  let server: TestServer;
  let bouncerLog = '';

  beforeAll(async () => {
    const direct = new URL(DATABASE_URL!);
    const port = await freePort();
    dir = await mkdtemp(path.join(tmpdir(), 'rt-pgbouncer-'));
    const database = direct.pathname.slice(1);
    await writeFile(path.join(dir, 'users.txt'), `"${decodeURIComponent(direct.username)}" "${decodeURIComponent(direct.password)}"\n`);
    await writeFile(
      path.join(dir, 'pgbouncer.ini'),
      [
        '[databases]',
        `${database} = host=${direct.hostname} port=${direct.port || 5432} dbname=${database}`,
        '[pgbouncer]',
        `listen_addr = 127.0.0.1`,
        `listen_port = ${port}`,
        `unix_socket_dir =`,
        `auth_type = trust`,
        `auth_file = ${path.join(dir, 'users.txt')}`,
        'pool_mode = transaction',
        // Two server connections for the instance's pool of ten: statements of one client land on either.
        'default_pool_size = 2',
        'max_client_conn = 100',
      ].join('\n'),
    );
    // PgBouncer refuses to run as root; it drops to the postgres user, which must read its files.
    await chmod(dir, 0o755);
    const asRoot = process.getuid?.() === 0;
    bouncer = spawn('pgbouncer', [...(asRoot ? ['-u', 'postgres'] : []), path.join(dir, 'pgbouncer.ini')], { stdio: ['ignore', 'ignore', 'pipe'] });
    bouncer.stderr!.on('data', (chunk: Buffer) => (bouncerLog += chunk.toString()));
    pooledUrl = `postgresql://${direct.username}${direct.password ? `:${direct.password}` : ''}@127.0.0.1:${port}/${database}`;
    await eventually(
      'pgbouncer answers',
      async () => {
        const client = new pg.Client({ connectionString: pooledUrl, connectionTimeoutMillis: 1000 });
        client.on('error', () => undefined);
        return client.connect().then(
          () => client.end().then(() => true),
          () => false,
        );
      },
      10_000,
    );
    server = await startServer({ env: { DATABASE_URL: pooledUrl, DATABASE_DIRECT_URL: DATABASE_URL! } });
  });
  afterAll(async () => {
    await server?.close();
    bouncer?.kill('SIGTERM');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('registers, sends, delivers, counts, marks seen and resumes with every statement on a shared server connection', async () => {
    const [alice, bob] = await Promise.all([registerUser(server.url), registerUser(server.url)]);
    const socket = await connectJsonSocket(server.wsUrl, bob);
    // Concurrent sends from many client connections over two server connections.
    const sent = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => (await gqlOk(server.url, op.SEND, { to: bob.id, c: `#${i}` }, alice.token)).sendMessage),
    );
    const got: string[] = [];
    while (got.length < sent.length) {
      const frame = await socket.next(undefined, 10_000);
      if (frame.type === 'message:new') got.push(frame.data.id);
      else expect(STATEFUL.has(frame.type)).toBe(true);
    }
    expect(new Set(got)).toEqual(new Set(sent.map((m) => m.id)));
    await gqlOk(server.url, op.MARK_SEEN, { w: alice.id }, bob.token);
    const cursor = socket.cursors[0]!;
    await socket.close();
    // A resume replays from the stream (raw queries of stream-hub's repair and the replay).
    const resumed = await connectJsonSocket(server.wsUrl, bob, { cursor });
    expect(resumed.resumed).toBe(true);
    expect(resumed.unreadCount).toBe(0);
    await resumed.close();
  });
});
