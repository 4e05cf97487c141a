// Start-up: configuration errors are one clear line, the embedded database keeps data (and the generated
// secret) across restarts, and a second process on the same DATA_DIR is refused.
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';
import { createApp } from '../src/app.ts';
import { DirectoryLockedError } from '../src/db/directory-lock.ts';
import { startServer, tempDir } from './support/server.ts';
import { gqlOk, registerUser } from './support/graphql.ts';
import * as op from './support/operations.ts';

function runMain(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('main.ts did not exit within 20 s'));
    }, 20_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe('configuration', () => {
  it.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ DATABASE_URL: 'mysql://localhost/db' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'not a url' }, 'DATABASE_URL'],
    [{ REDIS_URL: 'localhost:6379' }, 'REDIS_URL'],
    [{ WS_PING_INTERVAL_MS: '-5' }, 'WS_PING_INTERVAL_MS'],
    [{ WS_IDLE_TIMEOUT_MS: '1.5' }, 'WS_IDLE_TIMEOUT_MS'],
    [{ RATE_LIMIT_MESSAGES_PER_MIN: '0' }, 'RATE_LIMIT_MESSAGES_PER_MIN'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ JWT_SECRET: 'short' }, 'JWT_SECRET'],
    [{ NODE_ENV: 'production' }, 'JWT_SECRET'],
    [{ NODE_ENV: 'staging' }, 'NODE_ENV'],
    [{ NODE_ENV: 'prod' }, 'NODE_ENV'],
    [{ JWT_SECRET: 'a'.repeat(64) }, 'JWT_SECRET'],
    [{ JWT_SECRET: 'abcdefg'.repeat(8) }, 'JWT_SECRET'],
    [{ JWT_SECRET: 'correct horse battery staple, and then some' }, 'JWT_SECRET'],
    [{ JWT_SECRET: `${'x1y2z3w4'.repeat(4)}\n` }, 'JWT_SECRET'],
    [{ RATE_LIMIT_GRAPHQL_PER_MIN: '-1' }, 'RATE_LIMIT_GRAPHQL_PER_MIN'],
    [{ GRAPHIQL: 'yes' }, 'GRAPHIQL'],
    [{ DEMO: 'yes' }, 'DEMO'],
    [{ METRICS_TOKEN: 'short' }, 'METRICS_TOKEN'],
    [{ REDIS_CLUSTER_NODES: 'localhost' }, 'REDIS_CLUSTER_NODES'],
    [{ REDIS_CLUSTER_NODES: 'a:7000,http://b:7001' }, 'REDIS_CLUSTER_NODES'],
    [{ REDIS_CLUSTER_NODES: ' , ' }, 'REDIS_CLUSTER_NODES'],
    [{ REDIS_CLUSTER_NODES: 'a:7000', REDIS_URL: 'redis://a:6379' }, 'REDIS_CLUSTER_NODES'],
  ])('refuses %o naming %s', (env, name) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`^Invalid ${name}: `));
  });

  it('takes one Redis server or the seeds of a Redis Cluster', () => {
    expect(loadConfig({ REDIS_URL: 'redis://cache:6379' }).redis).toEqual({ url: 'redis://cache:6379' });
    expect(loadConfig({ REDIS_CLUSTER_NODES: 'a:7000, rediss://:pw@b:7001' }).redis).toEqual({ clusterNodes: ['a:7000', 'rediss://:pw@b:7001'] });
  });

  it('has the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 4000,
      dataDir: './data',
      databaseUrl: undefined,
      redis: undefined,
      ws: { pingIntervalMs: 30_000, pongTimeoutMs: 10_000, idleTimeoutMs: 300_000 },
      typingTimeoutMs: 3000,
      rateLimits: { messagesPerMin: 100, typingPerMin: 10, authPerMin: 300 },
      messageMaxLength: 5000,
      logLevel: 'info',
    });
  });

  it('reads NODE_ENV case-insensitively; production turns introspection and GraphiQL off unless enabled', () => {
    const secret = 'test-secret-test-secret-test-secret-0123456789';
    expect(loadConfig({ NODE_ENV: 'PRODUCTION', JWT_SECRET: secret })).toMatchObject({ production: true, graphql: { introspection: false, graphiql: false } });
    expect(loadConfig({ NODE_ENV: 'Production', JWT_SECRET: secret, GRAPHQL_INTROSPECTION: 'true', GRAPHIQL: '1' })).toMatchObject({
      graphql: { introspection: true, graphiql: true },
    });
    expect(loadConfig({ NODE_ENV: 'Test' })).toMatchObject({ production: false, graphql: { introspection: true, graphiql: true } });
    expect(loadConfig({}).rateLimits.graphqlPerMin).toBe(600);
  });

  it('stops the process with one line naming the variable', async () => {
    const { code, stderr } = await runMain({ PORT: 'abc' });
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/^Cannot start: Invalid PORT: /);
  });
});

describe('embedded database', () => {
  const dirs: string[] = [];
  afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it('keeps data and the generated secret across restarts, and refuses a second process on the same DATA_DIR', { timeout: 120_000 }, async () => {
    const dataDir = await tempDir();
    dirs.push(dataDir);
    const env = { JWT_SECRET: '' }; // unset: generated and kept in DATA_DIR
    let server = await startServer({ backend: 'pglite', dataDir, env });
    const [alice, bob] = await Promise.all([registerUser(server.url), registerUser(server.url)]);
    await gqlOk(server.url, op.SEND, { to: bob.id, c: 'kept' }, alice.token);

    await expect(createApp(loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent' }))).rejects.toBeInstanceOf(DirectoryLockedError);
    const second = await runMain({ DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'silent', DATABASE_URL: '' });
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/^Cannot start: .* is in use by process \d+/);

    await server.close();
    server = await startServer({ backend: 'pglite', dataDir, env });
    try {
      // The old token still works: same secret, same user.
      const page = await gqlOk(server.url, 'query($w: Int!) { messages(withUserId: $w) { edges { node { content } } } }', { w: alice.id }, bob.token);
      expect(page.messages.edges).toEqual([{ node: { content: 'kept' } }]);
    } finally {
      await server.close();
    }
  });
});
